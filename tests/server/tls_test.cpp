// TLS and mutual TLS with certificates generated at test time (openssl req).

#include "server/fixture.hpp"
#include "server/tls_context.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <cstdlib>

using namespace vellum;
using namespace vellum::test;

namespace {

// A CA, a server certificate for 127.0.0.1 and a client certificate, all
// P-256, valid for a day, in a temporary directory.
struct test_pki {
  temp_dir dir;
  std::string path(const std::string& name) const { return dir.str() + "/" + name; }

  void run(const std::string& cmd) const {
    auto full = cmd + " >" + path("openssl.log") + " 2>&1";
    BOOST_REQUIRE_MESSAGE(std::system(full.c_str()) == 0, "failed: " + cmd + "\n" + read_text(path("openssl.log")));
  }

  void issue(const std::string& name, const std::string& cn, const std::string& ext) const {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + path(name + ".key") +
        " -out " + path(name + ".csr") + " -subj /CN=" + cn);
    std::ofstream(path(name + ".ext")) << ext << "\n";
    run("openssl x509 -req -in " + path(name + ".csr") + " -CA " + path("ca.crt") + " -CAkey " + path("ca.key") +
        " -CAcreateserial -days 1 -out " + path(name + ".crt") + " -extfile " + path(name + ".ext"));
  }

  test_pki() {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + path("ca.key") +
        " -out " + path("ca.crt") + " -days 1 -subj /CN=vellum-test-ca");
    issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    issue("client", "ehr-client", "extendedKeyUsage=clientAuth");
  }

  // Serves with this PKI's server certificate.
  void serve(server::config& c) const {
    c.tls.cert_file = path("server.crt");
    c.tls.key_file = path("server.key");
  }

  tls_client_options client(bool with_cert) const {
    tls_client_options o;
    o.ca_file = path("ca.crt");
    if (with_cert) {
      o.cert_file = path("client.crt");
      o.key_file = path("client.key");
    }
    return o;
  }
};

// Connects and GETs target; returns the status, or 0 if the TLS connection
// was refused (during the handshake or, with TLS 1.3, at the first read).
unsigned tls_get(std::uint16_t port, const tls_client_options& o, const std::string& target,
                 const header_list& headers = {}) {
  try {
    http_client c(port, o, std::chrono::seconds(5));
    return c.get(target, headers).status;
  } catch (const std::exception&) {
    return 0;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls)

BOOST_AUTO_TEST_CASE(serves_https_with_the_configured_certificate) {
  test_pki pki;
  identities ids;
  running_server srv(ids, [&](server::config& c) { pki.serve(c); });
  BOOST_TEST(srv.server().tls());
  BOOST_TEST(tls_get(srv.port(), pki.client(false), "/healthz") == 200u);
  BOOST_TEST(tls_get(srv.port(), pki.client(false), "/v1/log/events") == 401u);
  BOOST_TEST(tls_get(srv.port(), pki.client(false), "/v1/log/events", bearer(ids.reader_token)) == 200u);
  // A plain-HTTP client gets no answer from a TLS port.
  bool plain_failed = false;
  try {
    http_client c(srv.port(), std::nullopt, std::chrono::seconds(3));
    plain_failed = c.get("/healthz").status != 200u;
  } catch (const std::exception&) {
    plain_failed = true;
  }
  BOOST_TEST(plain_failed);
}

BOOST_AUTO_TEST_CASE(requires_a_client_certificate_from_the_configured_ca_when_mutual_tls_is_required) {
  test_pki pki;
  identities ids;
  running_server srv(ids, [&](server::config& c) {
    pki.serve(c);
    c.tls.client_ca_file = pki.path("ca.crt");
    c.tls.require_client_cert = true;
  });
  BOOST_TEST(tls_get(srv.port(), pki.client(false), "/healthz") == 0u);
  // A verified client certificate grants the reader role without a token.
  BOOST_TEST(tls_get(srv.port(), pki.client(true), "/v1/log/events") == 200u);
  BOOST_TEST(tls_get(srv.port(), pki.client(true), "/metrics") == 401u);
  BOOST_TEST(tls_get(srv.port(), pki.client(true), "/metrics", bearer(ids.admin_token)) == 200u);
}

BOOST_AUTO_TEST_CASE(accepts_clients_without_certificates_when_mutual_tls_is_optional) {
  test_pki pki;
  identities ids;
  running_server srv(ids, [&](server::config& c) {
    pki.serve(c);
    c.tls.client_ca_file = pki.path("ca.crt");
  });
  BOOST_TEST(tls_get(srv.port(), pki.client(false), "/v1/log/events") == 401u);
  BOOST_TEST(tls_get(srv.port(), pki.client(true), "/v1/log/events") == 200u);
}

BOOST_AUTO_TEST_CASE(speaks_tls_1_2_and_1_3_and_refuses_older_versions_with_a_protocol_alert) {
  test_pki pki;
  identities ids;
  running_server srv(ids, [&](server::config& c) { pki.serve(c); });
  for (int v : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto o = pki.client(false);
    o.min_version = v;
    o.max_version = v;
    BOOST_TEST(tls_get(srv.port(), o, "/healthz") == 200u, "version " << std::hex << v);
  }
  for (int v : {TLS1_VERSION, TLS1_1_VERSION}) {
    auto o = pki.client(false);
    o.min_version = v;
    o.max_version = v;
    std::string refusal;
    try {
      http_client c(srv.port(), o, std::chrono::seconds(5));
      c.get("/healthz");
    } catch (const std::exception& e) {
      refusal = e.what();
    }
    // The server's protocol_version alert, not a client that never offered
    // the version ("no protocols available").
    BOOST_TEST(refusal.find("protocol version") != std::string::npos,
               "version " << std::hex << v << ": " << refusal);
  }
}

BOOST_AUTO_TEST_CASE(offers_only_forward_secret_aead_ciphers_on_tls_1_2_by_default_and_as_configured) {
  test_pki pki;
  identities ids;
  auto refused = [&](std::uint16_t port, const std::string& ciphers) {
    auto o = pki.client(false);
    o.min_version = o.max_version = TLS1_2_VERSION;
    o.ciphers = ciphers;
    try {
      http_client c(port, o, std::chrono::seconds(5));
      return c.get("/healthz").status != 200u;
    } catch (const std::exception&) {
      return true;
    }
  };
  {
    running_server srv(ids, [&](server::config& c) { pki.serve(c); });
    BOOST_TEST(!refused(srv.port(), "ECDHE-ECDSA-AES128-GCM-SHA256"));
    BOOST_TEST(!refused(srv.port(), "ECDHE-ECDSA-CHACHA20-POLY1305"));
    BOOST_TEST(refused(srv.port(), "ECDHE-ECDSA-AES128-SHA"));     // CBC
    BOOST_TEST(refused(srv.port(), "ECDHE-ECDSA-AES256-SHA384"));  // CBC
  }
  {
    running_server srv(ids, [&](server::config& c) {
      pki.serve(c);
      c.tls.ciphers = "ECDHE-ECDSA-AES256-GCM-SHA384";
    });
    BOOST_TEST(!refused(srv.port(), "ECDHE-ECDSA-AES256-GCM-SHA384"));
    BOOST_TEST(refused(srv.port(), "ECDHE-ECDSA-AES128-GCM-SHA256"));
  }
  // An unknown cipher list is a configuration error naming the key.
  server::config c;
  pki.serve(c);
  c.tls.ciphers = "NO-SUCH-CIPHER";
  try {
    (void)server::make_tls_context(c.tls);
    BOOST_FAIL("an unknown cipher list was accepted");
  } catch (const server::config_error& e) {
    BOOST_TEST(std::string(e.what()).find("tls.ciphers") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(refuses_to_start_with_unreadable_tls_files_naming_the_key) {
  identities ids;
  std::string what;
  try {
    running_server srv(ids, [](server::config& c) {
      c.tls.cert_file = "/nonexistent/server.crt";
      c.tls.key_file = "/nonexistent/server.key";
    });
  } catch (const server::config_error& e) {
    what = e.what();
  }
  BOOST_TEST(what.rfind("tls.cert_file:", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
