// Scaling benchmark (not run in CI; scripts/bench runs it). The curve asked
// for in the CLI/benchmarks issue: how the cost of the log grows with its
// size. One log is grown through the ledger API to 10^4, 10^5, 10^6 (and
// 10^7 with --full) events; at each size:
//   - append throughput: batches of 256 statements of ~1 KiB, sync on (one
//     fsync per batch, as vellumd runs), events/s and p50/p99/max batch
//     commit; 300 batches from a merged index cross one index merge;
//   - inclusion proof latency through the ledger API at the current size
//     (random seqs, one thread): p50/p99 (wall) and proofs per CPU second;
//   - bytes on disk per event (allocated blocks of data.mdb, as du counts
//     them, divided by the tree size) against the statement size.
// The first size's figures are the bound the later ones are divided by
// (same run, same machine): a ratio near 1.0 means the cost does not grow.
//
// Growing between sizes uses sync off and batches of 1024 (it is not what
// is measured). Time-boxed: a size whose projected growth does not fit in
// --budget seconds is skipped and reported as such.
//
// Usage: scaling_bench [--full] [--sizes N,N,...] [--budget S]
//                      [--batches N] [--proofs N] [--dir DIR] [--json FILE]
//                      [--keep]

#include "crypto/encoding.hpp"
#include "ledger/ledger.hpp"

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace vellum;
using namespace vellum::bench;

struct options {
  std::vector<std::uint64_t> sizes{10000, 100000, 1000000};
  double budget_s = 600;        // growth + measurement, all sizes together
  std::size_t batches = 300;    // measured batches of 256 per size (crosses one index merge)
  std::size_t proofs = 20000;   // measured proofs per size
  std::string dir;              // default: a fresh temporary directory
  std::string json_file;
  bool keep = false;
};

std::uint64_t parse_count(std::string_view text, std::string_view flag) {
  std::uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') die(std::string(flag) + ": needs positive integers");
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (text.empty() || v == 0) die(std::string(flag) + ": needs positive integers");
  return v;
}

options parse_options(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) die(std::string(arg) + ": missing value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--full] [--sizes N,N,...] [--budget S] [--batches N] [--proofs N]\n"
          "       [--dir DIR] [--json FILE] [--keep]\n"
          "Grows one log to each size (default 10^4,10^5,10^6; --full adds 10^7) and measures\n"
          "append throughput (batches of 256, sync on), inclusion proof latency and bytes on disk.\n",
          argv[0]);
      std::exit(0);
    } else if (arg == "--full") {
      o.sizes = {10000, 100000, 1000000, 10000000};
    } else if (arg == "--sizes") {
      o.sizes.clear();
      std::string_view list = value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        o.sizes.push_back(parse_count(list.substr(0, comma), "--sizes"));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
      if (!std::is_sorted(o.sizes.begin(), o.sizes.end())) die("--sizes: must be increasing");
    } else if (arg == "--budget") {
      o.budget_s = static_cast<double>(parse_count(value(), "--budget"));
    } else if (arg == "--batches") {
      o.batches = parse_count(value(), "--batches");
    } else if (arg == "--proofs") {
      o.proofs = parse_count(value(), "--proofs");
    } else if (arg == "--dir") {
      o.dir = value();
    } else if (arg == "--json") {
      o.json_file = value();
    } else if (arg == "--keep") {
      o.keep = true;
    } else {
      die("unknown option " + std::string(arg));
    }
  }
  if (o.sizes.empty()) die("--sizes: empty");
  return o;
}

std::uint32_t micros_since(steady::time_point t0) {
  return static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - t0).count());
}

// Statements of compact-JWS shape, ~1 KiB, over 1,000 streams, numbered
// from 0; the ledger stores what it is given (signatures are checked before
// it, in vellumd).
class statement_maker {
 public:
  ledger::statement next() { return fake_statement(counter_++, filler_, rng_); }

 private:
  std::uint64_t counter_ = 0;
  std::mt19937_64 rng_{0x5ca1ab1e};
  std::string filler_ = std::string(560, 'x');
};

// Appends `count` statements in batches of `batch`, stopping early once
// `deadline` has passed; returns each batch's commit latency in µs.
std::vector<std::uint32_t> append_n(ledger::ledger& led, statement_maker& make, std::uint64_t count,
                                    std::size_t batch,
                                    steady::time_point deadline = steady::time_point::max()) {
  std::vector<std::uint32_t> latencies;
  std::vector<ledger::statement> b;
  for (std::uint64_t done = 0; done < count && steady::now() < deadline;) {
    b.clear();
    for (; done < count && b.size() < batch; ++done) b.push_back(make.next());
    const auto t0 = steady::now();
    const auto outcomes = led.append(b);
    latencies.push_back(micros_since(t0));
    for (const auto& o : outcomes)
      if (o.error) die("append failed: " + o.error.message());
  }
  return latencies;
}

struct disk_usage {
  std::uint64_t allocated = 0;  // st_blocks * 512 (what du counts)
  std::uint64_t apparent = 0;   // st_size
};

disk_usage data_mdb_usage(const std::string& dir) {
  struct stat st {};
  const std::string path = dir + "/data.mdb";
  if (::stat(path.c_str(), &st) != 0) die("stat " + path + ": " + std::strerror(errno));
  return {static_cast<std::uint64_t>(st.st_blocks) * 512, static_cast<std::uint64_t>(st.st_size)};
}

struct point {
  std::uint64_t target = 0;
  bool reached = false;
  std::string skipped_because;
  std::uint64_t tree_size = 0;        // size when the measurement started
  std::uint64_t measured_events = 0;  // appended while measuring (sync on)
  std::uint64_t size_after = 0;       // size the bytes on disk are divided by
  double grow_s = 0, grow_eps = 0;
  double append_eps = 0, commit_p50_ms = 0, commit_p99_ms = 0, commit_max_ms = 0;
  double proof_p50_ms = 0, proof_p99_ms = 0, proofs_per_s = 0;
  double bytes_per_event = 0, apparent_bytes_per_event = 0;
};

// Prints the table (when `print`) and writes the JSON file: called after
// every size, so a run stopped from outside still leaves its results.
void report(const options& opt, const std::vector<point>& points, std::size_t statement_bytes, double elapsed_s,
            bool print) {
  // The first measured size is the bound for the later ones.
  const point* base = nullptr;
  for (const auto& p : points)
    if (p.reached) {
      base = &p;
      break;
    }
  if (!base) return;
  if (print) std::printf("\nresults (bound: the first size, %llu events, measured in this run):\n",
              static_cast<unsigned long long>(base->tree_size));
  if (print) std::printf("  %10s %12s %8s %10s %10s %10s %10s %10s %8s %12s %8s\n", "tree size", "append ev/s", "ratio",
              "commit p99", "commit max", "proof p50", "proof p99", "proofs/s", "ratio", "bytes/event", "÷ stmt");
  json::array out_points;
  for (const auto& p : points) {
    if (!p.reached) {
      if (print) std::printf("  %10llu skipped: %s\n", static_cast<unsigned long long>(p.target), p.skipped_because.c_str());
      out_points.push_back({{"target", p.target}, {"reached", false}, {"skipped_because", p.skipped_because}});
      continue;
    }
    if (print) std::printf("  %10llu %12.0f %8.3f %8.2fms %8.2fms %8.4fms %8.4fms %10.0f %8.3f %12.0f %8.2f\n",
                static_cast<unsigned long long>(p.tree_size), p.append_eps, p.append_eps / base->append_eps,
                p.commit_p99_ms, p.commit_max_ms, p.proof_p50_ms, p.proof_p99_ms, p.proofs_per_s, p.proofs_per_s / base->proofs_per_s,
                p.bytes_per_event, p.bytes_per_event / static_cast<double>(statement_bytes));
    out_points.push_back({{"target", p.target},
                          {"reached", true},
                          {"tree_size", p.tree_size},
                          {"measured_appends", p.measured_events},
                          {"size_for_bytes_per_event", p.size_after},
                          {"grow_seconds", p.grow_s},
                          {"grow_events_per_s_sync_off", p.grow_eps},
                          {"append_events_per_s", p.append_eps},
                          {"append_ratio_vs_first", p.append_eps / base->append_eps},
                          {"commit_p50_ms", p.commit_p50_ms},
                          {"commit_p99_ms", p.commit_p99_ms},
                          {"commit_max_ms", p.commit_max_ms},
                          {"proof_p50_ms", p.proof_p50_ms},
                          {"proof_p99_ms", p.proof_p99_ms},
                          {"proofs_per_s", p.proofs_per_s},
                          {"proofs_ratio_vs_first", p.proofs_per_s / base->proofs_per_s},
                          {"bytes_per_event", p.bytes_per_event},
                          {"apparent_bytes_per_event", p.apparent_bytes_per_event},
                          {"bytes_per_event_over_statement", p.bytes_per_event / static_cast<double>(statement_bytes)}});
  }
  // The same figures in the suite's common shape (what, value, bound, ratio).
  json::array figures;
  auto add = [&figures](std::string id, std::string what, double value, std::string_view unit) -> json::object& {
    figures.push_back(json::object{{"id", id}, {"what", what}, {"value", value}, {"unit", unit}});
    return figures.back().as_object();
  };
  auto bounded = [](json::object& f, std::string what, double bound) {
    f["bound"] = {{"what", what}, {"value", bound}};
    f["ratio"] = f["value"].as_double() / bound;
  };
  const std::string first = std::to_string(base->tree_size);
  for (const auto& p : points) {
    if (!p.reached) continue;
    const std::string at = std::to_string(p.tree_size);
    bounded(add("scaling_append_" + at, "size " + at + ": append, batches of 256, sync on", p.append_eps, "events/s"),
            "same at size " + first, base->append_eps);
    add("scaling_commit_p99_" + at, "size " + at + ": batch commit p99", p.commit_p99_ms, "ms");
    add("scaling_commit_max_" + at, "size " + at + ": slowest batch commit (an index merge)", p.commit_max_ms, "ms");
    add("scaling_proof_p50_" + at, "size " + at + ": inclusion proof p50", p.proof_p50_ms, "ms");
    add("scaling_proof_p99_" + at, "size " + at + ": inclusion proof p99", p.proof_p99_ms, "ms");
    bounded(add("scaling_proofs_" + at, "size " + at + ": inclusion proofs per CPU second, 1 thread", p.proofs_per_s, "proofs/s"),
            "same at size " + first, base->proofs_per_s);
    bounded(add("scaling_bytes_" + at, "size " + at + ": bytes on disk per event", p.bytes_per_event, "bytes"),
            "statement size", static_cast<double>(statement_bytes));
  }
  if (!opt.json_file.empty()) {
    json::object out{{"bench", "scaling_bench"}, {"clean", true}};
    out["figures"] = std::move(figures);
    out["setup"] = {{"statement_bytes", statement_bytes},
                    {"measured_batches", opt.batches},
                    {"batch_size", 256},
                    {"proofs", opt.proofs},
                    {"budget_s", opt.budget_s},
                    {"elapsed_s", elapsed_s}};
    out["points"] = std::move(out_points);
    std::ofstream(opt.json_file) << json::serialize(out) << "\n";
  }
}

int run(const options& opt) {
  std::string dir = opt.dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::string pattern = (fs::temp_directory_path() / "vellum-scaling-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) die("mkdtemp: " + std::string(std::strerror(errno)));
    dir = pattern;
  }
  struct cleanup {
    std::string path;
    bool remove;
    ~cleanup() {
      std::error_code ec;
      if (remove) fs::remove_all(path, ec);
    }
  } cleaner{dir, own_dir && !opt.keep};
  const std::string data_dir = dir + "/data";

  statement_maker make;
  const std::size_t statement_bytes = statement_maker{}.next().jws.size();
  std::printf("scaling_bench: sizes");
  for (auto s : opt.sizes) std::printf(" %llu", static_cast<unsigned long long>(s));
  std::printf(", up to %zu measured batches of 256 (sync on) and %zu proofs per size, statements of %zu bytes, budget %.0f s\n",
              opt.batches, opt.proofs, statement_bytes, opt.budget_s);

  const auto started = steady::now();
  auto elapsed = [&] { return std::chrono::duration<double>(steady::now() - started).count(); };
  std::vector<point> points;
  std::uint64_t size = 0;
  double grow_rate = 0;      // events/s of the last growth (sync off)
  double measure_cost = 0;   // seconds the last measurement took
  std::mt19937_64 rng(4711);

  for (const auto target : opt.sizes) {
    point pt;
    pt.target = target;
    const std::uint64_t to_grow = target > size ? target - size : 0;
    if (grow_rate > 0) {
      // Growth slows as the log grows; assume half the last rate.
      const double projected = static_cast<double>(to_grow) / (grow_rate / 2) + measure_cost;
      if (elapsed() + projected > opt.budget_s) {
        char why[160];
        std::snprintf(why, sizeof why, "projected %.0f s to grow and measure, %.0f s of the %.0f s budget left",
                      projected, opt.budget_s - elapsed(), opt.budget_s);
        pt.skipped_because = why;
        std::printf("size %llu: skipped (%s)\n", static_cast<unsigned long long>(target), why);
        points.push_back(pt);
        report(opt, points, statement_bytes, elapsed(), false);
        continue;
      }
    }
    {
      auto led = open_ledger(data_dir, false);
      const auto t0 = steady::now();
      // Leave room for the measurement after growing (as long as the last one took).
      const auto deadline = started + std::chrono::duration_cast<steady::duration>(
                                          std::chrono::duration<double>(opt.budget_s - measure_cost));
      append_n(*led, make, to_grow, 1024, deadline);
      pt.grow_s = std::chrono::duration<double>(steady::now() - t0).count();
      const std::uint64_t grown = led->tree_size() - size;
      if (grown > 0) pt.grow_eps = static_cast<double>(grown) / pt.grow_s;
      if (grown >= 10000) grow_rate = pt.grow_eps;
      size = led->tree_size();
    }
    if (size < target) {
      char why[160];
      std::snprintf(why, sizeof why, "the %.0f s budget ran out while growing, at %llu events", opt.budget_s,
                    static_cast<unsigned long long>(size));
      pt.skipped_because = why;
      std::printf("size %llu: skipped (%s)\n", static_cast<unsigned long long>(target), why);
      points.push_back(pt);
      break;
    }
    const auto m0 = steady::now();
    {
      // Appends as vellumd does them: sync on, batches of 256, starting at
      // this size (small sizes measure fewer batches so the window stays
      // close to the size: at most about the size itself).
      auto led = open_ledger(data_dir, true);
      const std::uint64_t measured_at = led->tree_size();
      pt.tree_size = measured_at;
      const std::size_t batches =
          std::min<std::size_t>(opt.batches, std::max<std::uint64_t>(20, measured_at / 256));
      pt.measured_events = std::uint64_t{256} * batches;
      // Start with the index merged (untimed), so that 300 batches (76,800
      // events) cross exactly one merge at the 65,536 mark, as a load that
      // never pauses does once every 65,536 events (docs/architecture.md).
      if (auto m = led->merge_index(0); !m) die("merge_index: " + m.error().message());
      const auto t0 = steady::now();
      auto commits = append_n(*led, make, pt.measured_events, 256);
      const double s = std::chrono::duration<double>(steady::now() - t0).count();
      pt.append_eps = static_cast<double>(pt.measured_events) / s;
      pt.commit_p50_ms = percentile_ms(commits, 50);
      pt.commit_p99_ms = percentile_ms(commits, 99);
      pt.commit_max_ms = percentile_ms(commits, 100);
      size = led->tree_size();

      // Inclusion proofs at tree size `measured_at` (any size up to the
      // current one is served), one thread, random seqs; proofs/s is per
      // CPU second (other load does not lower it), latencies are wall time.
      std::vector<std::uint32_t> proof_us;
      proof_us.reserve(opt.proofs);
      const double cpu0 = thread_cpu_now();
      for (std::size_t i = 0; i < opt.proofs; ++i) {
        const auto t = steady::now();
        auto p = led->inclusion_proof(rng() % measured_at, measured_at);
        proof_us.push_back(micros_since(t));
        if (!p) die("inclusion_proof: " + p.error().message());
      }
      pt.proofs_per_s = static_cast<double>(opt.proofs) / (thread_cpu_now() - cpu0);
      pt.proof_p50_ms = percentile_ms(proof_us, 50);
      pt.proof_p99_ms = percentile_ms(proof_us, 99);
    }
    measure_cost = std::chrono::duration<double>(steady::now() - m0).count();
    const auto du = data_mdb_usage(data_dir);
    pt.size_after = size;
    pt.bytes_per_event = static_cast<double>(du.allocated) / static_cast<double>(size);
    pt.apparent_bytes_per_event = static_cast<double>(du.apparent) / static_cast<double>(size);
    pt.reached = true;
    std::printf(
        "size %9llu: grew %.1f s (%.0f ev/s sync off) | append %.0f ev/s, commit p50 %.2f ms p99 %.2f ms "
        "max %.2f ms | proof p50 %.4f ms p99 %.4f ms (%.0f/s) | %.0f bytes/event on disk\n",
        static_cast<unsigned long long>(pt.tree_size), pt.grow_s, pt.grow_eps, pt.append_eps, pt.commit_p50_ms,
        pt.commit_p99_ms, pt.commit_max_ms, pt.proof_p50_ms, pt.proof_p99_ms, pt.proofs_per_s, pt.bytes_per_event);
    std::fflush(stdout);
    points.push_back(pt);
    report(opt, points, statement_bytes, elapsed(), false);
  }

  report(opt, points, statement_bytes, elapsed(), true);
  if (std::none_of(points.begin(), points.end(), [](const point& p) { return p.reached; })) die("no size was reached");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scaling_bench: %s\n", e.what());
    return 2;
  }
}
