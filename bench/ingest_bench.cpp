// Ingest benchmark (not run in CI; scripts/bench runs it). Figures for
// docs/performance.md, issue "Server" / Performance:
//
//   durable ingest of pre-signed Ed25519 events over 64 keep-alive
//   connections against a real vellumd on 127.0.0.1, the load generator on
//   the same machine:
//     1. single-event requests (application/jose): events/s, p50/p99 latency;
//     2. batches of 100 (application/x-ndjson): events/s, p50/p99 latency;
//   each divided by the one-core Ed25519 verify/s measured in the same run
//   (`openssl speed -seconds 2 ed25519` when openssl is installed, and an
//   in-process EVP verify loop on one thread). Targets: >= 1.3 (single),
//   >= 1.6 (batches).
//
// Bounded: fixed event counts, traffic to 127.0.0.1 only, a temporary data
// directory that is removed at the end, vellumd stopped (SIGTERM, then
// SIGKILL) on every exit path.
//
// Usage: ingest_bench [--vellumd PATH] [--single N] [--batched N]
//                     [--batch-size N] [--connections N] [--client-threads N]
//                     [--verify-seconds S] [--json FILE] [--keep]

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "verifier/verify.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>

#include <openssl/evp.h>

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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

namespace fs = std::filesystem;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace vellum;

[[noreturn]] void die(const std::string& msg) {
  throw std::runtime_error(msg);
}

// ---------------------------------------------------------------------------
// Command line

struct options {
  std::string vellumd;
  std::size_t single = 20000;
  std::size_t batched = 100000;
  std::size_t batch_size = 100;
  std::size_t connections = 64;
  unsigned client_threads = 1;
  double verify_seconds = 2.0;
  std::string json_file;
  bool keep = false;
};

std::string usage(const char* argv0) {
  return std::string("usage: ") + argv0 +
         " [--vellumd PATH] [--single N] [--batched N] [--batch-size N]\n"
         "       [--connections N] [--client-threads N] [--verify-seconds S] [--json FILE] [--keep]\n"
         "Starts vellumd on 127.0.0.1 (port 0) with a temporary data directory, sends N\n"
         "pre-signed single-event requests, then N events in batches, over keep-alive\n"
         "connections, and compares events/s with one-core Ed25519 verify/s.\n";
}

std::size_t parse_count(const char* text, const char* flag) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || v == 0) die(std::string(flag) + ": needs a positive integer");
  return static_cast<std::size_t>(v);
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(arg) + ": missing value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage(argv[0]).c_str(), stdout);
      std::exit(0);
    } else if (arg == "--vellumd") {
      o.vellumd = value();
    } else if (arg == "--single") {
      o.single = parse_count(value(), "--single");
    } else if (arg == "--batched") {
      o.batched = parse_count(value(), "--batched");
    } else if (arg == "--batch-size") {
      o.batch_size = parse_count(value(), "--batch-size");
    } else if (arg == "--connections") {
      o.connections = parse_count(value(), "--connections");
    } else if (arg == "--client-threads") {
      o.client_threads = static_cast<unsigned>(parse_count(value(), "--client-threads"));
    } else if (arg == "--verify-seconds") {
      o.verify_seconds = std::atof(value());
      if (!(o.verify_seconds > 0)) die("--verify-seconds: needs a positive number");
    } else if (arg == "--json") {
      o.json_file = value();
    } else if (arg == "--keep") {
      o.keep = true;
    } else {
      die("unknown option " + std::string(arg) + "\n" + usage(argv[0]));
    }
  }
  if (o.vellumd.empty()) {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    o.vellumd = ec ? std::string("vellumd") : (self.parent_path() / "vellumd").string();
  }
  if (o.batch_size > 1000) die("--batch-size: vellumd accepts at most 1000 events per batch by default");
  return o;
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

double self_cpu_seconds() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// utime + stime from the text of a /proc/.../stat file (fields 14 and 15).
double process_cpu_seconds_from_stat(const std::string& text) {
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
double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double process_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  return process_cpu_seconds_from_stat(
      std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
}

// CPU seconds of every thread of a process: tid -> ("tid (comm)", seconds).
std::map<int, std::pair<std::string, double>> thread_cpu_seconds(pid_t pid) {
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
std::vector<std::pair<std::string, double>> busiest_threads(const std::map<int, std::pair<std::string, double>>& before,
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

double percentile_ms(std::vector<std::uint32_t>& us, double p) {
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

std::string http_post(std::string_view content_type, std::string_view body) {
  std::string r;
  r.reserve(body.size() + 160);
  r += "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ";
  r += content_type;
  r += "\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

// Occurrences of `needle` in `text`.
std::size_t count_of(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (auto pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + needle.size())) ++n;
  return n;
}

// ---------------------------------------------------------------------------
// Events: ~700-byte JSON payloads (a JWS of ~1 KiB), spread over 1,000
// streams, expected_revision "any", signed with a key made at run time.

std::string make_uuid(std::mt19937_64& rng) {
  std::array<std::uint8_t, 16> b{};
  for (auto& x : b) x = static_cast<std::uint8_t>(rng());
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string h = crypto::hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
         h.substr(20, 12);
}

std::string make_payload(std::mt19937_64& rng, std::size_t i) {
  static constexpr std::array<std::string_view, 16> words{
      "patient", "reports", "improved", "sleep", "mood", "stable", "session", "focused",
      "on",      "coping",  "skills",   "and",   "plan", "agreed", "homework", "reviewed"};
  std::string note;
  while (note.size() < 380) {
    note += words[rng() % words.size()];
    note += ' ';
  }
  note.pop_back();
  json::object o;
  o["event_id"] = make_uuid(rng);
  o["stream"] = "therapy-" + std::to_string(i % 1000);
  o["type"] = "SessionDocumented";
  o["expected_revision"] = "any";
  o["occurred_at"] = "2026-11-25T09:30:00Z";
  o["author"] = {{"id", "clin-0042"}, {"name", "Dr. A. Example"}, {"role", "psychotherapist"}};
  o["meaning"] = "authored";
  o["data"] = {{"session", static_cast<std::uint64_t>(i % 40 + 1)},
               {"duration_minutes", 50},
               {"instrument", "PHQ-9"},
               {"score", static_cast<std::uint64_t>(rng() % 28)},
               {"note", note}};
  return json::serialize(o);
}

// Signs `count` payloads on all cores (before any timing).
std::vector<std::string> presign(const crypto::private_key& key, std::string_view kid, std::size_t count) {
  std::vector<std::string> out(count);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  std::atomic<bool> failed{false};
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937_64 rng(0x5eed0000 + t);  // fixed seeds: reproducible payloads
      const json::object header{{"kid", kid}, {"typ", "vellum-event+jws"}};
      for (std::size_t i = t; i < count; i += threads) {
        const std::string payload = make_payload(rng, i);
        auto jws = crypto::jws_sign(crypto::as_bytes(payload), key, header);
        if (!jws) {
          failed = true;
          return;
        }
        out[i] = std::move(*jws);
      }
    });
  }
  for (auto& t : pool) t.join();
  if (failed) die("jws_sign failed");
  return out;
}

// ---------------------------------------------------------------------------
// The bound: one-core Ed25519 verify/s.

// CPU seconds this thread has used.
double thread_cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// An in-process loop on this thread: EVP_DigestVerifyInit + EVP_DigestVerify
// per signature (what a server does per request), for `seconds` of wall
// time; verifies per CPU second of this thread (like `openssl speed`, which
// divides by CPU time, so other load on the machine does not lower it).
double evp_verify_per_second(double seconds) {
  auto key = crypto::private_key::generate(crypto::key_type::ed25519);
  if (!key) die("key generation failed");
  const std::string msg(1024, 'm');
  auto sig = key->sign(crypto::as_bytes(msg));
  if (!sig) die("sign failed");
  const auto raw = key->public_key().raw();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()), &EVP_PKEY_free);
  if (!pkey) die("EVP_PKEY_new_raw_public_key failed");
  std::size_t done = 0;
  const double cpu0 = thread_cpu_now();
  const auto until = steady::now() + std::chrono::duration<double>(seconds);
  do {
    for (int k = 0; k < 64; ++k) {
      std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
      if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1 ||
          EVP_DigestVerify(ctx.get(), sig->data(), sig->size(), reinterpret_cast<const unsigned char*>(msg.data()),
                           msg.size()) != 1)
        die("EVP verify failed");
      ++done;
    }
  } while (steady::now() < until);
  return static_cast<double>(done) / (thread_cpu_now() - cpu0);
}

// `openssl speed -seconds S ed25519`: the verify/s column of the Ed25519 line.
std::optional<double> openssl_speed_verify_per_second(double seconds) {
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

json::object to_json(const figure& f) {
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

void print(const figure& f) {
  std::printf("  %-44s %12.2f %-9s", f.what.c_str(), f.value, f.unit.c_str());
  if (f.has_bound()) std::printf(" / %s %.1f = ratio %.3f", f.bound_what.c_str(), f.bound, f.value / f.bound);
  if (!f.target_text.empty()) std::printf("  [target %s: %s]", f.target_text.c_str(), f.met() ? "met" : "MISSED");
  std::printf("\n");
}

// fdatasync latency of 4 KiB writes in `dir` (the disk the ledger commits to;
// an LMDB commit syncs twice: data pages, then the meta page).
std::vector<std::uint32_t> fdatasync_latencies_us(const std::string& dir, std::size_t count) {
  const std::string path = dir + "/fsync-probe";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) die("open " + path + ": " + std::strerror(errno));
  std::vector<std::uint32_t> out;
  const std::string page(4096, 'p');
  for (std::size_t i = 0; i < count; ++i) {
    const auto t0 = steady::now();
    if (::pwrite(fd, page.data(), page.size(), static_cast<off_t>(i * page.size())) !=
            static_cast<ssize_t>(page.size()) ||
        ::fdatasync(fd) != 0)
      die("write/fdatasync " + path + ": " + std::strerror(errno));
    out.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0).count()));
  }
  ::close(fd);
  ::unlink(path.c_str());
  return out;
}

void print_phase(const char* name, const load_result& r, std::size_t events_sent) {
  std::printf("%s: %zu requests (%zu events) in %.2f s, %zu failed requests, %zu events acknowledged\n", name,
              r.requests, events_sent, r.seconds, r.failed_requests, r.events_ok);
  std::printf("  CPU during the phase: load generator %.2f s, vellumd %.2f s, other processes %.2f s (of %.2f s x %u cores)\n",
              r.client_cpu_s, r.server_cpu_s, r.other_cpu_s, r.seconds, std::thread::hardware_concurrency());
  std::printf("  busiest vellumd threads (CPU s):");
  for (const auto& [thread, sec] : r.server_threads) std::printf(" %s %.2f;", thread.c_str(), sec);
  std::printf("\n");
  if (!r.first_error.empty()) std::printf("  first error: %s\n", r.first_error.c_str());
}

int run(const options& opt) {
  std::printf("ingest_bench: vellumd %s, %zu connections, %u client thread(s), %u cores\n", opt.vellumd.c_str(),
              opt.connections, opt.client_threads, std::thread::hardware_concurrency());
  if (::access(opt.vellumd.c_str(), X_OK) != 0) die("vellumd not found at " + opt.vellumd + " (use --vellumd PATH)");

  temp_dir dir("vellum-ingest-");
  if (opt.keep) dir.keep();
  const std::string data_dir = dir.path() + "/data";

  // A submitter key made now, registered through a configuration file (so
  // the server is not in demo mode), allowed on every stream.
  auto key = crypto::private_key::generate(crypto::key_type::ed25519);
  if (!key) die("key generation failed");
  const std::string kid = "bench-ehr";
  json::object cfg{{"listen", "127.0.0.1:0"}, {"data_dir", data_dir}, {"origin", "bench.vellum.localhost/log"}};
  cfg["submitters"] = json::array{json::object{
      {"kid", kid}, {"public_key", key->public_key().to_pem()}, {"streams", json::array{""}}}};
  cfg["limits"] = {{"max_batch_events", 1000}};
  const std::string cfg_file = dir.path() + "/vellumd.json";
  std::ofstream(cfg_file) << json::serialize(cfg);

  // 1. Pre-sign everything (untimed).
  const std::size_t warmup = std::min<std::size_t>(2000, std::max<std::size_t>(opt.single / 10, 64));
  const std::size_t total = warmup + opt.single + opt.batched;
  auto t0 = steady::now();
  const auto jws = presign(*key, kid, total);
  std::printf("pre-signed %zu events (JWS %zu bytes each on average) in %.2f s\n", total,
              [&] {
                std::size_t sum = 0;
                for (const auto& j : jws) sum += j.size();
                return sum / jws.size();
              }(),
              std::chrono::duration<double>(steady::now() - t0).count());

  // 2. The bound, on a quiet machine before the server starts.
  const auto speed = openssl_speed_verify_per_second(opt.verify_seconds);
  const double evp = evp_verify_per_second(opt.verify_seconds);
  if (speed)
    std::printf("openssl speed ed25519: %.1f verify/s on one core\n", *speed);
  else
    std::printf("openssl speed ed25519: openssl not installed; using the in-process loop as the bound\n");
  std::printf("in-process EVP verify loop: %.1f verify/s per CPU second of one thread\n", evp);
  fs::create_directories(data_dir);
  auto sync_us = fdatasync_latencies_us(data_dir, 200);
  std::printf("fdatasync (4 KiB, data dir): p50 %.2f ms, p99 %.2f ms\n", percentile_ms(sync_us, 50),
              percentile_ms(sync_us, 99));
  const double bound = speed ? *speed : evp;
  const std::string bound_what = speed ? "openssl speed ed25519 verify/s (1 core)" : "EVP verify/s (1 core)";

  std::vector<std::string> single_requests, warmup_requests, batch_requests;
  for (std::size_t i = 0; i < warmup; ++i) warmup_requests.push_back(http_post("application/jose", jws[i]));
  for (std::size_t i = warmup; i < warmup + opt.single; ++i) single_requests.push_back(http_post("application/jose", jws[i]));
  for (std::size_t i = warmup + opt.single; i < total; i += opt.batch_size) {
    std::string body;
    for (std::size_t k = i; k < std::min(total, i + opt.batch_size); ++k) {
      body += jws[k];
      body += '\n';
    }
    batch_requests.push_back(http_post("application/x-ndjson", body));
  }

  // 3. The server.
  server_process server(opt.vellumd, {"--config", cfg_file}, dir.path() + "/vellumd.log");
  const auto port = server.wait_listening(std::chrono::seconds(30));
  std::printf("vellumd pid %d listening on 127.0.0.1:%u (request log: %s)\n", static_cast<int>(server.pid()), port,
              (dir.path() + "/vellumd.log").c_str());

  const response_check single_check = [](unsigned status, const std::string&) -> std::size_t {
    return status == 201 ? 1 : 0;
  };
  const response_check batch_check = [](unsigned status, const std::string& body) -> std::size_t {
    if (status != 200) return 0;
    return count_of(body, "\"status\":201");
  };

  // The warm-up verifies every receipt offline (vellum-verify's library,
  // with the log key vellumd printed); the timed phases count statuses.
  auto log_key = crypto::note_verifier::from_vkey(server.verifier_key());
  if (!log_key) die("vellumd printed no usable verifier key: \"" + server.verifier_key() + "\"");
  const response_check receipt_verifies = [&log_key](unsigned status, const std::string& body) -> std::size_t {
    if (status != 201) return 0;
    boost::system::error_code ec;
    const auto v = json::parse(body, ec);
    return !ec && verifier::verify_receipt(v, *log_key).ok() ? 1 : 0;
  };
  {
    load_generator warm(port, warmup_requests, receipt_verifies);
    auto r = warm.run(opt.connections, opt.client_threads, server.pid());
    print_phase("warm-up (untimed, every receipt verified)", r, warmup);
    if (r.events_ok != warmup) die("warm-up failed: " + r.first_error + "\nvellumd log: " + server.tail_log());
  }

  load_generator single_gen(port, single_requests, single_check);
  auto single = single_gen.run(opt.connections, opt.client_threads, server.pid());
  print_phase("single-event requests", single, opt.single);

  load_generator batch_gen(port, batch_requests, batch_check);
  auto batched = batch_gen.run(opt.connections, opt.client_threads, server.pid());
  print_phase("batched requests", batched, opt.batched);

  server.stop();

  const double single_eps = static_cast<double>(single.events_ok) / single.seconds;
  const double batch_eps = static_cast<double>(batched.events_ok) / batched.seconds;
  const std::string batches = "batches of " + std::to_string(opt.batch_size);
  std::vector<figure> figures;
  auto add = [&figures](std::string id, std::string what, std::string unit, double value) -> figure& {
    figure& f = figures.emplace_back();
    f.id = std::move(id);
    f.what = std::move(what);
    f.unit = std::move(unit);
    f.value = value;
    return f;
  };
  if (speed) add("ed25519_verify_openssl_speed", "openssl speed ed25519 verify/s (1 core)", "verify/s", *speed);
  add("ed25519_verify_evp", "in-process EVP Ed25519 verify/s (1 core)", "verify/s", evp);
  add("fdatasync_p50_ms", "fdatasync of 4 KiB in the data dir, p50", "ms", percentile_ms(sync_us, 50));
  add("fdatasync_p99_ms", "fdatasync of 4 KiB in the data dir, p99", "ms", percentile_ms(sync_us, 99));
  add("ingest_single_events_per_s", "ingest, single-event requests", "events/s", single_eps)
      .against(bound_what, bound)
      .aim(">= 1.3", 1.3);
  add("ingest_single_p50_ms", "  latency p50", "ms", percentile_ms(single.latencies_us, 50));
  add("ingest_single_p99_ms", "  latency p99", "ms", percentile_ms(single.latencies_us, 99));
  add("ingest_single_vs_evp", "ingest, single-event requests", "events/s", single_eps)
      .against("EVP verify/s (1 core)", evp);
  add("ingest_batch_events_per_s", "ingest, " + batches, "events/s", batch_eps)
      .against(bound_what, bound)
      .aim(">= 1.6", 1.6);
  add("ingest_batch_p50_ms", "  request latency p50", "ms", percentile_ms(batched.latencies_us, 50));
  add("ingest_batch_p99_ms", "  request latency p99", "ms", percentile_ms(batched.latencies_us, 99));
  add("ingest_batch_vs_evp", "ingest, " + batches, "events/s", batch_eps).against("EVP verify/s (1 core)", evp);
  // Where the CPU goes: vellumd's CPU time per event against the cost of
  // the one signature check each event needs (1 / EVP verify/s).
  const double verify_us = 1e6 / evp;
  add("ingest_single_server_cpu_us", "vellumd CPU per event, single requests", "us",
      single.server_cpu_s * 1e6 / static_cast<double>(std::max<std::size_t>(single.events_ok, 1)))
      .against("one EVP verify (us)", verify_us);
  add("ingest_batch_server_cpu_us", "vellumd CPU per event, " + batches, "us",
      batched.server_cpu_s * 1e6 / static_cast<double>(std::max<std::size_t>(batched.events_ok, 1)))
      .against("one EVP verify (us)", verify_us);
  add("ingest_single_client_cpu_share", "load generator share of CPU used, single", "%",
      100.0 * single.client_cpu_s / std::max(single.client_cpu_s + single.server_cpu_s, 1e-9));
  // A model, not a measurement: the events/s the cores would sustain if
  // vellumd and the load generator had the machine to themselves (cores /
  // CPU seconds per event). Tells load from other processes apart from the
  // cost of the server itself.
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  auto ceiling = [cores](const load_result& r) {
    return cores * static_cast<double>(r.events_ok) / std::max(r.client_cpu_s + r.server_cpu_s, 1e-9);
  };
  add("ingest_single_cpu_ceiling", "CPU-time ceiling (model), single requests", "events/s", ceiling(single))
      .against(bound_what, bound);
  add("ingest_batch_cpu_ceiling", "CPU-time ceiling (model), " + batches, "events/s", ceiling(batched))
      .against(bound_what, bound);

  std::printf("\nresults (bounds measured in this run):\n");
  for (const auto& f : figures) print(f);

  const bool clean = single.failed_requests == 0 && batched.failed_requests == 0 &&
                     single.events_ok == opt.single && batched.events_ok == opt.batched;
  if (!opt.json_file.empty()) {
    json::object out{{"bench", "ingest_bench"}, {"clean", clean}};
    json::array fa;
    for (const auto& f : figures) fa.push_back(to_json(f));
    out["figures"] = std::move(fa);
    auto phase = [](const load_result& r, std::size_t events) {
      json::object threads;
      for (const auto& [name, sec] : r.server_threads) threads[name] = sec;
      return json::object{{"requests", r.requests},         {"events", events},
                          {"events_ok", r.events_ok},       {"failed_requests", r.failed_requests},
                          {"seconds", r.seconds},           {"client_cpu_s", r.client_cpu_s},
                          {"server_cpu_s", r.server_cpu_s}, {"other_processes_cpu_s", r.other_cpu_s},
                          {"server_busiest_threads_cpu_s", threads},
                          {"first_error", r.first_error}};
    };
    out["single"] = phase(single, opt.single);
    out["batched"] = phase(batched, opt.batched);
    out["setup"] = {{"connections", opt.connections},
                    {"client_threads", opt.client_threads},
                    {"batch_size", opt.batch_size},
                    {"cores", std::thread::hardware_concurrency()},
                    {"jws_bytes", jws.empty() ? 0 : jws.front().size()}};
    std::ofstream(opt.json_file) << json::serialize(out) << "\n";
  }
  if (!clean) {
    std::printf("\nNOT CLEAN: some requests failed (see first error above); vellumd log tail:\n%s\n",
                server.tail_log().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ::signal(SIGPIPE, SIG_IGN);
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ingest_bench: %s\n", e.what());
    return 2;
  }
}
