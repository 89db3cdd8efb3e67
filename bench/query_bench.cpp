// Indexed-query benchmark (not run in CI; scripts/bench runs it): what a
// GET /v1/query page costs as the log grows, through ledger::query. One log
// is grown through the ledger API (sync off, batches of 1024) to 10^4, 10^5,
// 10^6 (and 10^7 with --full) events of bench_support.hpp's fake_statement
// (1,000 streams, 97 authors, one "RiskAssessed" in 100 events, occurred_at
// one second apart with jitter). At each size, from random cursors, one
// thread, wall-clock latency of:
//   type      type=RiskAssessed, 20 events          (one index)
//   author    author=clin-7, 20 events               (one index)
//   stream    stream=therapy-7, 10 events            (stream index)
//   and       type=RiskAssessed&author=clin-7, 1 event (leapfrog; 1 in 9,700)
//   recorded  a recorded_at window of 100 events     (by_recorded)
//   occurred  an occurred_at window of 100 events    (by_occurred)
//   prefix    prefix=therapy-12 (11 streams), 20 events (merged streams)
// The bound, measured in the same run at the same size: as many point reads
// (ledger::event_by_seq of random seqs) as the page returns events. A page
// costs O(log n + results) if its ratio to that bound stays flat as the log
// grows 1000-fold; a scan would grow with the log.
//
// Usage: query_bench [--full] [--sizes N,N,...] [--queries N] [--dir DIR] [--json FILE] [--keep]

#include "crypto/leaf_entry.hpp"
#include "ledger/ledger.hpp"

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace vellum;
using namespace vellum::bench;

struct options {
  std::vector<std::uint64_t> sizes{10000, 100000, 1000000};
  std::size_t queries = 2000;  // per shape and size
  std::string dir, json_file;
  bool keep = false;
};

options parse_options(int argc, char** argv) {
  options o;
  auto count = [](std::string_view text, std::string_view flag) {
    std::uint64_t v = 0;
    for (char c : text) {
      if (c < '0' || c > '9') die(std::string(flag) + ": needs positive integers");
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (text.empty() || v == 0) die(std::string(flag) + ": needs positive integers");
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) die(std::string(arg) + ": missing value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::printf(
          "usage: %s [--full] [--sizes N,N,...] [--queries N] [--dir DIR] [--json FILE] [--keep]\n"
          "Grows one log to each size (default 10^4,10^5,10^6; --full adds 10^7) and measures\n"
          "GET /v1/query pages through ledger::query against as many point reads.\n",
          argv[0]);
      std::exit(0);
    } else if (arg == "--full") {
      o.sizes = {10000, 100000, 1000000, 10000000};
    } else if (arg == "--sizes") {
      o.sizes.clear();
      std::string_view list = value();
      while (!list.empty()) {
        const auto comma = list.find(',');
        o.sizes.push_back(count(list.substr(0, comma), "--sizes"));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
      if (o.sizes.empty() || !std::is_sorted(o.sizes.begin(), o.sizes.end())) die("--sizes: must be increasing");
    } else if (arg == "--queries") {
      o.queries = count(value(), "--queries");
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
  return o;
}

struct shape {
  const char* name;
  std::size_t limit;
};
constexpr shape shapes[] = {{"type", 20},     {"author", 20},   {"stream", 10}, {"and", 1},
                            {"recorded", 100}, {"occurred", 100}, {"prefix", 20}};

struct figure {
  std::uint64_t size = 0;
  std::string shape;
  double p50_us = 0, p99_us = 0, results = 0, examined = 0, bound_p50_us = 0;
};

double percentile_us(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size() - 1));
  return v[i];
}

int run(const options& opt) {
  std::string dir = opt.dir;
  const bool own_dir = dir.empty();
  if (own_dir) {
    std::string pattern = (fs::temp_directory_path() / "vellum-query-XXXXXX").string();
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

  auto led = open_ledger(dir + "/data", false);
  std::mt19937_64 make_rng(0x9e3779b9), rng(4711);
  const std::string filler(560, 'x');
  std::vector<std::uint64_t> recorded;  // recorded_at of each seq (from the receipts)
  std::vector<figure> out;
  std::printf("query_bench: %zu queries per shape and size, one thread, wall clock\n", opt.queries);
  std::printf("  %10s %9s %8s %10s %10s %9s %12s %8s\n", "tree size", "shape", "results", "p50 µs", "p99 µs",
              "examined", "bound p50 µs", "ratio");
  for (const auto target : opt.sizes) {
    const auto t0 = steady::now();
    std::vector<ledger::statement> batch;
    while (led->tree_size() < target) {
      batch.clear();
      for (std::uint64_t i = led->tree_size(); i < target && batch.size() < 1024; ++i)
        batch.push_back(fake_statement(i, filler, make_rng));
      for (const auto& o : led->append(batch)) {
        if (o.error) die("append: " + o.error.message());
        recorded.push_back(o.rcpt.recorded_at_us);
      }
    }
    if (auto m = led->merge_index(1); !m) die("merge_index: " + m.error().message());
    const double grow_s = std::chrono::duration<double>(steady::now() - t0).count();
    std::printf("  grew to %llu events in %.1f s\n", static_cast<unsigned long long>(target), grow_s);
    std::fflush(stdout);
    const std::uint64_t n = led->tree_size();

    for (const auto& sh : shapes) {
      std::vector<double> lat, bound;
      double results = 0, examined = 0;
      for (std::size_t q = 0; q < opt.queries; ++q) {
        // A cursor in the first 90% of the log, so that most pages fill.
        const std::uint64_t from = rng() % (n - n / 10);
        ledger::event_filter f;
        const std::string name = sh.name;
        if (name == "type") f.type = "RiskAssessed";
        if (name == "author") f.author = "clin-7";
        if (name == "stream") f.stream = "therapy-7";
        if (name == "and") f.type = "RiskAssessed", f.author = "clin-7";
        if (name == "prefix") f.prefix = "therapy-12";
        if (name == "recorded") {
          const std::uint64_t last = std::min<std::uint64_t>(from + 100, n - 1);
          f.from_us = recorded[from];
          f.to_us = recorded[last] + 1;
        }
        if (name == "occurred") {
          f.by_occurred_at = true;
          f.from_us = 1767225600000000ull + from * 1000000ull;
          f.to_us = *f.from_us + 100 * 1000000ull;
        }
        std::size_t got = 0;
        const auto t = steady::now();
        auto r = led->query(f, name == "recorded" || name == "occurred" ? 0 : from, 10000,
                            [&](const ledger::stored_event&) { return ++got < sh.limit; });
        lat.push_back(std::chrono::duration<double, std::micro>(steady::now() - t).count());
        if (!r) die(std::string("query ") + sh.name + ": " + r.error().message());
        results += static_cast<double>(got);
        examined += static_cast<double>(r->examined);
        // The bound: as many point reads as this page returned.
        const auto b = steady::now();
        for (std::size_t k = 0; k < std::max<std::size_t>(got, 1); ++k)
          if (!led->event_by_seq(rng() % n)) die("event_by_seq");
        bound.push_back(std::chrono::duration<double, std::micro>(steady::now() - b).count());
      }
      figure fg;
      fg.size = n;
      fg.shape = sh.name;
      fg.p50_us = percentile_us(lat, 50);
      fg.p99_us = percentile_us(lat, 99);
      fg.bound_p50_us = percentile_us(bound, 50);
      fg.results = results / static_cast<double>(opt.queries);
      fg.examined = examined / static_cast<double>(opt.queries);
      std::printf("  %10llu %9s %8.1f %10.1f %10.1f %9.1f %12.1f %8.2f\n", static_cast<unsigned long long>(n),
                  sh.name, fg.results, fg.p50_us, fg.p99_us, fg.examined, fg.bound_p50_us,
                  fg.p50_us / fg.bound_p50_us);
      std::fflush(stdout);
      out.push_back(fg);
    }
  }

  // Ratio to the bound at the first size: flat means O(log n + results).
  std::printf("\nratio (page / point reads) at each size, divided by the same at %llu:\n",
              static_cast<unsigned long long>(out.front().size));
  json::array figures;
  for (const auto& sh : shapes) {
    const figure* base = nullptr;
    for (const auto& f : out) {
      if (f.shape != sh.name) continue;
      if (!base) base = &f;
      const double ratio = f.p50_us / f.bound_p50_us;
      const double growth = ratio / (base->p50_us / base->bound_p50_us);
      std::printf("  %9s at %10llu: %.2f\n", sh.name, static_cast<unsigned long long>(f.size), growth);
      figures.push_back(json::object{{"id", "query_" + f.shape + "_" + std::to_string(f.size)},
                                     {"what", "size " + std::to_string(f.size) + ": /v1/query page, " + f.shape +
                                                  " (" + std::to_string(sh.limit) + " events asked)"},
                                     {"value", f.p50_us},
                                     {"unit", "µs p50"},
                                     {"p99_us", f.p99_us},
                                     {"results", f.results},
                                     {"examined", f.examined},
                                     {"bound", {{"what", "as many point reads, same size"}, {"value", f.bound_p50_us}}},
                                     {"ratio", ratio},
                                     {"ratio_growth_vs_first_size", growth}});
    }
  }
  if (!opt.json_file.empty()) {
    json::object o{{"bench", "query_bench"}, {"clean", true}, {"figures", std::move(figures)}};
    std::ofstream(opt.json_file) << json::serialize(o) << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse_options(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "query_bench: %s\n", e.what());
    return 2;
  }
}
