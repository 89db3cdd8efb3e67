// TLS and mutual TLS with certificates generated at test time (openssl req).

#include "server/fixture.hpp"
#include "server/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/ssl.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

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
    issue("intruder", "intruder", "extendedKeyUsage=clientAuth");
    issue("san-client", "some-box", "subjectAltName=DNS:ehr.ward-7.example,email:ops@ward-7.example\nextendedKeyUsage=clientAuth");
  }

  // Serves with this PKI's server certificate.
  void serve(server::config& c) const {
    c.tls.cert_file = path("server.crt");
    c.tls.key_file = path("server.key");
  }

  tls_client_options client(bool with_cert) const { return with_cert ? client_as("client") : client_as(""); }

  // Presents the certificate issued as `name` ("": none).
  tls_client_options client_as(const std::string& name) const {
    tls_client_options o;
    o.ca_file = path("ca.crt");
    if (!name.empty()) {
      o.cert_file = path(name + ".crt");
      o.key_file = path(name + ".key");
    }
    return o;
  }

  // Revokes the certificate issued as `name` and writes the CA's CRL to
  // ca.crl (openssl ca with a minimal database in the directory).
  void revoke(const std::string& name) const {
    if (!std::filesystem::exists(path("index.txt"))) {
      std::ofstream(path("index.txt")).flush();
      std::ofstream(path("crlnumber")) << "01\n";
      std::ofstream(path("ca.cnf")) << "[ca]\ndefault_ca=d\n[d]\ndatabase=" << path("index.txt")
                                    << "\ncrlnumber=" << path("crlnumber") << "\ndefault_md=sha256\ndefault_crl_days=1\n";
    }
    const std::string ca = "openssl ca -config " + path("ca.cnf") + " -keyfile " + path("ca.key") + " -cert " + path("ca.crt");
    run(ca + " -revoke " + path(name + ".crt"));
    run(ca + " -gencrl -out " + path("ca.crl"));
  }
};

// Sends what the server writes on stderr (its log) to a file while alive.
class stderr_capture {
 public:
  explicit stderr_capture(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    BOOST_REQUIRE(saved_ >= 0 && fd >= 0);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  // The first line holding every one of `parts`, waiting up to 5 s for the
  // server's threads to write it; empty if none came.
  std::string line_with(std::initializer_list<std::string_view> parts) const {
    for (int i = 0; i < 100; ++i) {
      std::fflush(stderr);
      std::istringstream in(read_text(path_));
      for (std::string line; std::getline(in, line);) {
        bool all = true;
        for (auto p : parts) all = all && line.find(p) != std::string::npos;
        if (all) return line;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {};
  }

 private:
  std::string path_;
  int saved_ = -1;
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

BOOST_AUTO_TEST_CASE(an_allowlist_admits_only_the_certificates_it_names_and_a_refusal_is_logged) {
  test_pki pki;
  identities ids;
  stderr_capture log(pki.path("server.log"));
  running_server srv(ids, [&](server::config& c) {
    pki.serve(c);
    c.tls.client_ca_file = pki.path("ca.crt");
    c.tls.client_allow = {"cn:ehr-client", "dns:EHR.Ward-7.example"};
  });
  BOOST_TEST(tls_get(srv.port(), pki.client_as("client"), "/v1/log/events") == 200u);
  // By subjectAltName, DNS without regard to case.
  BOOST_TEST(tls_get(srv.port(), pki.client_as("san-client"), "/v1/log/events") == 200u);
  // Same CA, name not on the list: the handshake fails, and says why.
  BOOST_TEST(tls_get(srv.port(), pki.client_as("intruder"), "/healthz") == 0u);
  const auto line = log.line_with({"TLS handshake failed", "/CN=intruder"});
  BOOST_TEST_REQUIRE(!line.empty());
  BOOST_TEST(line.find("tls.client_allow") != std::string::npos, line);
  BOOST_TEST(line.find("\"remote\":\"127.0.0.1:") != std::string::npos, line);
  // Without a certificate, optional mutual TLS still lets a token in.
  BOOST_TEST(tls_get(srv.port(), pki.client_as(""), "/v1/log/events", bearer(ids.reader_token)) == 200u);
  // The access log names the certificate's subject as who read.
  BOOST_TEST(!log.line_with({"\"identity\":\"cert:/CN=ehr-client\"", "/v1/log/events"}).empty());
}

BOOST_AUTO_TEST_CASE(a_certificate_on_the_crl_is_refused_and_the_refusal_is_logged) {
  test_pki pki;
  pki.revoke("intruder");
  identities ids;
  stderr_capture log(pki.path("server.log"));
  running_server srv(ids, [&](server::config& c) {
    pki.serve(c);
    c.tls.client_ca_file = pki.path("ca.crt");
    c.tls.crl_file = pki.path("ca.crl");
  });
  BOOST_TEST(tls_get(srv.port(), pki.client_as("client"), "/v1/log/events") == 200u);
  BOOST_TEST(tls_get(srv.port(), pki.client_as("intruder"), "/healthz") == 0u);
  const auto line = log.line_with({"TLS handshake failed", "/CN=intruder"});
  BOOST_TEST(line.find("certificate revoked") != std::string::npos, line);
  // A CRL file that is not one refuses to start, naming the setting.
  server::config c;
  pki.serve(c);
  c.tls.client_ca_file = pki.path("ca.crt");
  c.tls.crl_file = pki.path("ca.crt");
  try {
    (void)server::make_tls_context(c.tls);
    BOOST_FAIL("a file without CRLs was accepted as tls.crl_file");
  } catch (const server::config_error& e) {
    BOOST_TEST(std::string(e.what()).rfind("tls.crl_file:", 0) == 0u, e.what());
  }
}

BOOST_AUTO_TEST_CASE(the_allowlist_and_crl_settings_are_checked_when_the_configuration_is_read) {
  auto error_of = [](const std::string& tls) {
    server::config c;
    try {
      server::apply_config_json(R"({"tls":)" + tls + "}", c);
    } catch (const server::config_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  BOOST_TEST(error_of(R"({"client_ca_file":"ca.pem","client_allow":["ehr-client"]})").find("tls.client_allow[0]") == 0u);
  BOOST_TEST(error_of(R"({"client_ca_file":"ca.pem","client_allow":["ip:1.2.3.4"]})").find("tls.client_allow[0]") == 0u);
  BOOST_TEST(error_of(R"({"client_ca_file":"ca.pem","client_allow":[]})").find("tls.client_allow") == 0u);
  BOOST_TEST(error_of(R"({"client_allow":["cn:x"]})").find("tls.client_ca_file") == 0u);
  BOOST_TEST(error_of(R"({"crl_file":"ca.crl"})").find("tls.client_ca_file") == 0u);
  BOOST_TEST(error_of(R"({"client_ca_file":"ca.pem","client_allow":["cn:x","email:a@b"],"crl_file":"c"})").empty());
}

BOOST_AUTO_TEST_CASE(a_mutual_tls_session_resumes_and_keeps_its_certificate_identity) {
  test_pki pki;
  identities ids;
  running_server srv(ids, [&](server::config& c) {
    pki.serve(c);
    c.tls.client_ca_file = pki.path("ca.crt");
    c.tls.require_client_cert = true;
  });
  namespace asio = boost::asio;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(pki.path("ca.crt"));
  ctx.use_certificate_chain_file(pki.path("client.crt"));
  ctx.use_private_key_file(pki.path("client.key"), asio::ssl::context::pem);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  SSL_SESSION* session = nullptr;
  auto request = [&](bool& resumed) {
    asio::ssl::stream<asio::ip::tcp::socket> s(io, ctx);
    s.next_layer().connect({asio::ip::make_address("127.0.0.1"), srv.port()});
    if (session) SSL_set_session(s.native_handle(), session);
    s.handshake(asio::ssl::stream_base::client);
    resumed = SSL_session_reused(s.native_handle()) == 1;
    const std::string req = "GET /v1/log/events HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    asio::write(s, asio::buffer(req));
    std::string answer;
    boost::system::error_code ec;
    for (char buf[4096];;) {
      const auto n = s.read_some(asio::buffer(buf), ec);
      answer.append(buf, n);
      // TLS 1.3: the ticket came after the handshake, before the answer.
      if (!session && n > 0) session = SSL_get1_session(s.native_handle());
      if (ec) break;
    }
    // A connection that ends without close_notify makes OpenSSL drop its
    // session: close as a well-behaved client does.
    s.shutdown(ec);
    return answer.substr(0, answer.find("\r\n"));
  };
  bool first_resumed = true, second_resumed = false;
  BOOST_TEST(request(first_resumed) == "HTTP/1.1 200 OK");
  BOOST_TEST(!first_resumed);
  BOOST_TEST_REQUIRE(session != nullptr);
  // The resumed connection presents no certificate: the session carries it,
  // and it still grants the reader role.
  BOOST_TEST(request(second_resumed) == "HTTP/1.1 200 OK");
  BOOST_TEST(second_resumed);
  SSL_SESSION_free(session);
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
