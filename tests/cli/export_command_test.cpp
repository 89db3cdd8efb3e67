// The `vellum export` command against a stand-in for GET /v1/export: a
// one-shot HTTP server on 127.0.0.1 (ephemeral port) that answers with a
// bundle ledger::write_export made from a real ledger, or with an error, or
// with a body cut short. Checks the query the command sends, that the file
// appears only when complete, and that vellum-verify accepts it.

#include "ledger/export.hpp"
#include "ledger/ledger_test_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

using namespace vellum;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Accepts one connection, records the request line, sends `response` as
// given (raw bytes) and closes.
class one_shot_server {
 public:
  explicit one_shot_server(std::string response)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), response_(std::move(response)) {
    thread_ = std::thread([this] { serve(); });
  }
  ~one_shot_server() {
    if (!served_) {  // unblock accept() if the command never connected
      boost::system::error_code ec;
      tcp::socket s(io_);
      s.connect(acceptor_.local_endpoint(), ec);
    }
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::string target() const {
    std::lock_guard lock(mu_);  // written by the serving thread
    const auto sp = request_line_.find(' ');
    return request_line_.substr(sp + 1, request_line_.rfind(' ') - sp - 1);
  }

 private:
  void serve() {
    boost::system::error_code ec;
    tcp::socket s(io_);
    acceptor_.accept(s, ec);
    if (ec) return;
    std::string request;
    asio::read_until(s, asio::dynamic_buffer(request), "\r\n\r\n", ec);
    if (request.empty()) return;  // the destructor's own connection
    served_ = true;
    {
      std::lock_guard lock(mu_);
      request_line_ = request.substr(0, request.find("\r\n"));
    }
    asio::write(s, asio::buffer(response_), ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::string response_;
  mutable std::mutex mu_;
  std::string request_line_;
  std::atomic<bool> served_{false};
  std::thread thread_;
};

std::string http_200(const std::string& body, std::size_t claimed_length) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nContent-Length: " +
         std::to_string(claimed_length) + "\r\nConnection: close\r\n\r\n" + body;
}

// A small real ledger and a bundle of one of its streams.
struct exported_log {
  vellum::test::temp_dir dir;
  ledger::test::manual_clock clock;
  std::unique_ptr<ledger::ledger> l = ledger::test::open_or_fail(ledger::test::test_options(dir, clock));
  ledger::test::statement_factory factory;

  exported_log() {
    for (int i = 0; i < 40; ++i) {
      ledger::test::append_one(*l, factory.make(i % 2 ? "therapy-1" : "therapy-2"));
      clock.advance(1000);
    }
  }
  std::string bundle(ledger::export_selection sel, std::optional<std::uint64_t> since = {}) {
    ledger::export_request req;
    req.selection = std::move(sel);
    req.since_size = since;
    const auto key = crypto::private_key::from_ed25519_seed(std::vector<std::uint8_t>(32, 7));
    req.key_pem = [&](std::string_view) { return std::optional<std::string>(key->public_key().to_pem()); };
    std::string out;
    auto r = ledger::write_export(*l, req, [&](std::string_view c) {
      out.append(c);
      return true;
    });
    BOOST_REQUIRE(r);
    return out;
  }
};

std::string vellum_cmd(const std::string& args) { return test::binary("vellum") + " " + args + " 2>/dev/null"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(export_command)

BOOST_AUTO_TEST_CASE(writes_the_bundle_the_server_streams_and_it_verifies) {
  exported_log log;
  const std::string bundle = log.bundle({.stream = "therapy-1"});
  one_shot_server server(http_200(bundle, bundle.size()));
  const auto out = log.dir.path() / "therapy-1.vellum";
  auto r = test::run_command(vellum_cmd("export --stream therapy-1 --out " + out.string() + " --server " + server.url()));
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(server.target() == "/v1/export?stream=therapy-1");
  BOOST_TEST(r.out.find("20 events") != std::string::npos, r.out);
  BOOST_TEST(test::read_text(out.string()) == bundle);
  BOOST_TEST(!std::filesystem::exists(out.string() + ".part"));
  auto v = test::run_command(test::binary("vellum-verify") + " bundle " + out.string() + " --log-key " +
                             log.l->verifier_key() + " 2>/dev/null");
  BOOST_TEST(v.exit_code == 0, v.out);
}

BOOST_AUTO_TEST_CASE(sends_time_bounds_in_rfc3339_and_the_since_size) {
  exported_log log;
  auto cp = log.l->checkpoint_at(10);
  BOOST_REQUIRE(cp);
  const auto cp_file = log.dir.path() / "trusted.cp";
  test::write_text(cp_file, cp->note);
  const std::string bundle = log.bundle({.from_time_us = 1773050400005000, .to_time_us = 1773050400015000}, 10);
  one_shot_server server(http_200(bundle, bundle.size()));
  const auto out = log.dir.path() / "range.vellum";
  auto r = test::run_command(vellum_cmd("export --from-time 2026-03-09T11:00:00.005+01:00 --to-time "
                                        "2026-03-09T10:00:00.015Z --since " + cp_file.string() + " --out " +
                                        out.string() + " --server " + server.url()));
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(server.target() ==
             "/v1/export?from_time=2026-03-09T10%3A00%3A00.005000Z&to_time=2026-03-09T10%3A00%3A00.015000Z"
             "&since_size=10");
  auto v = test::run_command(test::binary("vellum-verify") + " bundle " + out.string() + " --log-key " +
                             log.l->verifier_key() + " --since " + cp_file.string() + " 2>/dev/null");
  BOOST_TEST(v.exit_code == 0, v.out);
}

BOOST_AUTO_TEST_CASE(leaves_no_file_when_the_body_is_cut_short) {
  exported_log log;
  const std::string bundle = log.bundle({.prefix = "therapy"});
  one_shot_server server(http_200(bundle.substr(0, bundle.size() / 2), bundle.size()));
  const auto out = log.dir.path() / "cut.vellum";
  auto r = test::run_command(vellum_cmd("export --prefix therapy --out " + out.string() + " --server " + server.url()));
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(!std::filesystem::exists(out));
  BOOST_TEST(!std::filesystem::exists(out.string() + ".part"));
}

BOOST_AUTO_TEST_CASE(leaves_no_file_when_the_bundle_lacks_its_end_line) {
  exported_log log;
  std::string bundle = log.bundle({.from_seq = 3, .to_seq = 9});
  bundle.erase(bundle.rfind("{\"type\":\"end\""));
  one_shot_server server(http_200(bundle, bundle.size()));
  const auto out = log.dir.path() / "noend.vellum";
  auto r = test::run_command(vellum_cmd("export --from-seq 3 --to-seq 9 --out " + out.string() + " --server " + server.url()));
  BOOST_TEST(r.exit_code == 2);
  BOOST_TEST(server.target() == "/v1/export?from_seq=3&to_seq=9");
  BOOST_TEST(!std::filesystem::exists(out));
}

BOOST_AUTO_TEST_CASE(reports_an_http_error_and_exits_1) {
  const std::string body = R"({"error":{"code":"invalid_argument","message":"give exactly one selection"}})";
  one_shot_server server("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  vellum::test::temp_dir dir;
  const auto out = dir.path() / "x.vellum";
  auto r = test::run_command(vellum_cmd("export --stream a --out " + out.string() + " --server " + server.url()));
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(!std::filesystem::exists(out));
  BOOST_TEST(!std::filesystem::exists(out.string() + ".part"));
}

BOOST_AUTO_TEST_CASE(refuses_zero_or_two_selections) {
  vellum::test::temp_dir dir;
  const auto out = (dir.path() / "x").string();
  BOOST_TEST(test::run_command(vellum_cmd("export --out " + out)).exit_code == 2);
  BOOST_TEST(test::run_command(vellum_cmd("export --stream a --prefix b --out " + out)).exit_code == 2);
  BOOST_TEST(test::run_command(vellum_cmd("export --from-seq 1 --out " + out)).exit_code == 2);
  BOOST_TEST(test::run_command(vellum_cmd("export --from-time yesterday --to-time now --out " + out)).exit_code == 2);
}

BOOST_AUTO_TEST_SUITE_END()
