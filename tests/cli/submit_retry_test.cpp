// `vellum submit` against a scripted stand-in server on 127.0.0.1: a 503 with
// Retry-After is waited out and the very same signed statement is sent again
// (appends are idempotent by event_id, so a retry can never store twice).

#include "crypto/keys.hpp"
#include "test_util.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <thread>

using namespace vellum;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Serves one request per connection, answering with the scripted responses
// in order, and records each request body.
class scripted_server {
 public:
  explicit scripted_server(std::vector<std::string> responses)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), responses_(std::move(responses)) {
    thread_ = std::thread([this] {
      for (const auto& response : responses_) serve(response);
    });
  }
  ~scripted_server() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // What the serving thread recorded so far (copies, taken under its lock).
  std::vector<std::string> bodies() const {
    std::lock_guard lock(mu_);
    return bodies_;
  }
  std::vector<std::chrono::steady_clock::time_point> times() const {
    std::lock_guard lock(mu_);
    return times_;
  }

 private:
  void serve(const std::string& response) {
    boost::system::error_code ec;
    tcp::socket s(io_);
    acceptor_.accept(s, ec);
    if (ec) return;
    std::string buf;
    const std::size_t head = asio::read_until(s, asio::dynamic_buffer(buf), "\r\n\r\n", ec);
    if (ec) return;
    std::size_t length = 0;
    if (auto at = buf.find("Content-Length: "); at != std::string::npos) length = std::stoul(buf.substr(at + 16));
    if (buf.size() < head + length) asio::read(s, asio::dynamic_buffer(buf), asio::transfer_exactly(head + length - buf.size()), ec);
    {
      std::lock_guard lock(mu_);
      bodies_.push_back(buf.substr(head, length));
      times_.push_back(std::chrono::steady_clock::now());
    }
    asio::write(s, asio::buffer(response), ec);
    s.shutdown(tcp::socket::shutdown_both, ec);
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = acceptor_.local_endpoint().port();
  std::vector<std::string> responses_;
  mutable std::mutex mu_;
  std::vector<std::string> bodies_;
  std::vector<std::chrono::steady_clock::time_point> times_;
  std::thread thread_;
};

std::string response(const std::string& status, const std::string& extra, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nConnection: close\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs `vellum submit` of one small event against `url` with a fresh key.
test::command_result submit_to(const std::string& url, int retries) {
  test::temp_dir dir;
  auto key = crypto::private_key::generate(crypto::key_type::ed25519);
  BOOST_REQUIRE(key);
  test::write_text(dir.path() / "k.pem", key->to_pem());
  return test::run_command(test::binary("vellum") + " submit --server " + url + " --key " +
                           (dir.path() / "k.pem").string() +
                           " --kid ward --stream s-1 --type T --data-json '{}' --retries " + std::to_string(retries) +
                           " 2>&1");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(submit_retries)

BOOST_AUTO_TEST_CASE(waits_for_retry_after_and_resends_the_same_statement) {
  const std::string busy = response("503 Service Unavailable", "Retry-After: 1\r\n",
                                    R"({"error":{"code":"overloaded","message":"queue full"}})");
  const std::string created = response("201 Created", "",
                                       R"({"seq":0,"stream":"s-1","revision":0,"tree_size":1})");
  scripted_server srv({busy, created});
  auto r = submit_to(srv.url(), 2);
  BOOST_TEST(r.exit_code == 0, r.out);
  BOOST_TEST(r.out.find("server busy (503), retrying in 1s") != std::string::npos, r.out);
  const auto bodies = srv.bodies();
  const auto times = srv.times();
  BOOST_TEST_REQUIRE(bodies.size() == 2u);
  BOOST_TEST_REQUIRE(times.size() == 2u);
  BOOST_TEST(bodies[0] == bodies[1]);  // same JWS, same event_id: idempotent
  BOOST_TEST((times[1] - times[0] >= std::chrono::milliseconds(900)));  // Retry-After honoured
}

BOOST_AUTO_TEST_CASE(gives_up_after_the_last_retry_with_the_servers_error) {
  const std::string busy = response("503 Service Unavailable", "Retry-After: 0\r\n",
                                    R"({"error":{"code":"storage_full","message":"the disk is full"}})");
  scripted_server srv({busy, busy});
  auto r = submit_to(srv.url(), 1);
  BOOST_TEST(r.exit_code == 1, r.out);
  BOOST_TEST(r.out.find("storage_full") != std::string::npos, r.out);
}

BOOST_AUTO_TEST_SUITE_END()
