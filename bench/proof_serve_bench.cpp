// Proof-serving benchmark (not run in CI; scripts/bench runs it). Figure for
// docs/performance.md, issue "Server" / Performance:
//
//   inclusion proofs served by vellumd at tree size 1,000,000:
//   GET /v1/proofs/inclusion?seq=S&tree_size=1000000 over 64 keep-alive
//   connections (random S, fixed seed), the load generator on the same
//   machine: requests/s (target >= 30,000) and p50/p99 latency.
//
// Bounds measured in the same run: GET /healthz requests/s over the same
// connections (what the transport and the load generator can do on this
// machine at all), and in-process ledger::inclusion_proof calls/s on one
// thread (what one core spends on the proof itself).
//
// The log is built quickly and directly through the ledger API (sync off,
// batches of 1024 statements of ~1 KiB; the ledger stores what it is given,
// signature checks happen before it), then vellumd serves that data
// directory. Bounded: fixed counts, 127.0.0.1 only, a temporary directory
// removed at the end, vellumd stopped on every exit path.
//
// Usage: proof_serve_bench [--vellumd PATH] [--events N] [--requests N]
//                          [--connections N] [--client-threads N]
//                          [--json FILE] [--keep]

#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/merkle.hpp"
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
  std::uint64_t events = 1000000;
  std::size_t requests = 300000;
  std::size_t connections = 64;
  unsigned client_threads = 1;
  double proof_seconds = 2.0;
  std::string json_file;
  bool keep = false;
};

std::string usage(const char* argv0) {
  return std::string("usage: ") + argv0 +
         " [--vellumd PATH] [--events N] [--requests N] [--connections N]\n"
         "       [--client-threads N] [--proof-seconds S] [--json FILE] [--keep]\n"
         "Builds an N-event log through the ledger API, starts vellumd on it (127.0.0.1,\n"
         "port 0) and requests inclusion proofs at tree size N over keep-alive connections.\n";
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
    } else if (arg == "--events") {
      o.events = parse_count(value(), "--events");
    } else if (arg == "--requests") {
      o.requests = parse_count(value(), "--requests");
    } else if (arg == "--connections") {
      o.connections = parse_count(value(), "--connections");
    } else if (arg == "--client-threads") {
      o.client_threads = static_cast<unsigned>(parse_count(value(), "--client-threads"));
    } else if (arg == "--proof-seconds") {
      o.proof_seconds = std::atof(value());
      if (!(o.proof_seconds > 0)) die("--proof-seconds: needs a positive number");
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

// ---------------------------------------------------------------------------
// Building the log: statements of compact-JWS shape, ~1 KiB, over 1,000
// streams. Cheap to make (no signing): the ledger stores what it is given.

// A canonical lower-case UUID, version-4 layout, from a seeded generator
// (random like real event ids, and reproducible).
std::string random_uuid(std::mt19937_64& rng) {
  const std::uint64_t hi = rng(), lo = rng();
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-4%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32), static_cast<unsigned long long>((hi >> 16) & 0xffff),
                static_cast<unsigned long long>(hi & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return text;
}

ledger::statement fake_statement(std::uint64_t i, const std::string& filler, std::mt19937_64& rng) {
  ledger::statement s;
  s.event_id = random_uuid(rng);
  s.kid = "bench-ehr";
  s.stream = "therapy-" + std::to_string(i % 1000);
  s.type = "SessionDocumented";
  const std::string payload = "{\"event_id\":\"" + s.event_id + "\",\"stream\":\"" + s.stream +
                              "\",\"type\":\"SessionDocumented\",\"expected_revision\":\"any\",\"data\":{\"note\":\"" +
                              filler + "\"}}";
  s.jws = "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoLWVociJ9." + crypto::base64url_encode(crypto::as_bytes(payload)) +
          "." + std::string(86, 'S');
  return s;
}

struct build_result {
  double seconds = 0;
  std::size_t jws_bytes = 0;
};

build_result build_log(const std::string& data_dir, std::uint64_t events) {
  ledger::options lo;
  lo.data_dir = data_dir;
  lo.sync = false;  // building only; durability is not what is measured here
  std::string why;
  auto opened = ledger::ledger::open(lo, &why);
  if (!opened) die("ledger open: " + why);
  auto& led = **opened;
  const std::string filler(560, 'x');
  build_result r;
  std::mt19937_64 rng(0x5eed);
  r.jws_bytes = fake_statement(0, filler, rng).jws.size();
  const auto t0 = steady::now();
  std::vector<ledger::statement> batch;
  for (std::uint64_t i = 0; i < events;) {
    batch.clear();
    for (; i < events && batch.size() < 1024; ++i) batch.push_back(fake_statement(i, filler, rng));
    const auto outcomes = led.append(batch);
    for (const auto& o : outcomes)
      if (o.error) die("append failed at seq " + std::to_string(i) + ": " + o.error.message());
    if ((i & 0x3ffff) < 1024) {
      std::printf("  built %llu events\r", static_cast<unsigned long long>(i));
      std::fflush(stdout);
    }
  }
  r.seconds = std::chrono::duration<double>(steady::now() - t0).count();
  if (led.tree_size() != events) die("tree size " + std::to_string(led.tree_size()) + " after building");
  return r;
}

// CPU seconds this thread has used.
double thread_cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// In-process inclusion proofs on this thread for `seconds` of wall time:
// proofs per CPU second of this thread (other load on the machine does not
// lower it; page faults into the map do).
double inclusion_proofs_per_second(const std::string& data_dir, std::uint64_t size, double seconds) {
  ledger::options lo;
  lo.data_dir = data_dir;
  lo.sync = false;
  std::string why;
  auto opened = ledger::ledger::open(lo, &why);
  if (!opened) die("ledger open: " + why);
  std::mt19937_64 rng(4711);
  std::size_t done = 0;
  const double cpu0 = thread_cpu_now();
  const auto until = steady::now() + std::chrono::duration<double>(seconds);
  do {
    for (int k = 0; k < 256; ++k, ++done) {
      auto p = (*opened)->inclusion_proof(rng() % size, size);
      if (!p) die("inclusion_proof: " + p.error().message());
    }
  } while (steady::now() < until);
  return static_cast<double>(done) / (thread_cpu_now() - cpu0);
}

std::string http_get(std::string_view target, std::string_view token) {
  std::string r = "GET ";
  r += target;
  r += " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (!token.empty()) {
    r += "Authorization: Bearer ";
    r += token;
    r += "\r\n";
  }
  r += "\r\n";
  return r;
}

// Checks a GET /v1/proofs/inclusion answer completely: the proof leads from
// the leaf hash to the root of the checkpoint in the same answer.
bool proof_answer_verifies(const std::string& body, std::uint64_t tree_size) {
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto& o = v.as_object();
  const auto* seq = o.if_contains("seq");
  const auto* leaf = o.if_contains("leaf_hash");
  const auto* proof = o.if_contains("proof");
  const auto* note = o.if_contains("checkpoint");
  if (!seq || !seq->is_number() || !leaf || !leaf->is_string() || !proof || !proof->is_array() || !note ||
      !note->is_string())
    return false;
  auto to_hash = [](const json::value& x) -> std::optional<crypto::hash> {
    if (!x.is_string()) return std::nullopt;
    auto raw = crypto::base64_decode(x.get_string());
    if (!raw || raw->size() != 32) return std::nullopt;
    crypto::hash h{};
    std::copy(raw->begin(), raw->end(), h.begin());
    return h;
  };
  const auto leaf_hash = to_hash(*leaf);
  std::vector<crypto::hash> path;
  for (const auto& x : proof->as_array()) {
    auto h = to_hash(x);
    if (!h) return false;
    path.push_back(*h);
  }
  const std::string_view text = note->get_string();
  const auto blank = text.find("\n\n");
  if (!leaf_hash || blank == std::string_view::npos) return false;
  auto cp = crypto::parse_checkpoint(text.substr(0, blank + 1));
  if (!cp || cp->size != tree_size) return false;
  return static_cast<bool>(crypto::verify_inclusion(seq->to_number<std::uint64_t>(), tree_size, *leaf_hash, path, cp->root));
}

json::object phase_json(const load_result& r) {
  json::object threads;
  for (const auto& [name, sec] : r.server_threads) threads[name] = sec;
  return json::object{{"requests", r.requests},         {"ok", r.events_ok},
                      {"failed_requests", r.failed_requests}, {"seconds", r.seconds},
                      {"client_cpu_s", r.client_cpu_s}, {"server_cpu_s", r.server_cpu_s},
                      {"other_processes_cpu_s", r.other_cpu_s}, {"server_busiest_threads_cpu_s", threads},
                      {"first_error", r.first_error}};
}

int run(const options& opt) {
  std::printf("proof_serve_bench: vellumd %s, tree size %llu, %zu connections, %u client thread(s), %u cores\n",
              opt.vellumd.c_str(), static_cast<unsigned long long>(opt.events), opt.connections, opt.client_threads,
              std::thread::hardware_concurrency());
  if (::access(opt.vellumd.c_str(), X_OK) != 0) die("vellumd not found at " + opt.vellumd + " (use --vellumd PATH)");

  temp_dir dir("vellum-proofs-");
  if (opt.keep) dir.keep();
  const std::string data_dir = dir.path() + "/data";

  // 1. The log, through the ledger API.
  const auto built = build_log(data_dir, opt.events);
  std::printf("built a %llu-event log (statements of %zu bytes) in %.1f s: %.0f events/s with sync off\n",
              static_cast<unsigned long long>(opt.events), built.jws_bytes, built.seconds,
              static_cast<double>(opt.events) / built.seconds);

  // 2. Bound: in-process proofs on one core.
  const double in_process = inclusion_proofs_per_second(data_dir, opt.events, opt.proof_seconds);
  std::printf("in-process ledger::inclusion_proof at tree size %llu: %.0f proofs per CPU second (one thread)\n",
              static_cast<unsigned long long>(opt.events), in_process);

  // 3. vellumd on that data directory; reads need a reader token.
  const std::string token = "bench-reader-token-" + crypto::hex_encode(crypto::random_bytes(16));
  json::object cfg{{"listen", "127.0.0.1:0"}, {"data_dir", data_dir}};
  cfg["tokens"] = json::array{json::object{{"token", token}, {"role", "reader"}, {"name", "bench"}}};
  const std::string cfg_file = dir.path() + "/vellumd.json";
  std::ofstream(cfg_file) << json::serialize(cfg);
  server_process server(opt.vellumd, {"--config", cfg_file}, dir.path() + "/vellumd.log");
  const auto port = server.wait_listening(std::chrono::seconds(60));
  std::printf("vellumd pid %d listening on 127.0.0.1:%u\n", static_cast<int>(server.pid()), port);

  std::mt19937_64 rng(0x9e3779b9);
  std::vector<std::string> proof_requests;
  proof_requests.reserve(opt.requests);
  const std::string size_text = std::to_string(opt.events);
  for (std::size_t i = 0; i < opt.requests; ++i)
    proof_requests.push_back(
        http_get("/v1/proofs/inclusion?seq=" + std::to_string(rng() % opt.events) + "&tree_size=" + size_text, token));
  const std::vector<std::string> health_requests(std::max<std::size_t>(opt.requests / 2, 1), http_get("/healthz", ""));
  std::vector<std::string> warm_requests(proof_requests.begin(),
                                         proof_requests.begin() + static_cast<std::ptrdiff_t>(
                                                                      std::min<std::size_t>(5000, opt.requests)));

  const response_check ok_200 = [](unsigned status, const std::string&) -> std::size_t { return status == 200 ? 1 : 0; };
  const response_check proof_ok = [](unsigned status, const std::string& body) -> std::size_t {
    return status == 200 && body.find("\"proof\":[") != std::string::npos ? 1 : 0;
  };
  // The warm-up checks every answer completely (proof to the checkpoint's
  // root); the timed phase checks status and shape only.
  const std::uint64_t tree_size = opt.events;
  const response_check proof_verifies = [tree_size](unsigned status, const std::string& body) -> std::size_t {
    return status == 200 && proof_answer_verifies(body, tree_size) ? 1 : 0;
  };
  {
    load_generator warm(port, warm_requests, proof_verifies);
    auto r = warm.run(opt.connections, opt.client_threads, server.pid());
    print_phase("warm-up (untimed, every proof verified)", r, warm_requests.size());
    if (r.events_ok != warm_requests.size())
      die("warm-up failed: " + r.first_error + "\nvellumd log: " + server.tail_log());
  }
  load_generator health_gen(port, health_requests, ok_200);
  auto health = health_gen.run(opt.connections, opt.client_threads, server.pid());
  print_phase("GET /healthz", health, health_requests.size());
  load_generator proof_gen(port, proof_requests, proof_ok);
  auto proofs = proof_gen.run(opt.connections, opt.client_threads, server.pid());
  print_phase("GET /v1/proofs/inclusion", proofs, proof_requests.size());
  server.stop();

  const double proof_rps = static_cast<double>(proofs.events_ok) / proofs.seconds;
  const double health_rps = static_cast<double>(health.events_ok) / health.seconds;
  std::vector<figure> figures;
  auto add = [&figures](std::string id, std::string what, std::string unit, double value) -> figure& {
    figure& f = figures.emplace_back();
    f.id = std::move(id);
    f.what = std::move(what);
    f.unit = std::move(unit);
    f.value = value;
    return f;
  };
  add("proof_build_events_per_s", "log build through the ledger API, sync off", "events/s",
      static_cast<double>(opt.events) / built.seconds);
  add("inclusion_proofs_in_process_per_s", "ledger::inclusion_proof, per CPU second of 1 thread", "proofs/s", in_process);
  add("healthz_requests_per_s", "GET /healthz (transport ceiling)", "req/s", health_rps);
  add("proof_serve_requests_per_s", "inclusion proofs served at size " + size_text, "req/s", proof_rps)
      .against("GET /healthz req/s", health_rps)
      .aim(">= 30000 req/s", 30000, false);
  add("proof_serve_p50_ms", "  latency p50", "ms", percentile_ms(proofs.latencies_us, 50));
  add("proof_serve_p99_ms", "  latency p99", "ms", percentile_ms(proofs.latencies_us, 99));
  add("proof_serve_vs_in_process", "inclusion proofs served", "req/s", proof_rps)
      .against("in-process proofs per CPU second (1 thread)", in_process);
  // Where the CPU goes, and a model (not a measurement) of the requests/s
  // the cores would sustain if vellumd and the load generator had the
  // machine to themselves: cores / CPU seconds per request.
  const double served = static_cast<double>(std::max<std::size_t>(proofs.events_ok, 1));
  add("proof_serve_server_cpu_us", "vellumd CPU per proof request", "us", proofs.server_cpu_s * 1e6 / served)
      .against("one in-process proof (us)", 1e6 / in_process);
  add("proof_serve_client_cpu_us", "load generator CPU per request", "us", proofs.client_cpu_s * 1e6 / served);
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  add("proof_serve_cpu_ceiling", "CPU-time ceiling (model), proofs served", "req/s",
      cores * served / std::max(proofs.client_cpu_s + proofs.server_cpu_s, 1e-9));

  std::printf("\nresults (bounds measured in this run):\n");
  for (const auto& f : figures) print(f);

  const bool clean = proofs.failed_requests == 0 && health.failed_requests == 0 &&
                     proofs.events_ok == proof_requests.size();
  if (!opt.json_file.empty()) {
    json::object out{{"bench", "proof_serve_bench"}, {"clean", clean}};
    json::array fa;
    for (const auto& f : figures) fa.push_back(to_json(f));
    out["figures"] = std::move(fa);
    out["proofs"] = phase_json(proofs);
    out["healthz"] = phase_json(health);
    out["setup"] = {{"tree_size", opt.events},
                    {"connections", opt.connections},
                    {"client_threads", opt.client_threads},
                    {"cores", std::thread::hardware_concurrency()},
                    {"jws_bytes", built.jws_bytes}};
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
    std::fprintf(stderr, "proof_serve_bench: %s\n", e.what());
    return 2;
  }
}
