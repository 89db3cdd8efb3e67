#pragma once
// A vellumd child process for CLI tests: the built binary on 127.0.0.1 with an
// ephemeral port, a temporary data directory, one Ed25519 submitter key
// ("ward", every stream, generated now) and reader/auditor/admin tokens.
// Killed (SIGTERM) when the object goes away.

#include "crypto/keys.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace vellum::test {

inline constexpr const char* reader_token = "reader-token-0123456789-0123456789abcdef";
inline constexpr const char* auditor_token = "auditor-token-0123456789-0123456789abcdef";
inline constexpr const char* admin_token = "admin-token-0123456789-0123456789abcdef";

struct vellumd_process {
  temp_dir dir;
  std::string url;   // http://127.0.0.1:PORT
  std::string vkey;  // the log's verifier key, as vellumd printed it
  int pid = -1;

  // `extra` members are added to the configuration (e.g. "tls").
  explicit vellumd_process(const boost::json::object& extra = {}) {
    auto key = crypto::private_key::generate(crypto::key_type::ed25519);
    BOOST_REQUIRE(key);
    write_text(dir.path() / "ward.pem", key->to_pem());
    boost::json::object cfg{
        {"listen", "127.0.0.1:0"},
        {"data_dir", (dir.path() / "data").string()},
        {"submitters", boost::json::array{boost::json::object{
                           {"kid", "ward"}, {"public_key", key->public_key().to_pem()}, {"streams", {""}}}}},
        {"tokens", boost::json::array{boost::json::object{{"token", reader_token}, {"role", "reader"}},
                                      boost::json::object{{"token", auditor_token}, {"role", "auditor"}},
                                      boost::json::object{{"token", admin_token}, {"role", "admin"}}}}};
    for (const auto& kv : extra) cfg[kv.key()] = kv.value();
    write_text(dir.path() / "vellum.json", boost::json::serialize(cfg));
    auto r = run_command("cd " + dir.str() + " && (" + binary("vellumd") +
                         " --config vellum.json > out.txt 2> err.txt & echo $!)");
    pid = std::stoi(r.out);
    for (int i = 0; i < 200 && url.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const std::string out = read_text((dir.path() / "out.txt").string());
      if (auto at = out.find("verifier key: "); at != std::string::npos && vkey.empty())
        vkey = out.substr(at + 14, out.find('\n', at) - at - 14);
      if (auto at = out.find("listening on "); at != std::string::npos && out.find('\n', at) != std::string::npos)
        url = out.substr(at + 13, out.find('\n', at) - at - 13);
    }
    BOOST_REQUIRE_MESSAGE(!url.empty(), "vellumd did not start: " << read_text((dir.path() / "err.txt").string()));
  }
  ~vellumd_process() { stop(); }

  // SIGTERM, then wait (bounded) for the process to exit.
  void stop() {
    if (pid <= 0) return;
    run_command("kill " + std::to_string(pid) + " 2>/dev/null; for i in $(seq 100); do kill -0 " +
                std::to_string(pid) + " 2>/dev/null || break; sleep 0.05; done");
    pid = -1;
  }

  // Runs `vellum ARGS` in the temporary directory against this server;
  // standard error is merged into the output.
  command_result vellum(const std::string& args, const std::string& token = "") const {
    return run_command("cd " + dir.str() + " && VELLUM_SERVER=" + url + " VELLUM_TOKEN=" + token + " " +
                       binary("vellum") + " " + args + " 2>&1");
  }
  command_result verify(const std::string& args) const {
    return run_command("cd " + dir.str() + " && " + binary("vellum-verify") + " " + args + " 2>&1");
  }
};

}  // namespace vellum::test
