// View-model rebuild benchmark (not run in CI; scripts/bench runs it): how
// fast projection::runner builds a view from the log's events, into SQLite
// and into PostgreSQL, against a bound measured in the same run: the raw
// INSERT rate of the same rows, with the same number of rows per
// transaction, through the same connection type (no event checks, no
// parameter binding from JSON, no savepoints).
//
// The events are builtin:events rows made here with real leaf entries,
// records and salts (what the runner checks), so HTTP is left out: what is
// measured is the runner itself, the part a rebuild adds to reading the log.
// Events are made a page at a time and only apply() is timed.
//
// Usage: projection_bench [--sizes N,N] [--page N] [--no-pg] [--json FILE]

#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "projection/runner.hpp"

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

namespace {

using namespace vellum;
using namespace vellum::bench;

struct options {
  std::vector<std::uint64_t> sizes{100000, 1000000};
  std::size_t page = 500;
  bool pg = true;
  std::string json_file;
};

// Event `seq` as GET /v1/log/events gives it (see tests/projection/runner_test.cpp).
json::object make_event(std::uint64_t seq) {
  const std::uint64_t recorded = 1773050400000000ull + seq * 1000ull;
  char id[40];
  std::snprintf(id, sizeof id, "00000000-0000-4000-8000-%012llu", static_cast<unsigned long long>(seq));
  const std::string stream = "therapy-" + std::to_string(seq % 1000);
  json::object payload{{"event_id", id},
                       {"stream", stream},
                       {"type", seq % 10 == 0 ? "TherapyPlanned" : "SessionDocumented"},
                       {"expected_revision", "any"},
                       {"occurred_at", "2026-03-09T10:00:00Z"},
                       {"author", {{"id", "clin-" + std::to_string(seq % 97)}, {"name", "Dr. Example"}}},
                       {"data", {{"session", seq}, {"note", "Intake; PHQ-9 = 14; plan reviewed with the patient"}}}};
  const std::string body = json::serialize(payload);
  const std::string jws = "eyJhbGciOiJFZERTQSIsImtpZCI6ImJlbmNoLWVociJ9." +
                          crypto::base64url_encode(crypto::as_bytes(body)) + "." + std::string(86, 'A');
  const std::string record = crypto::event_record{seq, stream, seq / 1000, recorded, "bench-ehr", id, jws}.encode();
  const bytes salt = crypto::random_bytes(crypto::salt_size);
  const bytes leaf =
      crypto::leaf_entry{seq, recorded, "bench-ehr", crypto::record_commitment(salt, crypto::as_bytes(record))}.encode();
  return {{"seq", seq},         {"stream", stream},
          {"revision", seq / 1000}, {"recorded_at", crypto::format_time_us(recorded)},
          {"event_id", id},     {"kid", "bench-ehr"},
          {"leaf_entry", crypto::base64_encode(leaf)}, {"jws", jws},
          {"payload", payload}, {"record", record},
          {"salt", crypto::base64_encode(salt)}};
}

// A throwaway PostgreSQL cluster (as bench/pg_baseline/run.sh makes one).
class pg_cluster {
 public:
  pg_cluster() {
    std::string pattern = (fs::temp_directory_path() / "vellum-pbench-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) die("mkdtemp failed");
    dir_ = pattern;
    const std::string bin = "/usr/lib/postgresql/15/bin";
    if (!fs::exists(bin + "/initdb")) die("PostgreSQL 15 is not installed (apt-get install postgresql-15), or use --no-pg");
    as_pg_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (::geteuid() == 0) sh("chown postgres: " + dir_ + " && chmod 0755 " + dir_);
    port_ = 20000 + static_cast<int>(::getpid() % 20000);
    sh(as_pg_ + bin + "/initdb -D " + dir_ + "/data -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-instructions > " +
       dir_ + "/initdb.log 2>&1");
    // Durable commits, as a hospital would run it.
    sh(as_pg_ + bin + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o \"-c listen_addresses=127.0.0.1 -p " +
       std::to_string(port_) + " -k " + dir_ + " -c fsync=on -c synchronous_commit=on\" start > /dev/null");
    started_ = true;
    sh(as_pg_ + bin + "/psql -X -q -h 127.0.0.1 -p " + std::to_string(port_) +
       " -U postgres -d postgres -c 'CREATE DATABASE views' -c 'CREATE DATABASE bound'");
  }
  ~pg_cluster() {
    if (started_)
      std::system((as_pg_ + "/usr/lib/postgresql/15/bin/pg_ctl -D " + dir_ + "/data -m immediate -w stop > /dev/null 2>&1").c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string url(const std::string& db) const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
  }

 private:
  static void sh(const std::string& cmd) {
    if (std::system(cmd.c_str()) != 0) die("failed: " + cmd);
  }
  std::string dir_, as_pg_;
  int port_ = 0;
  bool started_ = false;
};

struct figure {
  std::string db;
  std::uint64_t size = 0;
  double runner_eps = 0, bound_eps = 0;
};

double now_s() { return std::chrono::duration<double>(steady::now().time_since_epoch()).count(); }

// The runner into `db`: builtin:events, pages of `page`.
double runner_rate(projection::view_db& db, std::uint64_t n, std::size_t page) {
  auto s = projection::builtin_spec("builtin:events");
  if (!s) die("builtin:events");
  projection::runner r(db, *s, {});
  if (auto o = r.open(); !o) die("open: " + o.error().message());
  double timed = 0;
  std::vector<json::object> events;
  for (std::uint64_t from = 0; from < n; from += page) {
    events.clear();
    for (std::uint64_t seq = from; seq < std::min<std::uint64_t>(n, from + page); ++seq) events.push_back(make_event(seq));
    const double t0 = now_s();
    auto o = r.apply(events, n, std::string(64, 'a'));
    timed += now_s() - t0;
    if (!o) die("apply: " + o.error().message());
  }
  return static_cast<double>(n) / timed;
}

// The same rows with a plain prepared INSERT, `page` rows per transaction.
double bound_rate(projection::view_db& db, std::uint64_t n, std::size_t page) {
  const bool lite = db.kind() == projection::dialect::sqlite;
  auto s = projection::builtin_spec("builtin:events");
  for (const auto& st : s->schema)
    if (auto r = db.exec(st); !r) die("schema: " + r.error().message());
  std::string sql = "INSERT INTO events (seq, stream, revision, event_id, type, occurred_at, recorded_at, author_id, kid, "
                    "amends, voids, reason, data) VALUES (";
  for (int i = 1; i <= 13; ++i) sql += (i > 1 ? ", " : "") + std::string(lite ? "?" : "$") + std::to_string(i);
  sql += ")";
  const projection::translated insert{sql, {}};
  double timed = 0;
  std::vector<std::vector<projection::value>> rows;
  for (std::uint64_t from = 0; from < n; from += page) {
    rows.clear();
    for (std::uint64_t seq = from; seq < std::min<std::uint64_t>(n, from + page); ++seq) {
      const auto e = make_event(seq);  // the same rows the runner writes, values taken ready-made
      const auto& p = e.at("payload").as_object();
      rows.push_back({static_cast<std::int64_t>(seq), std::string(e.at("stream").as_string()),
                      static_cast<std::int64_t>(e.at("revision").as_uint64()), std::string(e.at("event_id").as_string()),
                      std::string(p.at("type").as_string()), std::string(p.at("occurred_at").as_string()),
                      std::string(e.at("recorded_at").as_string()), std::string(p.at("author").at("id").as_string()),
                      std::string("bench-ehr"), std::monostate{}, std::monostate{}, std::monostate{},
                      json::serialize(p.at("data"))});
    }
    const double t0 = now_s();
    if (auto b = db.exec(lite ? "BEGIN IMMEDIATE" : "BEGIN"); !b) die("begin");
    for (const auto& row : rows)
      if (auto r = db.run(insert, row); !r) die("insert: " + r.error().message());
    if (auto c = db.exec("COMMIT"); !c) die("commit");
    timed += now_s() - t0;
  }
  return static_cast<double>(n) / timed;
}

int run(const options& opt) {
  std::string pattern = (fs::temp_directory_path() / "vellum-pbench-lite-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) die("mkdtemp failed");
  const std::string dir = pattern;
  std::unique_ptr<pg_cluster> pg;
  if (opt.pg) pg = std::make_unique<pg_cluster>();
  std::vector<figure> out;
  std::printf("projection_bench: builtin:events, pages of %zu (one transaction each), durable commits\n", opt.page);
  std::printf("  %-10s %10s %14s %14s %8s\n", "database", "events", "runner ev/s", "raw INSERT/s", "ratio");
  int round = 0;
  for (const auto n : opt.sizes) {
    for (const char* kind_name : {"sqlite", "postgresql"}) {
      const std::string kind = kind_name;
      if (kind == "postgresql" && !pg) continue;
      figure f{kind, n};
      ++round;
      const std::string a = kind == "sqlite" ? "sqlite:" + dir + "/runner-" + std::to_string(round) + ".db" : "";
      const std::string b = kind == "sqlite" ? "sqlite:" + dir + "/bound-" + std::to_string(round) + ".db" : "";
      {
        auto db = projection::view_db::open(kind == "sqlite" ? a : pg->url("views"));
        if (!db) die("open: " + db.error().message());
        f.runner_eps = runner_rate(**db, n, opt.page);
        if (kind == "postgresql") (void)(*db)->exec("DROP TABLE events; DELETE FROM vellum_projection");
      }
      {
        auto db = projection::view_db::open(kind == "sqlite" ? b : pg->url("bound"));
        if (!db) die("open: " + db.error().message());
        f.bound_eps = bound_rate(**db, n, opt.page);
        if (kind == "postgresql") (void)(*db)->exec("DROP TABLE events");
      }
      std::printf("  %-10s %10llu %14.0f %14.0f %8.2f\n", kind.c_str(), static_cast<unsigned long long>(n), f.runner_eps,
                  f.bound_eps, f.runner_eps / f.bound_eps);
      std::fflush(stdout);
      out.push_back(f);
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (!opt.json_file.empty()) {
    json::array figures;
    for (const auto& f : out)
      figures.push_back(json::object{{"id", "projection_" + f.db + "_" + std::to_string(f.size)},
                                     {"what", f.db + ", " + std::to_string(f.size) + " events: view rebuild (runner)"},
                                     {"value", f.runner_eps},
                                     {"unit", "events/s"},
                                     {"bound", {{"what", "raw INSERT of the same rows, same transaction size"}, {"value", f.bound_eps}}},
                                     {"ratio", f.runner_eps / f.bound_eps},
                                     {"target", ">= 0.7"},
                                     {"met", f.runner_eps / f.bound_eps >= 0.7}});
    std::ofstream(opt.json_file) << json::serialize(json::object{{"bench", "projection_bench"}, {"figures", figures}}) << "\n";
  }
  return 0;
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(std::string(a) + ": missing value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::printf("usage: %s [--sizes N,N] [--page N] [--no-pg] [--json FILE]\n"
                  "View rebuild rate (projection::runner, builtin:events) into SQLite and PostgreSQL against the raw\n"
                  "INSERT rate of the same rows with the same transaction size, measured in the same run.\n",
                  argv[0]);
      std::exit(0);
    } else if (a == "--sizes") {
      o.sizes.clear();
      std::string list = value();
      for (std::size_t at = 0; at <= list.size();) {
        const auto comma = list.find(',', at);
        const std::string item = list.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
        o.sizes.push_back(parse_count(item.c_str(), "--sizes"));
        if (comma == std::string::npos) break;
        at = comma + 1;
      }
    } else if (a == "--page") {
      o.page = parse_count(value(), "--page");
    } else if (a == "--no-pg") {
      o.pg = false;
    } else if (a == "--json") {
      o.json_file = value();
    } else {
      die("unknown option " + std::string(a) + " (see --help)");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "projection_bench: %s\n", e.what());
    return 2;
  }
}
