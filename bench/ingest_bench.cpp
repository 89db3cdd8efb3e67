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
//   >= 1.6 (batches). Also divided by the one-core rate of the verify vellumd
//   runs (precomputed per-key tables, about six times OpenSSL's), which
//   tells how much of the work beside signature checking remains.
//
// Bounded: fixed event counts, traffic to 127.0.0.1 only, a temporary data
// directory that is removed at the end, vellumd stopped (SIGTERM, then
// SIGKILL) on every exit path.
//
// Usage: ingest_bench [--vellumd PATH] [--single N] [--batched N]
//                     [--batch-size N] [--connections N] [--client-threads N]
//                     [--verify-seconds S] [--json FILE] [--keep]

#include "crypto/ed25519_precomputed.hpp"
#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "verifier/verify.hpp"

#include "bench_support.hpp"

#include <boost/json.hpp>

#include <openssl/evp.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
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
  std::size_t single = 60000;  // about 4 s at the rate of this machine
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
  if (o.vellumd.empty()) o.vellumd = next_to_self("vellumd");
  if (o.batch_size > 1000) die("--batch-size: vellumd accepts at most 1000 events per batch by default");
  return o;
}

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

// Verifies per CPU second of this thread, calling `verify_once` for
// `seconds` of wall time (like `openssl speed`, which divides by CPU time,
// so other load on the machine does not lower it).
template <class F>
double verify_per_cpu_second(double seconds, F&& verify_once) {
  std::size_t done = 0;
  const double cpu0 = thread_cpu_now();
  const auto until = steady::now() + std::chrono::duration<double>(seconds);
  do {
    for (int k = 0; k < 64; ++k) {
      if (!verify_once()) die("verify failed");
      ++done;
    }
  } while (steady::now() < until);
  return static_cast<double>(done) / (thread_cpu_now() - cpu0);
}

struct signed_sample {
  crypto::private_key key;
  std::string msg;
  vellum::bytes sig;
};

signed_sample make_sample() {
  auto key = crypto::private_key::generate(crypto::key_type::ed25519);
  if (!key) die("key generation failed");
  std::string msg(1024, 'm');
  auto sig = key->sign(crypto::as_bytes(msg));
  if (!sig) die("sign failed");
  return {std::move(*key), std::move(msg), std::move(*sig)};
}

// EVP_DigestVerifyInit + EVP_DigestVerify per signature, as a server using
// OpenSSL's verify does per request.
double evp_verify_per_second(double seconds) {
  const auto sample = make_sample();
  const auto raw = sample.key.public_key().raw();
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw.data(), raw.size()), &EVP_PKEY_free);
  if (!pkey) die("EVP_PKEY_new_raw_public_key failed");
  return verify_per_cpu_second(seconds, [&] {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), sample.sig.data(), sample.sig.size(),
                            reinterpret_cast<const unsigned char*>(sample.msg.data()), sample.msg.size()) == 1;
  });
}

// The verify vellumd uses for registered Ed25519 keys (per-key tables,
// crypto/ed25519_precomputed.hpp).
double precomputed_verify_per_second(double seconds) {
  const auto sample = make_sample();
  const auto fast = crypto::ed25519_precomputed::make(sample.key.public_key().raw());
  if (!fast) die("ed25519_precomputed::make failed");
  return verify_per_cpu_second(seconds, [&] { return fast->verify(crypto::as_bytes(sample.msg), sample.sig); });
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
  const double precomputed = precomputed_verify_per_second(opt.verify_seconds);
  if (speed)
    std::printf("openssl speed ed25519: %.1f verify/s on one core\n", *speed);
  else
    std::printf("openssl speed ed25519: openssl not installed; using the in-process loop as the bound\n");
  std::printf("in-process EVP verify loop: %.1f verify/s per CPU second of one thread\n", evp);
  std::printf("in-process precomputed verify loop (vellumd's): %.1f verify/s per CPU second of one thread\n",
              precomputed);
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
    return !ec && verifier::verify_receipt(v, *log_key).has_value() ? 1 : 0;
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
  add("ed25519_verify_precomputed", "in-process precomputed Ed25519 verify/s (1 core, vellumd's)", "verify/s",
      precomputed)
      .against("EVP verify/s (1 core)", evp);
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
  // Against the verify vellumd actually runs: a ratio below the number of
  // cores means something beside signature checking limits the rate.
  add("ingest_single_vs_precomputed", "ingest, single-event requests", "events/s", single_eps)
      .against("precomputed verify/s (1 core)", precomputed);
  add("ingest_batch_vs_precomputed", "ingest, " + batches, "events/s", batch_eps)
      .against("precomputed verify/s (1 core)", precomputed);
  // Where the CPU goes: vellumd's CPU time per event against the cost of
  // the one signature check each event needs (1 / precomputed verify/s).
  const double verify_us = 1e6 / precomputed;
  add("ingest_single_server_cpu_us", "vellumd CPU per event, single requests", "us",
      single.server_cpu_s * 1e6 / static_cast<double>(std::max<std::size_t>(single.events_ok, 1)))
      .against("one precomputed verify (us)", verify_us);
  add("ingest_batch_server_cpu_us", "vellumd CPU per event, " + batches, "us",
      batched.server_cpu_s * 1e6 / static_cast<double>(std::max<std::size_t>(batched.events_ok, 1)))
      .against("one precomputed verify (us)", verify_us);
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
