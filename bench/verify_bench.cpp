// verify_bench: how fast `vellum-verify bundle` checks a large sealed export,
// and how much memory it needs (issue 5, docs/performance.md).
//
// 1. Builds a log of N events (default 100,000; Ed25519 statements by three
//    submitter keys over 50 streams) in a temporary directory with the
//    ledger (sync off), and exports it whole (seq range 0..N) to a file
//    with ledger::write_export.
// 2. Runs the vellum-verify binary next to this one on that file as a child
//    process and takes its wall time and peak RSS (wait4 ru_maxrss), so the
//    figure is the verifier's alone, not this process's.
// 3. Measures, in the same run, one core's Ed25519 verify/s: `openssl speed
//    -seconds 3 ed25519` when openssl is installed, and an in-process loop.
// Prints events/s, the ratio events/s ÷ (2 × one-core verify/s) (target
// ≥ 0.8) and peak RSS (target ≤ 64 MiB). Not run in CI.
//
// Usage: verify_bench [--events N] [--threads T] [--keep DIR]

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "ledger/export.hpp"
#include "ledger/ledger.hpp"

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace vellum;
namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

// The shared pieces used here (this file keeps its own die: print and exit).
using bench::make_uuid;
using bench::next_to_self;
using bench::openssl_speed_verify_per_second;
using bench::thread_cpu_now;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "verify_bench: %s\n", why.c_str());
  std::exit(2);
}

double seconds_since(steady::time_point t) { return std::chrono::duration<double>(steady::now() - t).count(); }

struct submitter {
  std::string kid;
  crypto::private_key key;
};

// Builds the log and writes its whole export to `bundle_path`. Returns the
// log's verifier key.
std::string build_and_export(const std::string& data_dir, const std::string& bundle_path, std::uint64_t n) {
  std::vector<submitter> subs;
  for (std::uint8_t i = 0; i < 3; ++i) {
    auto k = crypto::private_key::from_ed25519_seed(std::vector<std::uint8_t>(32, static_cast<std::uint8_t>(40 + i)));
    if (!k) die("key");
    subs.push_back({"ehr-" + std::to_string(i), *k});
  }
  std::uint64_t now = 1773050400000000ull;
  ledger::options o;
  o.data_dir = data_dir;
  o.sync = false;
  o.clock = [&now] { return now; };
  auto l = ledger::ledger::open(o);
  if (!l) die("open ledger: " + l.error().message());
  std::mt19937_64 rng(5);
  const auto t = steady::now();
  std::vector<ledger::statement> batch;
  for (std::uint64_t i = 0; i < n; ++i) {
    const auto& s = subs[i % subs.size()];
    const std::string stream = "therapy-" + std::to_string(i % 50);
    const std::string id = make_uuid(rng);
    boost::json::object payload{{"event_id", id},
                                {"stream", stream},
                                {"type", "SessionDocumented"},
                                {"expected_revision", "any"},
                                {"occurred_at", "2026-03-09T09:00:00Z"},
                                {"author", {{"id", "u7"}, {"name", "Dr. Schmidt"}, {"role", "psychologist"}}},
                                {"meaning", "authored"},
                                {"data", {{"session", i}, {"note", "Intake; PHQ-9 = 14; plan reviewed with patient"}}}};
    auto jws = crypto::jws_sign(crypto::as_bytes(boost::json::serialize(payload)), s.key, {{"kid", s.kid}});
    if (!jws) die("sign");
    ledger::statement st;
    st.jws = *jws;
    st.kid = s.kid;
    st.event_id = id;
    st.stream = stream;
    const ledger::query_terms terms = ledger::query_terms_of(payload);
    st.type = terms.type;
    st.author_id = terms.author_id;
    st.occurred_at_us = terms.occurred_at_us;
    batch.push_back(std::move(st));
    if (batch.size() == 1000 || i + 1 == n) {
      for (const auto& out : (*l)->append(batch))
        if (out.error) die("append: " + out.error.message());
      batch.clear();
      now += 1000;
    }
  }
  std::printf("built a log of %llu events in %.1f s\n", static_cast<unsigned long long>(n), seconds_since(t));

  ledger::export_request req;
  req.selection.from_seq = 0;
  req.selection.to_seq = n;
  req.key_pem = [&](std::string_view kid) -> std::optional<std::string> {
    for (const auto& s : subs)
      if (s.kid == kid) return s.key.public_key().to_pem();
    return std::nullopt;
  };
  std::ofstream out(bundle_path, std::ios::binary);
  const auto te = steady::now();
  auto r = ledger::write_export(**l, req, [&](std::string_view chunk) {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    return static_cast<bool>(out);
  });
  if (!r) die("export: " + r.error().message());
  out.close();
  const double export_s = seconds_since(te);
  std::printf("exported %llu events, %.1f MiB in %.2f s (%.0f events/s)\n",
              static_cast<unsigned long long>(r->events), static_cast<double>(r->bytes) / (1024.0 * 1024.0), export_s,
              static_cast<double>(r->events) / export_s);
  return (*l)->verifier_key();
}

struct child_run {
  int exit_code = -1;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system
  long max_rss_kib = 0;
};

// Runs argv as a child process with stdout to /dev/null; its wall time and peak RSS.
child_run run_child(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto t = steady::now();
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  int status = 0;
  rusage ru{};
  if (::wait4(pid, &status, 0, &ru) != pid) die("wait4");
  child_run r;
  r.seconds = seconds_since(t);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.max_rss_kib = ru.ru_maxrss;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  r.cpu_seconds = secs(ru.ru_utime) + secs(ru.ru_stime);
  return r;
}

// One thread verifying one JWS-sized message for `seconds`, per CPU second
// of that thread (as openssl speed counts), so other load does not lower it.
double evp_verify_per_second(double seconds) {
  auto k = crypto::private_key::from_ed25519_seed(std::vector<std::uint8_t>(32, 1));
  if (!k) die("key");
  const std::string msg(400, 'x');
  auto sig = k->sign(crypto::as_bytes(msg));
  if (!sig) die("sign");
  std::uint64_t done = 0;
  const auto t = steady::now();
  const double cpu0 = thread_cpu_now();
  while (seconds_since(t) < seconds) {
    for (int i = 0; i < 100; ++i)
      if (!k->public_key().verify(crypto::as_bytes(msg), *sig)) die("verify");
    done += 100;
  }
  return static_cast<double>(done) / (thread_cpu_now() - cpu0);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t n = 100'000;
  std::string threads, keep;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--events" && i + 1 < argc) n = std::strtoull(argv[++i], nullptr, 10);
    else if (a == "--threads" && i + 1 < argc) threads = argv[++i];
    else if (a == "--keep" && i + 1 < argc) keep = argv[++i];
    else die("usage: verify_bench [--events N] [--threads T] [--keep DIR]");
  }
  const std::string verifier = next_to_self("vellum-verify");
  if (!fs::exists(verifier)) die("no vellum-verify next to this program: build the vellum-verify target");

  const fs::path dir = keep.empty() ? fs::temp_directory_path() / ("vellum-verify-bench-" + std::to_string(::getpid()))
                                    : fs::path(keep);
  fs::create_directories(dir);
  const std::string bundle = (dir / "export.vellum").string();
  const std::string vkey = build_and_export((dir / "data").string(), bundle, n);

  std::vector<std::string> args{verifier, "bundle", bundle, "--log-key", vkey, "--json"};
  if (!threads.empty()) {
    args.push_back("--threads");
    args.push_back(threads);
  }
  run_child(args);  // warm the page cache
  const auto run = run_child(args);
  if (run.exit_code != 0) die("vellum-verify did not verify the bundle (exit " + std::to_string(run.exit_code) + ")");

  const auto speed = openssl_speed_verify_per_second(3.0);
  const double evp = evp_verify_per_second(3.0);
  const double bound = speed ? *speed : evp;
  const double eps = static_cast<double>(n) / run.seconds;
  const double rss_mib = static_cast<double>(run.max_rss_kib) / 1024.0;
  std::printf("cores: %u\n", std::thread::hardware_concurrency());
  if (speed) std::printf("openssl speed ed25519: %.1f verify/s on one core\n", *speed);
  else std::printf("openssl speed ed25519: openssl not installed; using the in-process loop\n");
  std::printf("in-process EVP verify loop: %.1f verify/s on one core\n", evp);
  std::printf("vellum-verify bundle: %llu events in %.2f s = %.0f events/s\n", static_cast<unsigned long long>(n),
              run.seconds, eps);
  std::printf("ratio events/s / (2 x one-core verify/s): %.2f (target >= 0.8)\n", eps / (2 * bound));
  // On a shared machine the wall-clock ratio suffers from other load; CPU
  // time shows the verifier's own cost per event against one core's verify.
  std::printf("CPU time: %.2f s = %.0f events per CPU-second, %.2f x one-core verify/s "
              "(1.00 would be all time in Ed25519 verify)\n",
              run.cpu_seconds, static_cast<double>(n) / run.cpu_seconds,
              static_cast<double>(n) / run.cpu_seconds / bound);
  double load[1] = {0};
  if (::getloadavg(load, 1) == 1) std::printf("load average (1 min) during the run: %.2f\n", load[0]);
  std::printf("peak RSS of vellum-verify: %.1f MiB (target <= 64 MiB)\n", rss_mib);
  std::error_code ec;
  if (keep.empty()) fs::remove_all(dir, ec);
  return 0;
}
