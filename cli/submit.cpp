// vellum submit: build an event payload, sign it as a JWS, append it.
#include "base/file.hpp"
#include "cli/commands.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

namespace po = boost::program_options;

namespace vellum::cli {

namespace {

// A new event id: an RFC 9562 version 7 UUID (48-bit Unix milliseconds,
// then 74 bits from the CSPRNG), canonical lower-case form. Time-ordered ids
// land next to each other in the ledger's event-id index, so a commit dirties
// far fewer index pages than with random (version 4) ids
// (docs/performance.md); the time they carry is already in the event.
std::string new_event_id() {
  bytes b = crypto::random_bytes(16);
  const auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                 std::chrono::system_clock::now().time_since_epoch())
                                                 .count());
  for (int i = 0; i < 6; ++i) b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x70);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  const std::string h = crypto::hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string now_rfc3339() {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  return crypto::format_time_us(static_cast<std::uint64_t>(us));
}

std::string read_all(const std::string& path) { return read_input_file(path); }

boost::json::value parse_json_arg(const std::string& what, const std::string& text) {
  auto v = crypto::parse_ijson(text);
  if (!v) throw cli_error(what + " is not valid JSON: " + v.error().message());
  return *v;
}

// "any", "no_stream" or a non-negative integer.
boost::json::value expected_revision_value(const std::string& s) {
  if (s == "any" || s == "no_stream") return boost::json::string(s);
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 19)
    throw cli_error("--expected-revision must be any, no_stream or a non-negative integer");
  return std::stoull(s);
}

struct signer {
  crypto::private_key key;
  std::string kid;

  std::string sign(const boost::json::object& payload) const {
    const std::string text = boost::json::serialize(payload);
    auto jws = crypto::jws_sign(crypto::as_bytes(text), key, {{"kid", kid}, {"typ", "vellum-event+jws"}});
    if (!jws) throw cli_error("signing failed: " + jws.error().message());
    return *jws;
  }
};

// Fills the defaults every event needs: a fresh event id, occurred_at now,
// expected revision "any", the key id as author. Returns false if the author
// was defaulted (the caller says so: an author is a person, a kid a system).
bool complete_payload(boost::json::object& p, const std::string& kid) {
  if (!p.contains("event_id")) p["event_id"] = new_event_id();
  if (!p.contains("occurred_at")) p["occurred_at"] = now_rfc3339();
  if (!p.contains("expected_revision")) p["expected_revision"] = "any";
  if (!p.contains("data")) p["data"] = boost::json::object{};
  if (p.contains("author")) return true;
  p["author"] = kid;
  return false;
}

void warn_author_defaulted(const std::string& kid, std::size_t events) {
  std::cerr << "vellum submit: warning: " << (events == 1 ? "the event names" : std::to_string(events) + " events name")
            << " no author; recording the key id \"" << kid
            << "\" as author. Name the person with --author (or \"author\" in the payload).\n";
}

// Sends with retries on 503 (honouring Retry-After) and on transport errors;
// appends are idempotent by event_id, so a retry never stores twice.
http_response send_with_retries(http_client& client, const std::string& body, const std::string& content_type,
                                int retries) {
  for (int attempt = 0;; ++attempt) {
    auto res = client.request("POST", "/v1/events", body, content_type);
    if (res && res->status != 503) return *res;
    if (attempt >= retries) {
      if (!res) fail_unreachable(client.url(), res.error());
      return *res;
    }
    int wait_s = 1 << std::min(attempt, 5);
    if (res && res->retry_after_s) wait_s = std::clamp(*res->retry_after_s, 0, 60);
    std::cerr << "vellum submit: " << (res ? "server busy (503)" : res.error().message()) << ", retrying in "
              << wait_s << "s\n";
    std::this_thread::sleep_for(std::chrono::seconds(wait_s));
  }
}

int submit_batch(http_client& client, const signer& s, const std::string& file, std::size_t batch_size,
                 int retries, const std::string& save) {
  std::ifstream in(file);
  if (!in) throw cli_error("cannot open " + file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);

  std::ofstream receipts;
  if (!save.empty()) {
    receipts.open(save, std::ios::trunc);
    if (!receipts) throw cli_error("cannot write " + save);
  }
  const bool tty = ::isatty(STDERR_FILENO);
  std::size_t accepted = 0, duplicates = 0, conflicts = 0, rejected = 0, authorless = 0;
  for (std::size_t start = 0; start < lines.size(); start += batch_size) {
    std::string body;
    const std::size_t end = std::min(lines.size(), start + batch_size);
    for (std::size_t i = start; i < end; ++i) {
      auto v = parse_json_arg(file + " line " + std::to_string(i + 1), lines[i]);
      if (!v.is_object()) throw cli_error(file + " line " + std::to_string(i + 1) + ": not a JSON object");
      if (!complete_payload(v.get_object(), s.kid)) ++authorless;
      body += s.sign(v.get_object()) + "\n";
    }
    auto res = send_with_retries(client, body, "application/x-ndjson", retries);
    if (res.status != 200) {
      print_http_error("batch starting at line " + std::to_string(start + 1), res);
      return exit_failed;
    }
    auto v = boost::json::parse(res.body);
    const auto& results = v.at("results").as_array();
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i].as_object();
      const auto status = r.at("status").to_number<int>();
      if (status == 201 || status == 200) {
        status == 201 ? ++accepted : ++duplicates;
        if (receipts) receipts << boost::json::serialize(r.at("receipt")) << "\n";
      } else {
        status == 409 ? ++conflicts : ++rejected;
        const auto& err = r.at("error").as_object();
        std::cerr << file << " line " << (start + i + 1) << ": " << err.at("code").as_string().c_str() << ": "
                  << err.at("message").as_string().c_str() << "\n";
      }
    }
    if (tty) std::cerr << "\rsubmitted " << end << "/" << lines.size() << std::flush;
  }
  if (tty) std::cerr << "\n";
  if (authorless) warn_author_defaulted(s.kid, authorless);
  std::cout << "accepted " << accepted << ", already recorded " << duplicates << ", conflicting " << conflicts
            << ", rejected " << rejected << " (of " << lines.size() << ")\n";
  return conflicts + rejected == 0 ? exit_ok : exit_failed;
}

}  // namespace

int cmd_submit(int argc, char** argv) {
  po::options_description desc("submit options");
  connection_options conn;
  std::string key_file, kid, stream, type, data_file, data_json, author, occurred_at, event_id, expected = "any",
                                                                                               amends, voids, reason, meaning,
                                                                                               metadata_json, save, log_origin,
                                                                                               batch, event_file;
  std::size_t batch_size = 100;
  int retries = 5;
  desc.add_options()("key", po::value(&key_file)->required(), "submitter private key (PEM)")(
      "kid", po::value(&kid)->required(), "the key's registered id")("stream", po::value(&stream), "stream name")(
      "type", po::value(&type), "event type, e.g. SessionDocumented")(
      "data", po::value(&data_file), "file with the event's data (JSON object), - for stdin")(
      "data-json", po::value(&data_json), "the event's data as a JSON text")(
      "author", po::value(&author), "who did it, e.g. \"dr-1\" or {\"id\":\"dr-1\",\"name\":\"...\"} (none: the key id, with a warning)")(
      "meaning", po::value(&meaning), "what the signature stands for: authored, reviewed, approved, ...")(
      "occurred-at", po::value(&occurred_at), "RFC 3339 time (default: now)")(
      "event-id", po::value(&event_id),
      "UUID, the idempotency key (default: a new time-ordered RFC 9562 version 7 UUID)")(
      "expected-revision", po::value(&expected)->default_value("any"), "any, no_stream or a revision number")(
      "amends", po::value(&amends), "event_id this event corrects (same stream)")(
      "voids", po::value(&voids), "event_id this event withdraws (same stream; the fold skips it)")("reason", po::value(&reason),
                                                                   "why (required with --amends)")(
      "metadata-json", po::value(&metadata_json), "metadata as a JSON object text")(
      "log", po::value(&log_origin), "bind the statement to the log of this origin (others refuse it; vellum log prints it)")(
      "save", po::value(&save), "write the receipt (or, with --batch, all receipts as NDJSON) here")(
      "event", po::value(&event_file), "JSON file with the event payload (flags override its members)")(
      "batch", po::value(&batch), "NDJSON file: one event payload per line (missing fields get defaults)")(
      "batch-size", po::value(&batch_size)->default_value(100), "events per request with --batch")(
      "retries", po::value(&retries)->default_value(5), "retries on 503 or connection errors")(
      "jws-only", "print the signed JWS and stop (send it yourself, e.g. with curl)");
  conn.add_to(desc);
  po::positional_options_description pos;
  pos.add("event", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum submit --key KEY.pem --kid KID --stream S --type T (--data FILE | --data-json JSON)\n"
                  "       vellum submit --key KEY.pem --kid KID EVENT.json   (a payload; missing members get defaults)\n"
                  "       vellum submit --key KEY.pem --kid KID --batch EVENTS.ndjson [--save RECEIPTS.ndjson]"))
    return exit_ok;

  auto key = crypto::private_key::from_pem(read_input_file(key_file));
  if (!key) throw cli_error(key_file + " is not a PKCS#8 PEM private key: " + key.error().message());
  const signer s{std::move(*key), kid};
  if (batch_size == 0 || batch_size > 1000) throw cli_error("--batch-size must be 1..1000");

  if (!batch.empty()) {
    auto client = conn.connect();
    return submit_batch(client, s, batch, batch_size, retries, save);
  }

  // The payload: an event file (if given), then the flags on top of it, then
  // the defaults for what is still missing.
  boost::json::object p;
  if (!event_file.empty()) {
    auto v = parse_json_arg(event_file, read_all(event_file));
    if (!v.is_object()) throw cli_error(event_file + " must hold a JSON object (the event payload)");
    p = std::move(v.get_object());
  }
  if (!data_file.empty() && !data_json.empty()) throw cli_error("give --data FILE or --data-json JSON, not both");
  if (!data_file.empty() || !data_json.empty()) {
    auto data = parse_json_arg("the data", data_json.empty() ? read_all(data_file) : data_json);
    if (!data.is_object()) throw cli_error("the data must be a JSON object");
    p["data"] = std::move(data);
  }
  if (!event_id.empty()) p["event_id"] = event_id;
  if (!stream.empty()) p["stream"] = stream;
  if (!type.empty()) p["type"] = type;
  if (!vm["expected-revision"].defaulted() || !p.contains("expected_revision"))
    p["expected_revision"] = expected_revision_value(expected);
  if (!occurred_at.empty()) p["occurred_at"] = occurred_at;
  if (!author.empty()) p["author"] = author.front() == '{' ? parse_json_arg("--author", author) : boost::json::value(author);
  if (!meaning.empty()) p["meaning"] = meaning;
  if (!log_origin.empty()) p["log"] = log_origin;
  if (!amends.empty() && !voids.empty()) throw cli_error("give --amends or --voids, not both");
  if (!amends.empty() || !voids.empty()) {
    if (reason.empty()) throw cli_error(std::string(amends.empty() ? "--voids" : "--amends") +
                                        " needs --reason: a correction must say why");
    p[amends.empty() ? "voids" : "amends"] = amends.empty() ? voids : amends;
    p["reason"] = reason;
  }
  if (!metadata_json.empty()) p["metadata"] = parse_json_arg("--metadata-json", metadata_json);
  if (!p.contains("stream") || !p.contains("type"))
    throw cli_error("the event needs a stream and a type (--stream, --type, or in EVENT.json)");
  if (!complete_payload(p, kid)) warn_author_defaulted(kid, 1);

  const std::string jws = s.sign(p);
  if (vm.count("jws-only")) {
    std::cout << jws << "\n";
    return exit_ok;
  }
  auto client = conn.connect();
  auto res = send_with_retries(client, jws, "application/jose", retries);
  if (res.status != 201 && res.status != 200) {
    print_http_error("event " + std::string(p["event_id"].as_string()) + " refused", res);
    return exit_failed;
  }
  if (!save.empty()) {
    if (auto w = vellum::write_file_atomic(save, res.body + "\n", 0644); !w)
      throw cli_error("cannot write " + save + ": " + w.error().message());
  }
  std::cout << res.body << "\n";
  auto receipt = boost::json::parse(res.body).as_object();
  std::cerr << (res.status == 200 ? "already recorded (idempotent repeat): " : "appended: ") << "seq "
            << receipt.at("seq").to_number<std::uint64_t>() << ", stream " << receipt.at("stream").as_string().c_str()
            << " revision " << receipt.at("revision").to_number<std::uint64_t>() << ", tree size "
            << receipt.at("tree_size").to_number<std::uint64_t>() << "\n";
  if (!save.empty()) {
    std::cerr << "receipt saved to " << save << "\n";
    // Tell the user the exact offline check, with the log's verifier key.
    if (auto log = client.request("GET", "/v1/log"); log && log->status == 200) {
      boost::system::error_code ec;
      auto info = boost::json::parse(log->body, ec);
      if (!ec && info.is_object())
        if (auto* vk = info.get_object().if_contains("verifier_key"); vk && vk->is_string())
          std::cerr << "verify it offline: vellum-verify receipt " << save << " --log-key '"
                    << vk->get_string().c_str() << "'\n";
    }
  }
  return exit_ok;
}

}  // namespace vellum::cli
