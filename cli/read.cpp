// vellum read / tail / checkpoint / proof: reading the log over HTTP.
#include "base/file.hpp"
#include "cli/commands.hpp"
#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"

#include <boost/json.hpp>

#include <iostream>

namespace po = boost::program_options;

namespace vellum::cli {

namespace {

boost::json::object get_json(http_client& client, const std::string& target, const std::string& what) {
  auto res = client.request("GET", target);
  if (!res) fail_unreachable(client.url(), res.error());
  if (res->status != 200) {
    const int status = http_failure(what, *res);
    throw cli_error(what + " failed", status);
  }
  boost::system::error_code ec;
  auto v = boost::json::parse(res->body, ec);
  if (ec || !v.is_object()) throw cli_error(what + ": the server sent something that is not a JSON object");
  return std::move(v.get_object());
}

// The signed checkpoint note in member `key`; every batch signs one, so a
// size that ended no batch has none.
std::string note_member(const boost::json::object& o, const char* key, std::uint64_t size) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_string())
    throw cli_error("no checkpoint was signed at tree size " + std::to_string(size) +
                    "; use sizes of signed checkpoints (e.g. from receipts or vellum checkpoint)");
  return std::string(v->get_string());
}

}  // namespace

int cmd_read(int argc, char** argv) {
  po::options_description desc("read options");
  connection_options conn;
  std::string stream;
  std::uint64_t from = 0, limit = 0;
  desc.add_options()("stream", po::value(&stream), "the stream to read")(
      "all", "read the global log in seq order instead of one stream")(
      "from", po::value(&from), "first revision (stream) or seq (--all); backward reads start at the end")(
      "backward", "read a stream from the newest revision back")(
      "limit", po::value(&limit), "stop after N events (default: read to the end)");
  conn.add_to(desc);
  po::positional_options_description pos;
  pos.add("stream", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum read [--from REVISION] [--backward] [--limit N] STREAM\n"
                  "       vellum read --all [--from SEQ] [--limit N]\n\n"
                  "Prints one JSON event per line (NDJSON), with its record, salt and payload,\n"
                  "following the server's pages to the end of the stream (or log), or N events.\n"
                  "A stream that does not exist is an error (exit 3)."))
    return exit_ok;
  if (vm.count("all") && !stream.empty()) throw cli_error("give a STREAM or --all, not both");
  if (!vm.count("all") && stream.empty()) throw cli_error("give a STREAM or --all");
  if (vm.count("limit") && limit == 0) throw cli_error("--limit: must be at least 1");
  const std::optional<std::uint64_t> most = vm.count("limit") ? std::optional(limit) : std::nullopt;
  auto client = conn.connect();
  std::uint64_t printed = 0;
  std::optional<std::uint64_t> cursor;
  if (vm.count("from")) cursor = from;
  while (!most || printed < *most) {
    const std::uint64_t page = std::min<std::uint64_t>(most ? *most - printed : 1000, 1000);
    std::string target = vm.count("all") ? "/v1/log/events?limit=" + std::to_string(page)
                                         : "/v1/streams/" + percent_encode(stream) + "?limit=" + std::to_string(page) +
                                               (vm.count("backward") ? "&direction=backward" : "");
    if (cursor) target += "&from=" + std::to_string(*cursor);
    auto o = get_json(client, target, "read");
    if (!vm.count("all") && o.at("current_revision").is_null())
      throw cli_error("stream \"" + stream + "\" does not exist (vellum read --all lists every event)",
                      exit_not_found);
    const auto& events = o.at("events").as_array();
    for (const auto& e : events) std::cout << boost::json::serialize(e) << "\n";
    printed += events.size();
    const auto& next = o.at("next");
    if (events.empty() || next.is_null()) break;
    cursor = next.to_number<std::uint64_t>();
  }
  std::cout << std::flush;
  return exit_ok;
}

int cmd_tail(int argc, char** argv) {
  po::options_description desc("tail options");
  connection_options conn;
  std::string stream, prefix, type;
  std::uint64_t from = 0;
  desc.add_options()("from", po::value(&from), "start at this seq, catching up first (default: only new events)")(
      "stream", po::value(&stream), "only this stream")("prefix", po::value(&prefix), "only streams with this prefix")(
      "type", po::value(&type), "only events of this type");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum tail [--from SEQ] [--stream S | --prefix P] [--type T]\n\n"
                  "Follows the log (Server-Sent Events) and prints one JSON event per line until\n"
                  "interrupted or the server closes the subscription: the events appended from now\n"
                  "on, of the whole log unless a filter is given; --from SEQ (e.g. 0) replays the\n"
                  "log from SEQ first."))
    return exit_ok;
  auto client = conn.connect();
  if (!vm.count("from")) {
    // Only new events: start at the log's current size.
    from = get_json(client, "/v1/log", "log").at("tree_size").to_number<std::uint64_t>();
  }
  std::string target = "/v1/subscribe?from=" + std::to_string(from) + "&";
  if (!stream.empty()) target += "stream=" + percent_encode(stream) + "&";
  if (!prefix.empty()) target += "prefix=" + percent_encode(prefix) + "&";
  if (!type.empty()) target += "type=" + percent_encode(type) + "&";
  target.pop_back();

  // Server-Sent Events: blocks of "field: value" lines ended by a blank line.
  std::string pending, event_name, data;
  int exit_status = exit_ok;
  auto on_chunk = [&](std::string_view chunk) {
    pending.append(chunk);
    for (std::size_t nl; (nl = pending.find('\n')) != std::string::npos;) {
      std::string line = pending.substr(0, nl);
      pending.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        if (event_name == "event" || event_name.empty()) {
          if (!data.empty()) std::cout << data << std::endl;
        } else if (event_name == "overflow" || event_name == "error") {
          std::cerr << "vellum tail: the server ended the subscription (" << event_name << "): " << data << "\n";
          exit_status = exit_failed;
        }
        event_name.clear();
        data.clear();
      } else if (line.starts_with("event:")) {
        event_name = line.substr(line.size() > 6 && line[6] == ' ' ? 7 : 6);
      } else if (line.starts_with("data:")) {
        if (!data.empty()) data += "\n";
        data += line.substr(line.size() > 5 && line[5] == ' ' ? 6 : 5);
      }
    }
    return true;
  };
  auto status = client.stream(target, "text/event-stream", on_chunk);
  if (!status) fail_unreachable(client.url(), status.error());
  if (*status != 200) {
    std::cerr << "vellum tail: HTTP " << *status << "\n";
    return *status == 401 || *status == 403 ? exit_unavailable : exit_failed;
  }
  return exit_status;
}

int cmd_checkpoint(int argc, char** argv) {
  po::options_description desc("checkpoint options");
  connection_options conn;
  std::string save;
  desc.add_options()("save", po::value(&save), "also write the signed checkpoint to this file");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum checkpoint [--save FILE]\n\n"
                  "Prints the log's latest signed checkpoint (C2SP). Check it offline with\n"
                  "vellum-verify checkpoint --log-key VKEY FILE."))
    return exit_ok;
  auto client = conn.connect();
  auto res = client.request("GET", "/checkpoint");
  if (!res) fail_unreachable(client.url(), res.error());
  if (res->status != 200) return http_failure("checkpoint", *res);
  if (!save.empty()) {
    if (auto w = vellum::write_file_atomic(save, res->body, 0644); !w)
      throw cli_error("cannot write " + save + ": " + w.error().message());
  }
  std::cout << res->body;
  return exit_ok;
}

int cmd_proof(int argc, char** argv) {
  po::options_description desc("proof options");
  connection_options conn;
  std::string kind;
  std::uint64_t a = 0, b = 0, tree_size = 0;
  desc.add_options()("kind", po::value(&kind)->required(), "inclusion or consistency")(
      "a", po::value(&a)->required(), "seq (inclusion) or older tree size (consistency)")(
      "b", po::value(&b), "newer tree size (consistency)")(
      "tree-size", po::value(&tree_size), "tree size for an inclusion proof (default: the latest)");
  conn.add_to(desc);
  po::positional_options_description pos;
  pos.add("kind", 1).add("a", 1).add("b", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum proof [--tree-size N] inclusion SEQ\n"
                  "       vellum proof consistency OLD_SIZE NEW_SIZE\n\n"
                  "Prints the proof as JSON in the form vellum-verify accepts (--json-file), with the\n"
                  "signed checkpoints it refers to. The root is taken from those checkpoints: verify\n"
                  "them too (vellum-verify checkpoint)."))
    return exit_ok;
  auto client = conn.connect();
  boost::json::object out;
  if (kind == "inclusion") {
    std::string target = "/v1/proofs/inclusion?seq=" + std::to_string(a);
    if (vm.count("tree-size")) target += "&tree_size=" + std::to_string(tree_size);
    auto o = get_json(client, target, "inclusion proof");
    const std::string note = note_member(o, "checkpoint", o.at("tree_size").to_number<std::uint64_t>());
    out = {{"leaf_index", o.at("seq")},     {"tree_size", o.at("tree_size")},
           {"leaf_hash", o.at("leaf_hash")}, {"root", crypto::base64_encode(checkpoint_of_note(note, "the server's checkpoint").root)},
           {"path", o.at("proof")},          {"leaf_entry", o.at("leaf_entry")},
           {"checkpoint", note}};
  } else if (kind == "consistency") {
    if (!vm.count("b")) throw cli_error("consistency needs OLD_SIZE and NEW_SIZE");
    auto o = get_json(client, "/v1/proofs/consistency?from=" + std::to_string(a) + "&to=" + std::to_string(b),
                      "consistency proof");
    const std::string from_note = note_member(o, "from_checkpoint", a), to_note = note_member(o, "to_checkpoint", b);
    out = {{"size1", o.at("from")},
           {"size2", o.at("to")},
           {"root1", crypto::base64_encode(checkpoint_of_note(from_note, "the server's checkpoint").root)},
           {"root2", crypto::base64_encode(checkpoint_of_note(to_note, "the server's checkpoint").root)},
           {"proof", o.at("proof")},
           {"checkpoint1", from_note},
           {"checkpoint2", to_note}};
  } else {
    throw cli_error("the proof kind must be inclusion or consistency");
  }
  std::cout << boost::json::serialize(out) << "\n";
  return exit_ok;
}

int cmd_log(int argc, char** argv) {
  po::options_description desc("log options");
  connection_options conn;
  desc.add_options()("verifier-key", "print only the log's verifier key (for vellum-verify --log-key)");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum log [--verifier-key]\n\n"
                  "Prints the log's origin, verifier key and tree size (GET /v1/log). Compare the\n"
                  "verifier key with the one vellumd printed at start, or one you were given out of band."))
    return exit_ok;
  auto client = conn.connect();
  auto o = get_json(client, "/v1/log", "log");
  if (vm.count("verifier-key")) {
    auto* vk = o.if_contains("verifier_key");
    if (!vk || !vk->is_string()) throw cli_error("the server did not send a verifier key");
    std::cout << vk->get_string().c_str() << "\n";
  } else {
    std::cout << boost::json::serialize(o) << "\n";
  }
  return exit_ok;
}

}  // namespace vellum::cli
