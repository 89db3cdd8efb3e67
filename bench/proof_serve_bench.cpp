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

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace vellum;
using namespace vellum::bench;

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
  if (o.vellumd.empty()) o.vellumd = next_to_self("vellumd");
  return o;
}

// ---------------------------------------------------------------------------
// Building the log: statements of compact-JWS shape, ~1 KiB, over 1,000
// streams. Cheap to make (no signing): the ledger stores what it is given.

struct build_result {
  double seconds = 0;
  std::size_t jws_bytes = 0;
};

build_result build_log(const std::string& data_dir, std::uint64_t events) {
  ledger::options lo;
  lo.data_dir = data_dir;
  lo.sync = false;  // building only; durability is not what is measured here
  auto opened = ledger::ledger::open(lo);
  if (!opened) die("ledger open: " + opened.error().message());
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

// In-process inclusion proofs on this thread for `seconds` of wall time:
// proofs per CPU second of this thread (other load on the machine does not
// lower it; page faults into the map do).
double inclusion_proofs_per_second(const std::string& data_dir, std::uint64_t size, double seconds) {
  ledger::options lo;
  lo.data_dir = data_dir;
  lo.sync = false;
  auto opened = ledger::ledger::open(lo);
  if (!opened) die("ledger open: " + opened.error().message());
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
