// Shared pieces of the benchmarks (header only: CMake builds every
// bench/*.cpp into its own executable). vellumd as a child process, a
// keep-alive HTTP/1.1 load generator on 127.0.0.1, CPU accounting from
// /proc, latency percentiles, the one-core Ed25519 bound from `openssl
// speed`, event ids and fake ledger statements, and the figures the server
// benches report (printed, and as JSON for scripts/bench).
//
// Errors throw std::runtime_error (die); each bench's main reports them.

#pragma once

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"
#include "ledger/ledger.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace vellum::bench {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;

[[noreturn]] inline void die(const std::string& msg) {
  throw std::runtime_error(msg);
}

// Opens (or creates) a ledger in `dir`, fsync per commit or not; exits with
// the reason if it cannot.
inline std::unique_ptr<ledger::ledger> open_ledger(const std::string& dir, bool sync) {
  ledger::options o;
  o.data_dir = dir;
  o.sync = sync;
  auto opened = ledger::ledger::open(o);
  if (!opened) die("cannot open ledger " + dir + ": " + opened.error().message());
  return std::move(*opened);
}

// ---------------------------------------------------------------------------
// Command line

// A positive decimal integer given to `flag`; dies otherwise.
inline std::size_t parse_count(const char* text, const char* flag) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0) die(std::string(flag) + ": needs a positive integer");
  return static_cast<std::size_t>(v);
}

// The program `name` in the directory of this one (where CMake puts every
// target), or plain `name` (relative to the working directory) when
// /proc/self/exe cannot be read.
inline std::string next_to_self(const std::string& name) {
  std::error_code ec;
  const auto self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? name : (self.parent_path() / name).string();
}

// ---------------------------------------------------------------------------
// Small helpers: temporary directory, CPU time, percentiles.

class temp_dir {
 public:
  explicit temp_dir(const char* prefix) {
    std::string pattern = (fs::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
    if (!::mkdtemp(pattern.data())) die("mkdtemp: " + std::string(std::strerror(errno)));
    path_ = pattern;
  }
  ~temp_dir() {
    if (keep_) {
      std::fprintf(stderr, "kept %s\n", path_.c_str());
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

inline double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// utime + stime from the text of a /proc/.../stat file (fields 14 and 15).
inline double process_cpu_seconds_from_stat(const std::string& text) {
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int index = 3; fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::atof(field.c_str());
    if (index == 15) break;
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds the whole machine spent busy (all cores), from /proc/stat.
inline double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

inline double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  return process_cpu_seconds_from_stat(
      std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

// CPU seconds of every thread of a process: tid -> ("tid (comm)", seconds).
inline std::map<int, std::pair<std::string, double>> thread_cpu_seconds(pid_t pid) {
  std::map<int, std::pair<std::string, double>> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    const int tid = std::atoi(entry.path().filename().c_str());
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto open = text.find('(');
    const auto close = text.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    out[tid] = {std::to_string(tid) + " (" + text.substr(open + 1, close - open - 1) + ")",
                process_cpu_seconds_from_stat(text)};
  }
  return out;
}

// The busiest threads between two snapshots, busiest first.
inline std::vector<std::pair<std::string, double>> busiest_threads(
    const std::map<int, std::pair<std::string, double>>& before,
    const std::map<int, std::pair<std::string, double>>& after) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [tid, now] : after) {
    const auto it = before.find(tid);
    out.emplace_back(now.first, now.second - (it == before.end() ? 0.0 : it->second.second));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (out.size() > 4) out.resize(4);
  return out;
}

// The p-th percentile (nearest rank) of `us` in milliseconds; reorders `us`.
inline double percentile_ms(std::vector<std::uint32_t>& us, double p) {
  if (us.empty()) return 0;
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(us.size())));
  const std::size_t index = std::min(us.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(index), us.end());
  return us[index] / 1000.0;
}

// ---------------------------------------------------------------------------
// vellumd as a child process: stdout is read until "listening on", stderr
// (one JSON log line per request) goes to a file in the temporary directory.

class server_process {
 public:
  server_process(const std::string& binary, const std::vector<std::string>& args,
                 const std::string& log_file) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) die("pipe: " + std::string(std::strerror(errno)));
    std::vector<std::string> argv_strings{binary};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv_ptrs;
    for (auto& s : argv_strings) argv_ptrs.push_back(s.data());
    argv_ptrs.push_back(nullptr);
    const int log_fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log_fd < 0) die("open " + log_file + ": " + std::strerror(errno));
    pid_ = ::fork();
    if (pid_ < 0) die("fork: " + std::string(std::strerror(errno)));
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(log_fd, STDERR_FILENO);
      ::execv(binary.c_str(), argv_ptrs.data());
      const char msg[] = "exec vellumd failed\n";
      [[maybe_unused]] auto n = ::write(log_fd, msg, sizeof msg - 1);
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(log_fd);
    stdout_fd_ = out[0];
    log_file_ = log_file;
  }
  ~server_process() { stop(); }
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  // Reads stdout until "listening on http://HOST:PORT"; returns the port.
  std::uint16_t wait_listening(std::chrono::seconds timeout) {
    const auto deadline = steady::now() + timeout;
    std::string buffer;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      if (left.count() <= 0) die("vellumd did not print \"listening on\" in time; see " + log_file_);
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) < 0 && errno != EINTR) die("poll failed");
      if (!(p.revents & (POLLIN | POLLHUP))) continue;
      char chunk[512];
      const auto n = ::read(stdout_fd_, chunk, sizeof chunk);
      if (n <= 0) die("vellumd exited before listening; its log: " + tail_log());
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t nl;
      while ((nl = buffer.find('\n')) != std::string::npos) {
        const std::string line = buffer.substr(0, nl);
        buffer.erase(0, nl + 1);
        constexpr std::string_view vkey_marker = "verifier key: ";
        if (line.rfind(vkey_marker, 0) == 0) verifier_key_ = line.substr(vkey_marker.size());
        constexpr std::string_view marker = "listening on ";
        if (line.rfind(marker, 0) != 0) continue;
        const auto colon = line.rfind(':');
        if (colon == std::string::npos) die("cannot parse: " + line);
        return static_cast<std::uint16_t>(std::stoi(line.substr(colon + 1)));
      }
    }
  }

  pid_t pid() const { return pid_; }
  // The log's verifier key, as printed at start (C2SP vkey).
  const std::string& verifier_key() const { return verifier_key_; }

  // SIGTERM (vellumd drains), then SIGKILL after 15 s.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = steady::now() + std::chrono::seconds(15);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (steady::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    stdout_fd_ = -1;
  }

  std::string tail_log() const {
    std::ifstream in(log_file_);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string log_file_;
  std::string verifier_key_;
};

// ---------------------------------------------------------------------------
// Load generator: `connections` keep-alive HTTP/1.1 connections on one
// io_context (run by `threads` threads); each connection sends the next
// unsent request as soon as its previous response arrived (closed loop).
// Requests are fully serialised bytes prepared before timing.

// Counts the events a response acknowledged (0: a failed request). Called
// concurrently from the client threads; must be thread-safe.
using response_check = std::function<std::size_t(unsigned status, const std::string& body)>;

struct load_result {
  std::size_t requests = 0;
  std::size_t failed_requests = 0;
  std::size_t events_ok = 0;
  double seconds = 0;
  double client_cpu_s = 0;
  double server_cpu_s = 0;
  double other_cpu_s = 0;  // busy CPU of everything else on the machine
  std::vector<std::pair<std::string, double>> server_threads;  // busiest vellumd threads (CPU s)
  std::vector<std::uint32_t> latencies_us;
  std::string first_error;
};

class load_generator {
 public:
  load_generator(std::uint16_t port, const std::vector<std::string>& requests, response_check check)
      : port_(port), requests_(requests), check_(std::move(check)) {}

  load_result run(std::size_t connections, unsigned threads, pid_t server_pid) {
    net::io_context ioc;
    const tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port_);
    std::vector<std::shared_ptr<connection>> conns;
    for (std::size_t i = 0; i < connections; ++i) {
      auto c = std::make_shared<connection>(ioc, *this);
      boost::system::error_code ec;
      c->sock.connect(ep, ec);
      if (ec) die("connect to 127.0.0.1:" + std::to_string(port_) + ": " + ec.message());
      c->sock.set_option(tcp::no_delay(true));
      conns.push_back(std::move(c));
    }
    const double client_cpu0 = self_cpu_seconds();
    const double server_cpu0 = process_cpu_seconds(server_pid);
    const auto threads0 = thread_cpu_seconds(server_pid);
    const double machine0 = machine_busy_seconds();
    const auto t0 = steady::now();
    for (auto& c : conns) net::post(ioc, [c] { c->next(); });
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();
    load_result r;
    r.seconds = std::chrono::duration<double>(steady::now() - t0).count();
    r.client_cpu_s = self_cpu_seconds() - client_cpu0;
    r.server_cpu_s = process_cpu_seconds(server_pid) - server_cpu0;
    r.server_threads = busiest_threads(threads0, thread_cpu_seconds(server_pid));
    r.other_cpu_s = std::max(0.0, machine_busy_seconds() - machine0 - r.client_cpu_s - r.server_cpu_s);
    for (auto& c : conns) {
      r.latencies_us.insert(r.latencies_us.end(), c->latencies_us.begin(), c->latencies_us.end());
      boost::system::error_code ignored;
      c->sock.shutdown(tcp::socket::shutdown_both, ignored);
      c->sock.close(ignored);
    }
    r.requests = r.latencies_us.size();
    r.failed_requests = failed_.load() + (requests_.size() > r.requests ? requests_.size() - r.requests : 0);
    r.events_ok = events_ok_.load();
    r.first_error = first_error_;
    return r;
  }

 private:
  struct connection : std::enable_shared_from_this<connection> {
    connection(net::io_context& ioc, load_generator& g) : sock(ioc), gen(g) {}
    tcp::socket sock;
    load_generator& gen;
    beast::flat_buffer buffer;
    std::optional<http::response_parser<http::string_body>> parser;
    std::size_t current = 0;
    steady::time_point started;
    std::vector<std::uint32_t> latencies_us;

    void next() {
      current = gen.next_.fetch_add(1);
      if (current >= gen.requests_.size()) return;
      started = steady::now();
      net::async_write(sock, net::buffer(gen.requests_[current]),
                       [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         if (ec) return self->gen.fail("write: " + ec.message());
                         self->read();
                       });
    }

    void read() {
      parser.emplace();
      parser->body_limit(std::uint64_t{256} << 20);
      http::async_read(sock, buffer, *parser, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (ec) return self->gen.fail("read: " + ec.message());
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - self->started);
        self->latencies_us.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(us.count(), UINT32_MAX)));
        const auto& res = self->parser->get();
        const std::size_t ok = self->gen.check_(res.result_int(), res.body());
        if (ok == 0) {
          self->gen.fail("HTTP " + std::to_string(res.result_int()) + ": " + res.body().substr(0, 300));
        } else {
          self->gen.events_ok_.fetch_add(ok);
        }
        if (!res.keep_alive()) return self->gen.fail("server closed the connection");
        self->next();
      });
    }
  };

  void fail(const std::string& what) {
    failed_.fetch_add(1);
    std::lock_guard lock(mutex_);
    if (first_error_.empty()) first_error_ = what;
  }

  std::uint16_t port_;
  const std::vector<std::string>& requests_;
  response_check check_;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::size_t> failed_{0};
  std::atomic<std::size_t> events_ok_{0};
  std::mutex mutex_;
  std::string first_error_;
};

// ---------------------------------------------------------------------------
// Report

struct figure {
  std::string id, what, unit;
  double value = 0;
  std::string bound_what;  // what the bound is; empty: no bound
  double bound = 0;
  std::string target_text;  // empty: no target
  double target = 0;
  bool target_on_ratio = true;  // else the target applies to the value itself

  bool has_bound() const { return !bound_what.empty() && bound > 0; }
  figure& against(std::string what_bound, double bound_value) {
    bound_what = std::move(what_bound);
    bound = bound_value;
    return *this;
  }
  figure& aim(std::string text, double t, bool on_ratio = true) {
    target_text = std::move(text);
    target = t;
    target_on_ratio = on_ratio;
    return *this;
  }
  bool met() const { return (target_on_ratio ? value / bound : value) >= target; }
};

inline json::object to_json(const figure& f) {
  json::object o{{"id", f.id}, {"what", f.what}, {"value", f.value}, {"unit", f.unit}};
  if (f.has_bound()) {
    o["bound"] = {{"what", f.bound_what}, {"value", f.bound}};
    o["ratio"] = f.value / f.bound;
  }
  if (!f.target_text.empty()) {
    o["target"] = f.target_text;
    o["met"] = f.met();
  }
  return o;
}

inline void print(const figure& f) {
  std::printf("  %-44s %12.2f %-9s", f.what.c_str(), f.value, f.unit.c_str());
  if (f.has_bound()) std::printf(" / %s %.1f = ratio %.3f", f.bound_what.c_str(), f.bound, f.value / f.bound);
  if (!f.target_text.empty()) std::printf("  [target %s: %s]", f.target_text.c_str(), f.met() ? "met" : "MISSED");
  std::printf("\n");
}

// What one load_generator::run did: requests, failures, CPU, busiest threads.
inline void print_phase(const char* name, const load_result& r, std::size_t events_sent) {
  std::printf("%s: %zu requests (%zu events) in %.2f s, %zu failed requests, %zu events acknowledged\n", name,
              r.requests, events_sent, r.seconds, r.failed_requests, r.events_ok);
  std::printf("  CPU during the phase: load generator %.2f s, vellumd %.2f s, other processes %.2f s (of %.2f s x %u cores)\n",
              r.client_cpu_s, r.server_cpu_s, r.other_cpu_s, r.seconds, std::thread::hardware_concurrency());
  std::printf("  busiest vellumd threads (CPU s):");
  for (const auto& [thread, sec] : r.server_threads) std::printf(" %s %.2f;", thread.c_str(), sec);
  std::printf("\n");
  if (!r.first_error.empty()) std::printf("  first error: %s\n", r.first_error.c_str());
}

// ---------------------------------------------------------------------------
// The bound: one-core Ed25519 verify/s, and CPU time of this thread.

// CPU seconds this thread has used.
inline double thread_cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// `openssl speed -seconds S ed25519`: the verify/s column of the Ed25519
// line ("253 bits EdDSA (Ed25519)  0.0000s  0.0001s  25000.0  9000.0":
// verify/s is last); nullopt when openssl is not installed.
inline std::optional<double> openssl_speed_verify_per_second(double seconds) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) return std::nullopt;
  const std::string cmd = "openssl speed -seconds " + std::to_string(std::max(1, static_cast<int>(std::lround(seconds)))) +
                          " ed25519 2>/dev/null";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return std::nullopt;
  std::string text;
  char chunk[4096];
  while (auto n = std::fread(chunk, 1, sizeof chunk, p)) text.append(chunk, n);
  ::pclose(p);
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("Ed25519") == std::string::npos || line.find("bits") == std::string::npos) continue;
    std::istringstream words(line);
    std::string w, last;
    while (words >> w) last = w;
    const double v = std::atof(last.c_str());
    if (v > 0) return v;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Event ids and statements.

// A random version-4 UUID from the bytes of `rng`.
inline std::string make_uuid(std::mt19937_64& rng) {
  std::array<std::uint8_t, 16> b{};
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string h = crypto::hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

// A canonical lower-case UUID, version-4 layout, from a seeded generator:
// random like real event ids (so the event-id index sees random inserts),
// and reproducible.
inline std::string random_uuid(std::mt19937_64& rng) {
  const std::uint64_t hi = rng(), lo = rng();
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32), static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

// Statement `i` of a log built through the ledger API: compact-JWS shape,
// ~1 KiB with a 560-byte `filler`, over 1,000 streams. Cheap to make (no
// signing; the signature is 64 zero bytes, canonical base64url so the JWS
// parses): the ledger stores what it is given. For the query indexes: one
// event in 100 is a "RiskAssessed" (the rest "SessionDocumented"), the
// author is one of 97 clinicians ("clin-<i % 97>"), and occurred_at runs one
// second per event from 2026-01-01 with up to 84 s of jitter backwards.
inline ledger::statement fake_statement(std::uint64_t i, const std::string& filler, std::mt19937_64& rng) {
  ledger::statement s;
  s.event_id = random_uuid(rng);
  s.kid = "bench-ehr";
  s.stream = "therapy-" + std::to_string(i % 1000);
  s.type = i % 100 == 0 ? "RiskAssessed" : "SessionDocumented";
  s.author_id = "clin-" + std::to_string(i % 97);
  s.occurred_at_us = 1767225600000000ull + i * 1000000ull - (i % 13) * 7000000ull;
  const std::string payload = "{\"event_id\":\"" + s.event_id + "\",\"stream\":\"" + s.stream + "\",\"type\":\"" +
                              s.type + "\",\"expected_revision\":\"any\",\"author\":\"" + s.author_id +
                              "\",\"occurred_at\":\"" + crypto::format_time_us(s.occurred_at_us) +
                              "\",\"data\":{\"note\":\"" + filler + "\"}}";
  s.jws = "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoLWVociJ9." + crypto::base64url_encode(crypto::as_bytes(payload)) +
          "." + std::string(86, 'A');
  return s;
}

}  // namespace vellum::bench
