// The vellum CLI over TLS and mutual TLS: --cacert, --cert, --cert-key, with a
// CA, server and client certificates made at test time by `openssl req`.

#include "test_util.hpp"
#include "vellumd_process.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum;

namespace {

// A CA, a server certificate for IP 127.0.0.1 and a client certificate (P-256, one day).
struct pki {
  test::temp_dir dir;
  std::string path(const std::string& name) const { return (dir.path() / name).string(); }
  void run(const std::string& cmd) const {
    auto r = test::run_command(cmd + " 2>&1");
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, cmd << "\n" << r.out);
  }
  void issue(const std::string& name, const std::string& cn, const std::string& ext) const {
    run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + path(name + ".key") + " -out " +
        path(name + ".csr") + " -subj /CN=" + cn);
    test::write_text(path(name + ".ext"), ext + "\n");
    run("openssl x509 -req -in " + path(name + ".csr") + " -CA " + path("ca.crt") + " -CAkey " + path("ca.key") +
        " -CAcreateserial -days 1 -out " + path(name + ".crt") + " -extfile " + path(name + ".ext"));
  }
  pki() {
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + path("ca.key") + " -out " +
        path("ca.crt") + " -days 1 -subj /CN=vellum-cli-test-ca");
    issue("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth");
    issue("client", "ehr-client", "extendedKeyUsage=clientAuth");
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_tls)

BOOST_AUTO_TEST_CASE(submits_and_reads_over_mutual_tls_and_refuses_an_unknown_ca) {
  pki certs;
  boost::json::object tls{{"cert_file", certs.path("server.crt")},
                          {"key_file", certs.path("server.key")},
                          {"client_ca_file", certs.path("ca.crt")},
                          {"require_client_cert", true}};
  test::vellumd_process srv({{"tls", tls}});
  BOOST_TEST_REQUIRE(srv.url.starts_with("https://"), srv.url);
  const std::string tls_args = " --cacert " + certs.path("ca.crt") + " --cert " + certs.path("client.crt") +
                               " --cert-key " + certs.path("client.key");
  auto r = srv.vellum("submit --key ward.pem --kid ward --stream tls-1 --type T --data-json '{}' --save r.json" +
                      tls_args);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  BOOST_TEST(srv.verify("receipt r.json --log-key '" + srv.vkey + "'").exit_code == 0);
  // A verified client certificate is enough to read (role reader).
  auto read = srv.vellum("read tls-1" + tls_args);
  BOOST_TEST(read.exit_code == 0, read.out);
  BOOST_TEST(read.out.find("\"stream\":\"tls-1\"") != std::string::npos, read.out);

  // Without a client certificate the server refuses the connection.
  auto no_cert = srv.vellum("read tls-1 --cacert " + certs.path("ca.crt"), test::reader_token);
  BOOST_TEST(no_cert.exit_code != 0, no_cert.out);
  // Trusting only the system CAs, the client refuses the server.
  auto untrusted = srv.vellum("log" + std::string(" --cert ") + certs.path("client.crt") + " --cert-key " +
                              certs.path("client.key"));
  BOOST_TEST(untrusted.exit_code != 0, untrusted.out);
  BOOST_TEST(untrusted.out.find("certificate") != std::string::npos, untrusted.out);
}

BOOST_AUTO_TEST_SUITE_END()
