// Ledger benchmark (not run in CI). Figures for docs/performance.md:
//  1. append with verification already done: batches of 256 statements of
//     ~1 KiB, fsync per batch (sync=true): events/s, p50/p99 batch commit
//     latency, bytes on disk per event against the statement size;
//     the same through ledger::sequencer (prepare and commit pipelined),
//     the path vellumd takes, with random (version 4) event ids and with
//     time-ordered (version 7) ones, as `vellum submit` makes them;
//  2. inclusion proof generation at tree size 1,000,000 on one core.
//
// Usage: ledger_bench [--events N] [--no-sync] [--proof-tree N] [--proofs N] [--dir DIR]
// DIR (default: a fresh directory under the system temp dir) is removed at
// the end unless given.

#include "ledger/ledger.hpp"

#include "crypto/encoding.hpp"

#include "bench_support.hpp"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vellum;
using clock_type = std::chrono::steady_clock;
using bench::make_uuid;
using bench::open_ledger;

// Event ids as clients make them: random (version 4) or time-ordered
// (RFC 9562 version 7: 48-bit Unix milliseconds, then random bits; here the
// clock advances 1 ms every 100 events, i.e. 100,000 events/s).
enum class id_kind { random_v4, time_ordered_v7 };

std::string make_event_id(std::mt19937_64& rng, std::size_t i, id_kind kind) {
  if (kind == id_kind::random_v4) return make_uuid(rng);
  const std::uint64_t ms = 1773050400000ull + i / 100;
  const std::uint64_t r1 = rng(), r2 = rng();
  char text[40];
  std::snprintf(text, sizeof text, "%08llx-%04llx-7%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(ms >> 16), static_cast<unsigned long long>(ms & 0xffff),
                static_cast<unsigned long long>(r1 & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((r2 >> 48) & 0x3fff)),
                static_cast<unsigned long long>(r2 & 0xffffffffffffULL));
  return text;
}

// A statement of `size` bytes of compact-JWS shape (already "verified").
ledger::statement make_statement(std::mt19937_64& rng, std::size_t i, std::size_t size,
                                 id_kind ids = id_kind::random_v4) {
  ledger::statement s;
  s.event_id = make_event_id(rng, i, ids);
  s.kid = "emr-1";
  s.stream = "patient-" + std::to_string(i % 1000);
  s.type = "therapy.note";
  const std::string header = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVtci0xIn0";
  const std::string sig(86, 'S');
  const std::size_t payload = size > header.size() + sig.size() + 2
                                  ? size - header.size() - sig.size() - 2
                                  : 16;
  std::string body(payload, 'A');
  for (std::size_t k = 0; k < body.size(); k += 7) body[k] = static_cast<char>('a' + rng() % 26);
  s.jws = header + "." + body + "." + sig;
  return s;
}

// CPU time of the calling thread: per-core figures that other processes on
// a shared machine do not distort.
double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Bytes this process has passed to write calls so far (/proc/self/io
// "wchar"): LMDB writes every dirty page of a commit, so this shows how many
// bytes a commit costs against the bytes it stores.
std::uint64_t bytes_written() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (f == nullptr) return 0;
  char line[128];
  unsigned long long v = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::sscanf(line, "wchar: %llu", &v) == 1) break;
  }
  std::fclose(f);
  return v;
}

// CPU time of the whole process (all threads).
double process_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  return v[idx];
}

std::uint64_t allocated_bytes(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::uint64_t>(st.st_blocks) * 512;
}

// `events` statements of `statement_size` bytes in batches of `batch_size`.
std::vector<std::vector<ledger::statement>> make_batches(std::uint64_t seed, std::uint64_t events,
                                                         std::size_t batch_size,
                                                         std::size_t statement_size,
                                                         id_kind ids = id_kind::random_v4) {
  std::mt19937_64 rng(seed);
  std::vector<std::vector<ledger::statement>> batches;
  for (std::uint64_t i = 0; i < events;) {
    std::vector<ledger::statement> b;
    for (; b.size() < batch_size && i < events; ++i) b.push_back(make_statement(rng, i, statement_size, ids));
    batches.push_back(std::move(b));
  }
  return batches;
}

void bench_append(const std::string& dir, std::uint64_t events, std::size_t statement_size,
                  bool sync) {
  auto l = open_ledger(dir, sync);
  constexpr std::size_t batch_size = 256;
  auto batches = make_batches(1, events, batch_size, statement_size);
  std::vector<double> latencies_ms;
  latencies_ms.reserve(batches.size());
  const auto start = clock_type::now();
  const double cpu_start = thread_cpu_seconds();
  const std::uint64_t written_start = bytes_written();
  for (const auto& b : batches) {
    const auto t0 = clock_type::now();
    auto out = l->append(b);
    const auto t1 = clock_type::now();
    for (const auto& o : out) {
      if (o.error) {
        std::fprintf(stderr, "append failed: %s\n", o.error.message().c_str());
        std::exit(1);
      }
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const double cpu = thread_cpu_seconds() - cpu_start;
  const std::uint64_t written = bytes_written() - written_start;
  const std::uint64_t file = std::filesystem::file_size(dir + "/data.mdb");
  const std::uint64_t allocated = allocated_bytes(dir + "/data.mdb");
  const double n = static_cast<double>(events);
  std::printf("append: %llu events of %zu-byte statements in batches of %zu, %s\n",
              static_cast<unsigned long long>(events), statement_size, batch_size,
              sync ? "fsync per batch" : "no fsync (--no-sync)");
  std::printf("  throughput          %.0f events/s (%.2f s wall, %.2f s CPU: %.0f events per "
              "CPU second)\n",
              n / seconds, seconds, cpu, n / cpu);
  std::printf("  batch commit        p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
              percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.99),
              percentile(latencies_ms, 1.0));
  std::printf("  on disk per event   %.0f bytes (file) / %.0f bytes (allocated), statement %zu "
              "bytes: x%.2f\n",
              static_cast<double>(file) / n, static_cast<double>(allocated) / n, statement_size,
              static_cast<double>(allocated) / n / static_cast<double>(statement_size));
  std::printf("  written per event   %.0f bytes through write calls (every dirty page of each "
              "commit): x%.2f the bytes stored\n",
              static_cast<double>(written) / n,
              static_cast<double>(written) / static_cast<double>(std::max<std::uint64_t>(file, 1)));
}

// The same appends through ledger::sequencer, the path vellumd uses: one
// thread prepares batch N+1 (sequencing, records, hashes, checkpoint,
// receipts) while another writes and fsyncs batch N. A client keeps
// `window` batches of 256 in flight; a batch's latency runs from the
// submission of its first statement to the completion of its last.
void bench_pipelined(const std::string& dir, std::uint64_t events, std::size_t statement_size,
                     bool sync, id_kind ids) {
  auto l = open_ledger(dir, sync);
  constexpr std::size_t batch_size = 256;
  constexpr std::size_t window = 4;
  auto batches = make_batches(3, events, batch_size, statement_size, ids);
  const std::uint64_t written_start = bytes_written();
  struct batch_state {
    clock_type::time_point submitted;
    std::size_t remaining = 0;
  };
  std::vector<batch_state> state(batches.size());
  std::mutex mu;
  std::condition_variable cv;
  std::size_t open_batches = 0;
  std::size_t failures = 0;
  std::string first_error;
  std::vector<double> latencies_ms;
  latencies_ms.reserve(batches.size());
  std::atomic<std::uint64_t> commits{0};
  const auto start = clock_type::now();
  const double cpu_start = process_cpu_seconds();
  {
    ledger::sequencer seq(*l, 1 << 20, batch_size);
    seq.on_commit([&](std::uint64_t) { ++commits; });
    for (std::size_t k = 0; k < batches.size(); ++k) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return open_batches < window; });
        ++open_batches;
        state[k].submitted = clock_type::now();
        state[k].remaining = batches[k].size();
      }
      for (auto& s : batches[k]) {
        auto r = seq.submit(std::move(s), [&, k](ledger::append_outcome o) {
          std::lock_guard lock(mu);
          if (o.error && failures++ == 0) first_error = o.error.message();
          if (--state[k].remaining == 0) {
            latencies_ms.push_back(
                std::chrono::duration<double, std::milli>(clock_type::now() - state[k].submitted)
                    .count());
            --open_batches;
            cv.notify_all();
          }
        });
        if (!r) {
          std::fprintf(stderr, "submit failed: %s\n", r.error().message().c_str());
          std::exit(1);
        }
      }
    }
    seq.stop();
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  const double cpu = process_cpu_seconds() - cpu_start;
  if (failures != 0) {
    std::fprintf(stderr, "append failed (%zu events): %s\n", failures, first_error.c_str());
    std::exit(1);
  }
  const double n = static_cast<double>(events);
  const char* tag = ids == id_kind::random_v4 ? "" : " (v7 ids)";
  std::printf("pipelined append%s: %llu events of %zu-byte statements through ledger::sequencer, "
              "%zu batches of %zu in flight, %s, %s event ids\n",
              tag, static_cast<unsigned long long>(events), statement_size, window, batch_size,
              sync ? "fsync per batch" : "no fsync (--no-sync)",
              ids == id_kind::random_v4 ? "random (version 4)" : "time-ordered (version 7)");
  std::printf("  pipelined throughput%s %.0f events/s (%.2f s wall, %.2f s CPU in all threads; "
              "%llu commits, %.0f events per commit)\n",
              tag, n / seconds, seconds, cpu, static_cast<unsigned long long>(commits.load()),
              n / static_cast<double>(std::max<std::uint64_t>(commits.load(), 1)));
  std::printf("  pipelined written%s %.0f bytes per event through write calls\n", tag,
              static_cast<double>(bytes_written() - written_start) / n);
  std::printf("  pipelined batch%s      p50 %.2f ms, p99 %.2f ms, max %.2f ms (submission to last "
              "completion)\n",
              tag, percentile(latencies_ms, 0.50), percentile(latencies_ms, 0.99),
              percentile(latencies_ms, 1.0));
}

void bench_proofs(const std::string& dir, std::uint64_t tree, std::uint64_t proofs) {
  auto l = open_ledger(dir, false);
  std::mt19937_64 rng(2);
  const auto fill_start = clock_type::now();
  while (l->tree_size() < tree) {
    std::vector<ledger::statement> b;
    const std::uint64_t base = l->tree_size();
    for (std::uint64_t i = 0; i < 4096 && base + i < tree; ++i) {
      b.push_back(make_statement(rng, base + i, 64));
    }
    for (const auto& o : l->append(b)) {
      if (o.error) {
        std::fprintf(stderr, "append failed: %s\n", o.error.message().c_str());
        std::exit(1);
      }
    }
  }
  const double fill = std::chrono::duration<double>(clock_type::now() - fill_start).count();
  std::vector<std::uint64_t> seqs(proofs);
  for (auto& s : seqs) s = rng() % tree;
  std::size_t hashes = 0;
  const auto start = clock_type::now();
  const double cpu_start = thread_cpu_seconds();
  for (std::uint64_t s : seqs) {
    auto p = l->inclusion_proof(s, tree);
    if (!p) {
      std::fprintf(stderr, "proof failed: %s\n", p.error().message().c_str());
      std::exit(1);
    }
    hashes += p->size();
  }
  const double cpu = thread_cpu_seconds() - cpu_start;
  const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
  std::printf("inclusion proofs at tree size %llu (filled in %.1f s, sync off)\n",
              static_cast<unsigned long long>(tree), fill);
  std::printf("  one core            %.0f proofs/s of CPU time, %.0f proofs/s wall "
              "(%llu proofs, %.1f hashes each)\n",
              static_cast<double>(proofs) / cpu, static_cast<double>(proofs) / seconds,
              static_cast<unsigned long long>(proofs),
              static_cast<double>(hashes) / static_cast<double>(proofs));
}

std::uint64_t parse_number(const char* flag, const char* text) {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0') {
    std::fprintf(stderr, "%s wants a number, got \"%s\"\n", flag, text);
    std::exit(2);
  }
  return v;
}

}  // namespace

static int bench_main(int argc, char** argv) {
  std::uint64_t events = 100'000;
  std::uint64_t tree = 1'000'000;
  std::uint64_t proofs = 200'000;
  std::string dir;
  bool sync = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--no-sync") {
      sync = false;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--events N] [--no-sync] [--proof-tree N] [--proofs N] [--dir DIR]\n",
                   argv[0]);
      return 2;
    }
    const char* value = argv[++i];
    if (arg == "--events") {
      events = parse_number("--events", value);
    } else if (arg == "--proof-tree") {
      tree = parse_number("--proof-tree", value);
    } else if (arg == "--proofs") {
      proofs = parse_number("--proofs", value);
    } else if (arg == "--dir") {
      dir = value;
    } else {
      std::fprintf(stderr, "unknown option %s\n", argv[i - 1]);
      return 2;
    }
  }
  const bool temporary = dir.empty();
  if (temporary) {
    dir = (std::filesystem::temp_directory_path() /
           ("vellum-bench-" + std::to_string(std::random_device{}())))
              .string();
  }
  if (events > 0) bench_append(dir + "/append", events, 1024, sync);
  if (events > 0) bench_pipelined(dir + "/pipelined", events, 1024, sync, id_kind::random_v4);
  if (events > 0) bench_pipelined(dir + "/pipelined-v7", events, 1024, sync, id_kind::time_ordered_v7);
  if (tree > 0 && proofs > 0) bench_proofs(dir + "/proofs", tree, proofs);
  if (temporary) std::filesystem::remove_all(dir);
  return 0;
}

int main(int argc, char** argv) {
  try {
    return bench_main(argc, argv);
  } catch (const std::exception& e) {  // bench::die: a clear reason, exit 2
    std::fprintf(stderr, "ledger_bench: %s\n", e.what());
    return 2;
  }
}
