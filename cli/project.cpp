// vellum project: keeps a SQL view of the log current (docs/projections.md).
//   run     catch up from the view's position to the log's latest signed
//           checkpoint, page by page, then follow new checkpoints (or stop
//           with --once); progress with events/s and ETA on a terminal
//   status  the view's position, the checkpoint it reflects, its lag
//   digest  SHA-256 of a canonical dump of the view's tables
// The events come from GET /v1/log/events; each is checked against its leaf
// entry before its handlers run (projection/runner.hpp).

#include "cli/commands.hpp"

#include "crypto/encoding.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"
#include "projection/runner.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

namespace po = boost::program_options;
namespace json = boost::json;

namespace vellum::cli {
namespace {

std::atomic<bool> stop_requested{false};
extern "C" void on_stop_signal(int) { stop_requested.store(true); }

projection::spec load_spec(const std::string& spec_arg) {
  if (spec_arg.empty()) throw cli_error("--spec is required (a spec file, builtin:events or builtin:state)");
  auto s = spec_arg.starts_with("builtin:") ? projection::builtin_spec(spec_arg)
                                            : projection::parse_spec(read_input_file(spec_arg));
  if (!s) throw cli_error(spec_arg + ": " + s.error().message());
  return std::move(*s);
}

std::unique_ptr<projection::view_db> open_db(const std::string& url) {
  if (url.empty()) throw cli_error("--db is required (e.g. --db sqlite:views.db)");
  auto db = projection::view_db::open(url);
  if (!db) throw cli_error(db.error().message(), exit_usage);
  return std::move(*db);
}

// The log's latest checkpoint (a signed note), checked with --log-key if given.
struct seen_checkpoint {
  std::uint64_t size = 0;
  std::string root_hex;
};
seen_checkpoint latest_checkpoint(http_client& client, const server_url& url, const std::string& log_key) {
  auto r = client.request("GET", "/checkpoint");
  if (!r) fail_unreachable(url, r.error());
  if (r->status != 200) throw cli_error("GET /checkpoint: HTTP " + std::to_string(r->status), http_failure("checkpoint", *r));
  if (!log_key.empty()) {
    auto v = crypto::note_verifier::from_vkey(log_key);
    if (!v) throw cli_error("--log-key: not a verifier key (" + v.error().message() + ")");
    auto opened = crypto::open_note(r->body, std::span<const crypto::note_verifier>(&*v, 1));
    if (!opened)
      throw cli_error("the log's checkpoint is not signed by --log-key: " + opened.error().message(), exit_failed);
  }
  const auto cp = checkpoint_of_note(r->body, "the log's checkpoint");
  return {cp.size, crypto::hex_encode(cp.root)};
}

std::string eta(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "?";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(seconds) / 60, static_cast<int>(seconds) % 60);
  return buf;
}

// Applies the log's events to one view up to the log's latest signed
// checkpoint, page by page, with progress on a terminal.
class catch_up {
 public:
  catch_up(projection::runner& r, http_client& client, const server_url& url, std::string log_key, std::uint64_t page,
           std::string label)
      : r_(r), client_(client), url_(url), log_key_(std::move(log_key)), page_(page), label_(std::move(label)),
        started_at_(r.position()) {}

  // Returns the checkpoint size it caught up to (the view's position then,
  // unless a stop was requested).
  std::uint64_t to_latest() {
    const auto cp = latest_checkpoint(client_, url_, log_key_);
    std::uint64_t position = r_.position();
    if (cp.size < position)
      throw cli_error("the log's checkpoint (size " + std::to_string(cp.size) + ") is behind the view (position " +
                          std::to_string(position) + "): is this the log the view was built from?",
                      exit_failed);
    while (position < cp.size && !stop_requested.load()) {
      const std::uint64_t n = std::min<std::uint64_t>(page_, cp.size - position);
      auto res = client_.request("GET", "/v1/log/events?from=" + std::to_string(position) + "&limit=" + std::to_string(n));
      if (!res) fail_unreachable(url_, res.error());
      if (res->status != 200) throw cli_error("reading the log failed", http_failure("reading the log", *res));
      boost::system::error_code ec;
      auto body = json::parse(res->body, ec);
      if (ec || !body.is_object() || !body.as_object().contains("events"))
        throw cli_error("GET /v1/log/events: not the expected JSON", exit_failed);
      std::vector<json::object> events;
      for (const auto& e : body.at("events").as_array()) {
        if (!e.is_object()) continue;
        if (e.as_object().contains("seq") && e.at("seq").to_number<std::uint64_t>() >= cp.size) break;
        events.push_back(e.as_object());
      }
      if (events.empty()) throw cli_error("GET /v1/log/events returned no events at " + std::to_string(position), exit_failed);
      auto applied = r_.apply(events, cp.size, cp.root_hex);
      if (!applied) {
        if (tty_) std::cerr << "\n";
        throw cli_error("stopped: " + applied.error().message() + "\n  the view is at position " +
                            std::to_string(r_.position()) + "; fix the spec or run with --skip-on-error to park the event",
                        exit_failed);
      }
      position = applied->position;
      parked_ += applied->parked;
      progress(position, cp.size);
    }
    if (tty_ && printed_) std::fprintf(stderr, "\n");
    printed_ = false;
    return cp.size;
  }

  std::uint64_t parked() const { return parked_; }

 private:
  void progress(std::uint64_t position, std::uint64_t size) {
    const auto now = std::chrono::steady_clock::now();
    if (!tty_ || now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    printed_ = true;
    const double secs = std::chrono::duration<double>(now - started_).count();
    const double rate = secs > 0 ? static_cast<double>(position - started_at_) / secs : 0;
    std::fprintf(stderr, "\r%s: %llu / %llu events (%.0f%%), %.0f events/s, ETA %s%s   ", label_.c_str(),
                 static_cast<unsigned long long>(position), static_cast<unsigned long long>(size),
                 100.0 * static_cast<double>(position) / static_cast<double>(std::max<std::uint64_t>(size, 1)), rate,
                 eta(rate > 0 ? static_cast<double>(size - position) / rate : -1).c_str(),
                 parked_ ? (", " + std::to_string(parked_) + " parked").c_str() : "");
  }

  projection::runner& r_;
  http_client& client_;
  const server_url& url_;
  std::string log_key_;
  std::uint64_t page_;
  std::string label_;
  std::uint64_t started_at_;
  std::uint64_t parked_ = 0;
  bool tty_ = ::isatty(STDERR_FILENO) == 1;
  bool printed_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_ = started_ - std::chrono::seconds(1);
};

void announce(const projection::spec& s, std::uint64_t position, std::uint64_t size, std::uint64_t parked) {
  std::fprintf(stderr, "%s: caught up at %llu events (checkpoint %llu)%s\n", s.name.c_str(),
               static_cast<unsigned long long>(position), static_cast<unsigned long long>(size),
               parked ? (", " + std::to_string(parked) + " events parked in vellum_projection_errors").c_str() : "");
}

// Follows the log until a stop is requested.
void follow(catch_up& c, std::uint64_t poll_ms) {
  while (!stop_requested.load()) {
    for (std::uint64_t waited = 0; waited < poll_ms && !stop_requested.load(); waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!stop_requested.load()) c.to_latest();
  }
}

int run(int argc, char** argv) {
  po::options_description desc("project run options");
  connection_options conn;
  std::string spec_arg, db_url, log_key;
  std::uint64_t page = 500, poll_ms = 1000;
  bool once = false, skip = false;
  desc.add_options()("spec", po::value(&spec_arg), "the spec: a JSON file, builtin:events or builtin:state")(
      "db", po::value(&db_url), "the view database: sqlite:PATH (created if missing) or postgresql://USER@HOST:PORT/DB")(
      "once", po::bool_switch(&once), "stop when caught up with the latest checkpoint (default: follow the log)")(
      "skip-on-error", po::bool_switch(&skip),
      "park an event whose handler fails in vellum_projection_errors and go on (default: stop at it)")(
      "log-key", po::value(&log_key), "check each checkpoint's signature with this verifier key")(
      "page", po::value(&page)->default_value(500), "events per page and per database transaction (1-1000)")(
      "poll-ms", po::value(&poll_ms)->default_value(1000), "how often to look for new events when following");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum project run --spec FILE|builtin:NAME --db sqlite:PATH|postgresql://… [--server URL]\n"
                  "                          [--token T] [--once] [--skip-on-error] [--log-key VKEY] [--page N]\n\n"
                  "Applies the log's events to the view, each page and the view's position in one database\n"
                  "transaction (a kill at any moment loses or repeats nothing), then follows the log until\n"
                  "interrupted (SIGINT/SIGTERM finish the current page)."))
    return exit_ok;
  if (page == 0 || page > 1000) throw cli_error("--page: 1 to 1000");
  auto s = load_spec(spec_arg);
  auto db = open_db(db_url);
  projection::runner r(*db, s, {skip});
  auto row = r.open();
  if (!row) throw cli_error(row.error().message(), exit_failed);
  auto url = parse_server_url(conn.server);
  if (!url) throw cli_error("--server: " + url.error().message());
  auto client = conn.connect();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  catch_up c(r, client, *url, log_key, page, s.name);
  const std::uint64_t size = c.to_latest();
  announce(s, r.position(), size, c.parked());
  if (!once) follow(c, poll_ms);
  return exit_ok;
}

// The schema a PostgreSQL connection's unqualified tables go to.
std::string current_schema(projection::view_db& db) {
  auto rows = db.query({"SELECT current_schema()", {}}, {});
  if (!rows || rows->empty() || !std::holds_alternative<std::string>(rows->front().front()))
    throw cli_error("cannot read the connection's current schema", exit_failed);
  return std::get<std::string>(rows->front().front());
}

int rebuild_cmd(int argc, char** argv) {
  po::options_description desc("project rebuild options");
  connection_options conn;
  std::string spec_arg, db_url, log_key;
  std::uint64_t page = 500, poll_ms = 1000;
  bool follow_after = false, skip = false;
  desc.add_options()("spec", po::value(&spec_arg), "the new spec (another version of the view's spec)")(
      "db", po::value(&db_url), "the live view database: sqlite:PATH, or postgresql://… (a schema of its own)")(
      "follow", po::bool_switch(&follow_after), "after the swap, go on following the log with the new version")(
      "skip-on-error", po::bool_switch(&skip), "park failing events instead of stopping (as run)")(
      "log-key", po::value(&log_key), "check each checkpoint's signature with this verifier key")(
      "page", po::value(&page)->default_value(500), "events per page and per database transaction (1-1000)")(
      "poll-ms", po::value(&poll_ms)->default_value(1000), "with --follow: how often to look for new events");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum project rebuild --spec NEW --db sqlite:PATH|postgresql://… [--follow] [--server URL]\n\n"
                  "Builds a new version of a view beside the live one (PATH.rebuild-vN; an interrupted rebuild\n"
                  "goes on where it stopped), catches it up with the log, then swaps it in with one atomic rename,\n"
                  "keeping the previous version as PATH.previous-vM. Readers keep the live view until the swap;\n"
                  "the swap needs nothing else to have the live view open (stop its vellum project run first).\n"
                  "On PostgreSQL the view must live in a schema of its own (not public): the new version is built\n"
                  "in schema S_rebuild_vN and swapped in by renaming schemas in one transaction (S_previous_vM kept)."))
    return exit_ok;
  if (page == 0 || page > 1000) throw cli_error("--page: 1 to 1000");
  auto s = load_spec(spec_arg);
  const bool lite = db_url.starts_with("sqlite:");

  // The live view: where it is, and the version it has.
  std::string live_place;  // the SQLite file, or the PostgreSQL schema
  std::uint64_t old_version = 0;
  {
    auto live = open_db(db_url);
    live_place = lite ? db_url.substr(7) : current_schema(*live);
    auto row = live->position(s.name);
    if (!row) throw cli_error(row.error().message(), exit_failed);
    if (!*row)
      throw cli_error("no view \"" + s.name + "\" in " + (lite ? "" : "schema ") + live_place +
                          " to rebuild (vellum project run creates it)",
                      exit_not_found);
    old_version = (*row)->version;
    if (old_version == s.version)
      throw cli_error("the view \"" + s.name + "\" in " + live_place + " is already version " + std::to_string(s.version) +
                          " (a rebuild builds another version)",
                      exit_failed);
  }
  if (!lite && live_place == "public")
    throw cli_error("rebuild on PostgreSQL swaps the view's schema, so the view needs a schema of its own, not public: "
                    "create one (CREATE SCHEMA views), build there (…?options=-csearch_path%3Dviews in the --db URI), "
                    "then rebuild",
                    exit_usage);
  const std::string built = live_place + (lite ? ".rebuild-v" : "_rebuild_v") + std::to_string(s.version);
  const std::string previous = live_place + (lite ? ".previous-v" : "_previous_v") + std::to_string(old_version);
  auto url = parse_server_url(conn.server);
  if (!url) throw cli_error("--server: " + url.error().message());
  auto client = conn.connect();
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);

  // The new version, beside the live one, caught up until a look at the log
  // finds nothing new: then it is as current as the live one.
  {
    auto db = open_db(lite ? "sqlite:" + built : db_url);
    if (!lite) {
      const std::string q = projection::quote_identifier(built);
      if (auto r = db->exec("CREATE SCHEMA IF NOT EXISTS " + q + "; SET search_path TO " + q); !r)
        throw cli_error(r.error().message(), exit_failed);
    }
    projection::runner r(*db, s, {skip});
    auto row = r.open();
    if (!row) throw cli_error(row.error().message(), exit_failed);
    if (row->position > 0)
      std::fprintf(stderr, "%s: going on with the rebuild in %s%s at %llu events\n", s.name.c_str(),
                   lite ? "" : "schema ", built.c_str(), static_cast<unsigned long long>(row->position));
    catch_up c(r, client, *url, log_key, page, s.name + " v" + std::to_string(s.version));
    for (std::uint64_t size = c.to_latest(); !stop_requested.load();) {
      const std::uint64_t again = c.to_latest();
      if (again == size) break;
      size = again;
    }
    if (stop_requested.load()) {
      std::fprintf(stderr, "%s: rebuild interrupted at %llu events; run it again to go on\n", s.name.c_str(),
                   static_cast<unsigned long long>(r.position()));
      return exit_failed;
    }
    announce(s, r.position(), r.position(), c.parked());
  }

  // The swap.
  if (lite) {
    if (auto sw = projection::swap_sqlite_file(live_place, built, previous); !sw)
      throw cli_error("the new version is built in " + built + " but not swapped in: " + sw.error().message(), exit_failed);
  } else {
    auto db = open_db(db_url);
    if (auto sw = projection::swap_postgres_schema(*db, live_place, built, previous); !sw)
      throw cli_error("the new version is built in schema " + built + " but not swapped in: " + sw.error().message(),
                      exit_failed);
  }
  const char* kind = lite ? "" : "schema ";
  std::fprintf(stderr, "%s: version %llu swapped into %s%s (version %llu kept as %s%s)\n", s.name.c_str(),
               static_cast<unsigned long long>(s.version), kind, live_place.c_str(),
               static_cast<unsigned long long>(old_version), kind, previous.c_str());
  if (!follow_after) return exit_ok;
  auto db = open_db(db_url);
  projection::runner r(*db, s, {skip});
  if (auto row = r.open(); !row) throw cli_error(row.error().message(), exit_failed);
  catch_up c(r, client, *url, log_key, page, s.name);
  c.to_latest();
  follow(c, poll_ms);
  return exit_ok;
}

int status_cmd(int argc, char** argv) {
  po::options_description desc("project status options");
  connection_options conn;
  std::string spec_arg, db_url;
  bool offline = false;
  desc.add_options()("spec", po::value(&spec_arg), "the spec: a JSON file, builtin:events or builtin:state")(
      "db", po::value(&db_url), "the view database: sqlite:PATH")(
      "offline", po::bool_switch(&offline), "do not ask the server for the log's size (no lag)");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum project status --spec FILE|builtin:NAME --db sqlite:PATH [--server URL] [--offline]\n\n"
                  "Prints the view's version, position, the checkpoint it reflects, parked events and its lag\n"
                  "behind the log, as JSON."))
    return exit_ok;
  auto s = load_spec(spec_arg);
  auto db = open_db(db_url);
  auto row = db->position(s.name);
  if (!row) throw cli_error(row.error().message(), exit_failed);
  if (!*row) throw cli_error("no view \"" + s.name + "\" in " + db_url + " (vellum project run creates it)", exit_not_found);
  auto errors = db->error_count(s.name);
  json::object o{{"name", s.name},
                 {"version", (*row)->version},
                 {"spec_version", s.version},
                 {"position", (*row)->position},
                 {"tree_size", (*row)->tree_size},
                 {"root_hash", (*row)->root_hash},
                 {"parked", errors ? *errors : 0}};
  if (!offline) {
    auto url = parse_server_url(conn.server);
    if (!url) throw cli_error("--server: " + url.error().message());
    auto client = conn.connect();
    const auto cp = latest_checkpoint(client, *url, {});
    o["log_tree_size"] = cp.size;
    o["lag"] = cp.size > (*row)->position ? cp.size - (*row)->position : 0;
  }
  std::cout << json::serialize(o) << "\n";
  return exit_ok;
}

int digest_cmd(int argc, char** argv) {
  po::options_description desc("project digest options");
  std::string db_url;
  desc.add_options()("db", po::value(&db_url), "the view database: sqlite:PATH")(
      "spec", po::value<std::string>(), "accepted for symmetry with the other subcommands (the digest covers every view table)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum project digest --db sqlite:PATH\n\n"
                  "Prints the SHA-256 of a canonical dump of the view's tables (every table not named vellum_*,\n"
                  "rows by primary key): two views built from the same log and spec have the same digest."))
    return exit_ok;
  auto db = open_db(db_url);
  auto d = db->digest();
  if (!d) throw cli_error(d.error().message(), exit_failed);
  std::cout << *d << "\n";
  return exit_ok;
}

// The signed checkpoint of the log now, opened with `log_key` (required).
crypto::checkpoint verified(std::string_view note, const crypto::note_verifier& v, const std::string& what) {
  auto opened = crypto::open_note(note, std::span<const crypto::note_verifier>(&v, 1));
  if (!opened) throw cli_error(what + " is not signed by --log-key: " + opened.error().message(), exit_failed);
  auto body = crypto::parse_checkpoint(opened->text);
  if (!body) throw cli_error(what + " does not parse: " + body.error().message(), exit_failed);
  return *body;
}

int verify_cmd(int argc, char** argv) {
  po::options_description desc("project verify options");
  connection_options conn;
  std::string spec_arg, db_url, log_key;
  desc.add_options()("spec", po::value(&spec_arg), "the spec: a JSON file, builtin:events or builtin:state")(
      "db", po::value(&db_url), "the view database: sqlite:PATH")(
      "log-key", po::value(&log_key), "the log's verifier key (required: what the view is checked against)");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum project verify --spec FILE|builtin:NAME --db sqlite:PATH --log-key VKEY [--server URL]\n\n"
                  "Checks the log state the view records (tree size and root hash) against the log: the\n"
                  "checkpoint of that size is signed by the log key and has that root, and the log's latest\n"
                  "signed checkpoint is consistent with it (RFC 9162 consistency proof). Exit 0 if so, 1 if not."))
    return exit_ok;
  if (log_key.empty()) throw cli_error("--log-key is required (vellum log --verifier-key prints it)");
  auto v = crypto::note_verifier::from_vkey(log_key);
  if (!v) throw cli_error("--log-key: not a verifier key (" + v.error().message() + ")");
  auto s = load_spec(spec_arg);
  auto db = open_db(db_url);
  auto row = db->position(s.name);
  if (!row) throw cli_error(row.error().message(), exit_failed);
  if (!*row) throw cli_error("no view \"" + s.name + "\" in " + db_url, exit_not_found);
  const auto& r = **row;
  auto url = parse_server_url(conn.server);
  if (!url) throw cli_error("--server: " + url.error().message());
  auto client = conn.connect();
  auto latest_note = client.request("GET", "/checkpoint");
  if (!latest_note) fail_unreachable(*url, latest_note.error());
  if (latest_note->status != 200) return http_failure("checkpoint", *latest_note);
  const auto latest = verified(latest_note->body, *v, "the log's latest checkpoint");
  if (r.tree_size == 0) {
    std::cout << s.name << ": the view reflects the empty log (nothing to check)\n";
    return exit_ok;
  }
  if (r.tree_size > latest.size) {
    std::cout << s.name << ": FAILED: the view records tree size " << r.tree_size << ", the log is only " << latest.size
              << " (another log, or a log that lost entries)\n";
    return exit_failed;
  }
  auto res = client.request("GET", "/v1/proofs/consistency?from=" + std::to_string(r.tree_size) +
                                       "&to=" + std::to_string(latest.size));
  if (!res) fail_unreachable(*url, res.error());
  if (res->status != 200) return http_failure("consistency proof", *res);
  boost::system::error_code ec;
  auto body = json::parse(res->body, ec);
  if (ec || !body.is_object()) throw cli_error("GET /v1/proofs/consistency: not JSON", exit_failed);
  const auto& o = body.as_object();
  std::vector<crypto::hash> proof;
  if (const auto* p = o.if_contains("proof"); p && p->is_array()) {
    for (const auto& h : p->as_array()) {
      auto b = h.is_string() ? crypto::base64_decode(h.as_string()) : result<bytes>(boost::system::errc::make_error_code(boost::system::errc::invalid_argument));
      if (!b || b->size() != 32) throw cli_error("GET /v1/proofs/consistency: a proof hash is not 32 bytes", exit_failed);
      crypto::hash x{};
      std::copy(b->begin(), b->end(), x.begin());
      proof.push_back(x);
    }
  }
  auto recorded_root = crypto::hex_decode(r.root_hash);
  if (!recorded_root || recorded_root->size() != 32) {
    std::cout << s.name << ": FAILED: the recorded root hash is not 32 bytes of hex\n";
    return exit_failed;
  }
  crypto::hash root{};
  std::copy(recorded_root->begin(), recorded_root->end(), root.begin());
  // The checkpoint of the recorded size, signed, with the recorded root.
  const auto* from_note = o.if_contains("from_checkpoint");
  if (!from_note || !from_note->is_string()) {
    std::cout << s.name << ": FAILED: the log has no signed checkpoint of size " << r.tree_size << "\n";
    return exit_failed;
  }
  const auto then = verified(from_note->as_string(), *v, "the checkpoint of size " + std::to_string(r.tree_size));
  if (then.size != r.tree_size || then.root != root) {
    std::cout << s.name << ": FAILED: the signed checkpoint of size " << r.tree_size << " has root "
              << crypto::hex_encode(then.root) << ", the view records " << r.root_hash << "\n";
    return exit_failed;
  }
  if (auto ok = crypto::verify_consistency(r.tree_size, latest.size, root, latest.root, proof); !ok) {
    std::cout << s.name << ": FAILED: the log's checkpoint of size " << latest.size
              << " is not consistent with the one the view reflects: " << ok.error().message() << "\n";
    return exit_failed;
  }
  std::cout << s.name << ": OK: the view (position " << r.position << ") reflects the log at tree size " << r.tree_size
            << ", root " << r.root_hash << ", signed by the log key and consistent with its checkpoint of size "
            << latest.size << "\n";
  return exit_ok;
}

}  // namespace

int cmd_project(int argc, char** argv) {
  const std::string usage =
      "usage: vellum project run|rebuild|status|digest|verify [options]   (vellum project SUBCOMMAND --help)\n\n"
      "Keeps a SQL view (SQLite or PostgreSQL) of the log current: run applies the spec's handlers to every event,\n"
      "rebuild builds a new version beside the live one and swaps it in when caught up,\n"
      "status shows where the view is, digest fingerprints its tables, verify checks the log state it\n"
      "records against the log's signed checkpoints. See docs/projections.md.\n";
  if (argc < 2) {
    std::cerr << usage;
    return exit_usage;
  }
  const std::string_view sub = argv[1];
  if (sub == "--help" || sub == "-h") {
    std::cout << usage;
    return exit_ok;
  }
  if (sub == "run") return run(argc - 1, argv + 1);
  if (sub == "status") return status_cmd(argc - 1, argv + 1);
  if (sub == "digest") return digest_cmd(argc - 1, argv + 1);
  if (sub == "verify") return verify_cmd(argc - 1, argv + 1);
  if (sub == "rebuild") return rebuild_cmd(argc - 1, argv + 1);
  throw cli_error("unknown subcommand \"" + std::string(sub) + "\" (run, rebuild, status, digest, verify)");
}

}  // namespace vellum::cli
