// vellum-verify: the standalone offline verifier. No network, no LMDB, no
// Asio: it reads files and command-line arguments and checks them with the
// log's (and witnesses') public keys only.
//
// Exit status (base/exit_codes.hpp): 0 everything verified; 1 something does
// not verify; 2 the input could not be read or the command line is wrong;
// 3 an input file does not exist.

#include "base/exit_codes.hpp"
#include "base/file.hpp"
#include "crypto/encoding.hpp"
#include "crypto/fold.hpp"
#include "crypto/keys.hpp"
#include "crypto/merkle.hpp"
#include "crypto/sha256.hpp"
#include "verifier/bundle.hpp"
#include "verifier/bundle_report.hpp"
#include "verifier/verify.hpp"

#include <vellum/version.hpp>

#include <boost/json.hpp>

#include <filesystem>
#include <streambuf>
#include <array>
#include <charconv>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace po = boost::program_options;
using namespace vellum;

namespace {

// The exit statuses of every Vellum program (base/exit_codes.hpp).
constexpr int exit_verified = exit_code::ok;
constexpr int exit_not_verified = exit_code::failed;
constexpr int exit_unreadable = exit_code::usage;

const char* usage_text =
    "usage: vellum-verify <command> [options]\n"
    "\n"
    "Checks Vellum's (and any C2SP log's) checkpoints, receipts and proofs offline.\n"
    "\n"
    "commands:\n"
    "  bundle --log-key VKEY [--since CHECKPOINT_FILE] [--html FILE] [--threads N] FILE\n"
    "                                               a sealed export (vellum export)\n"
    "  checkpoint --log-key VKEY [--log-key VKEY...] FILE\n"
    "                                               a C2SP checkpoint (signed note)\n"
    "  receipt --log-key VKEY FILE                  a receipt returned by an append\n"
    "  inclusion --json-file FILE --log-key VKEY    an inclusion proof (vellum proof inclusion)\n"
    "  consistency --json-file FILE --log-key VKEY  a consistency proof (vellum proof consistency)\n"
    "\n"
    "Hashes are 64 hex digits or base64. FILE may be - for standard input.\n"
    "Add --json to any command for a machine-readable report.\n"
    "exit status: 0 verified, 1 does not verify, 2 usage or unreadable input, 3 file not found.\n"
    "Run 'vellum-verify <command> --help' for the options of one command.\n";

struct cli_error {
  std::string message;
  int exit_status = exit_unreadable;
};

std::string read_input(const std::string& path) {
  if (path == "-") {
    std::string data((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return data;
  }
  auto text = vellum::read_file(path);
  if (!text && text.error() == boost::system::errc::no_such_file_or_directory)
    throw cli_error{path + ": not found", exit_code::not_found};
  if (!text) throw cli_error{text.error().message()};
  return *text;
}

// Prints the outcome in the chosen form and returns the exit status.
int report(bool json, bool ok, boost::json::object details, const std::string& human) {
  if (json) {
    details["verified"] = ok;
    std::cout << boost::json::serialize(details) << "\n";
  } else {
    std::cout << human;
  }
  return ok ? exit_verified : exit_not_verified;
}

// A verification that failed: the --json "code" is the stable name of the
// status's code (verifier::failure_code), "detail" the reason naming what failed.
int fail_report(bool json, const status& s, const std::string& what) {
  boost::json::object o;
  o["error"] = {{"code", verifier::failure_code(s.code())}, {"detail", s.message()}};
  return report(json, false, std::move(o), "FAILED: " + what + ": " + s.message() + "\n");
}

// Passes a stream through and hashes every byte read, so the report can state
// the bundle's SHA-256 without a second pass over a file of many gigabytes
// (or over standard input, which cannot be read twice).
class hashing_buf final : public std::streambuf {
 public:
  explicit hashing_buf(std::streambuf* source) : source_(source) {}
  // Reads what is left to the end, then returns the digest of everything.
  crypto::hash finish() {
    while (underflow() != traits_type::eof()) {
    }
    return hasher_.finish();
  }

 protected:
  int_type underflow() override {
    const std::streamsize n = source_->sgetn(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (n <= 0) return traits_type::eof();
    hasher_.update(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
    setg(buffer_.data(), buffer_.data(), buffer_.data() + n);
    return traits_type::to_int_type(buffer_[0]);
  }

 private:
  std::streambuf* source_;
  std::array<char, 1 << 16> buffer_{};
  crypto::sha256_hasher hasher_;
};

std::uint64_t now_us() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

std::vector<crypto::note_verifier> parse_keys(const std::vector<std::string>& vkeys) {
  std::vector<crypto::note_verifier> keys;
  for (const auto& v : vkeys) {
    auto k = crypto::note_verifier::from_vkey(v);
    if (!k) throw cli_error{"bad verifier key \"" + v + "\": " + k.error().message()};
    keys.push_back(std::move(*k));
  }
  return keys;
}

crypto::hash hash_arg(const std::string& name, const std::string& text) {
  auto h = verifier::parse_hash(text);
  if (!h) throw cli_error{"--" + name + ": not a SHA-256 hash in hex or base64: " + text};
  return *h;
}

std::vector<crypto::hash> hash_list(const std::string& name, const std::vector<std::string>& items) {
  std::vector<crypto::hash> out;
  for (const auto& item : items) {
    // Accept both repeated flags and comma-separated lists.
    std::size_t start = 0;
    while (start <= item.size()) {
      auto comma = item.find(',', start);
      auto part = item.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(hash_arg(name, part));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::string b64(const crypto::hash& h) { return crypto::base64_encode(h); }

// Parses `argv` for one subcommand; returns false (after printing help) if
// --help was asked.
bool parse(int argc, char** argv, po::options_description& desc, po::positional_options_description& pos,
           po::variables_map& vm, const char* synopsis) {
  desc.add_options()("help,h", "show this help")("json", "print a JSON report");
  po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << synopsis << "\n" << desc;
    return false;
  }
  po::notify(vm);
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

int cmd_checkpoint(int argc, char** argv) {
  po::options_description desc("checkpoint options");
  std::string file;
  std::vector<std::string> vkeys, old_spelling;
  desc.add_options()("file", po::value(&file)->required(), "checkpoint file (signed note), - for stdin")(
      "log-key", po::value(&vkeys), "verifier key (name+keyid+base64) of the log or a witness; repeat for several")(
      "key", po::value(&old_spelling), "the same as --log-key (the old spelling, kept for one release)")(
      "any", "succeed when any one given key signed (default: every given key must have signed)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "usage: vellum-verify checkpoint --log-key VKEY [--log-key VKEY...] [--any] FILE"))
    return exit_verified;
  vkeys.insert(vkeys.end(), old_spelling.begin(), old_spelling.end());
  if (vkeys.empty()) throw cli_error{"checkpoint needs --log-key VKEY (the log's verifier key)"};
  const bool json = vm.count("json");
  auto keys = parse_keys(vkeys);
  const std::string note = read_input(file);
  auto r = verifier::verify_checkpoint(note, keys, !vm.count("any"));
  if (!r) return fail_report(json, r.error(), "checkpoint " + file);
  const auto& cp = r->body;
  boost::json::object o{{"origin", cp.origin},
                        {"size", cp.size},
                        {"root", b64(cp.root)},
                        {"root_hex", crypto::hex_encode(cp.root)}};
  boost::json::array signed_by, others, ext;
  for (const auto& s : r->signed_by) signed_by.emplace_back(s);
  for (const auto& s : r->other_signers) others.emplace_back(s);
  for (const auto& s : cp.extensions) ext.emplace_back(s);
  o["signed_by"] = std::move(signed_by);
  o["other_signers"] = std::move(others);
  o["extensions"] = std::move(ext);
  std::string human = "checkpoint verified\n  origin:    " + cp.origin +
                      "\n  size:      " + std::to_string(cp.size) + "\n  root:      " + b64(cp.root) +
                      "\n  signed by: " + join(r->signed_by) + "\n";
  if (!r->other_signers.empty())
    human += "  also signed by (not checked): " + join(r->other_signers) + "\n";
  return report(json, true, std::move(o), human);
}

int cmd_receipt(int argc, char** argv) {
  po::options_description desc("receipt options");
  std::string file, log_key;
  desc.add_options()("file", po::value(&file)->required(), "receipt JSON file, - for stdin")(
      "log-key", po::value(&log_key)->required(), "the log's verifier key");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "usage: vellum-verify receipt --log-key VKEY FILE")) return exit_verified;
  const bool json = vm.count("json");
  auto keys = parse_keys({log_key});
  const std::string text = read_input(file);
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec) throw cli_error{file + " is not JSON: " + ec.message()};
  auto r = verifier::verify_receipt(value, keys.front());
  if (!r) return fail_report(json, r.error(), "receipt " + file);
  const auto& rec = r->record;
  const auto& cp = r->checkpoint;
  boost::json::object o{{"seq", rec.seq},           {"stream", rec.stream},
                        {"revision", rec.revision}, {"event_id", rec.event_id},
                        {"kid", rec.kid},           {"recorded_at", crypto::format_time_us(rec.recorded_at_us)},
                        {"origin", cp.origin},      {"tree_size", cp.size},
                        {"root", b64(cp.root)}};
  std::string human = "receipt verified\n  event:       " + rec.event_id + "\n  stream:      " + rec.stream +
                      " revision " + std::to_string(rec.revision) + "\n  seq:         " +
                      std::to_string(rec.seq) + "\n  recorded at: " + crypto::format_time_us(rec.recorded_at_us) +
                      "\n  signed by:   " + rec.kid + " (submitter key id)\n  anchored in: " + cp.origin +
                      " tree size " + std::to_string(cp.size) + ", root " + b64(cp.root) + "\n";
  return report(json, true, std::move(o), human);
}

// Reads a JSON proof file; missing members throw cli_error.
boost::json::object read_json_object(const std::string& file) {
  boost::system::error_code ec;
  auto v = boost::json::parse(read_input(file), ec);
  if (ec || !v.is_object()) throw cli_error{file + " is not a JSON object"};
  return v.get_object();
}

std::uint64_t json_u64(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (v && v->is_uint64()) return v->get_uint64();
  if (v && v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  throw cli_error{std::string("JSON member \"") + key + "\" must be a non-negative integer"};
}
std::string json_str(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  throw cli_error{std::string("JSON member \"") + key + "\" must be a string"};
}
std::vector<std::string> json_strs(const boost::json::object& o, const char* key) {
  auto* v = o.if_contains(key);
  if (!v || !v->is_array()) throw cli_error{std::string("JSON member \"") + key + "\" must be an array"};
  std::vector<std::string> out;
  for (const auto& x : v->get_array()) {
    if (!x.is_string()) throw cli_error{std::string("JSON member \"") + key + "\" must hold strings"};
    out.emplace_back(x.get_string());
  }
  return out;
}

// The root a proof is checked against. With --log-key, it is taken from a
// checkpoint (a file, or the proof file's own member) whose signature by the
// log key verifies and whose size is `size`: the proof then shows the leaf
// is in the log. Without, the given root is used as it is, and the user is
// told loudly that nothing says the log ever signed it.
struct root_source {
  std::string log_key;      // --log-key ("" = unsigned root)
  std::string note;         // the checkpoint note, if any
  std::string where;        // where the note came from, for messages
};

std::optional<crypto::hash> signed_root(const root_source& src, std::uint64_t size, bool json) {
  if (src.log_key.empty()) {
    std::cerr << "WARNING: the root was given, not taken from a checkpoint signed by the log: this proves\n"
                 "         nothing about the log. Pass --log-key VKEY"
              << (src.note.empty() ? " and --checkpoint FILE" : "") << " to check the root against its signature.\n";
    return std::nullopt;
  }
  if (src.note.empty()) throw cli_error{"--log-key needs a signed checkpoint: --checkpoint FILE (vellum checkpoint --save)"};
  auto r = verifier::verify_checkpoint(src.note, parse_keys({src.log_key}), true);
  if (!r) {
    fail_report(json, r.error(), "checkpoint " + src.where);
    throw cli_error{src.where + " is not signed by the given log key", exit_not_verified};
  }
  if (r->body.size != size)
    throw cli_error{src.where + " is for tree size " + std::to_string(r->body.size) + ", the proof for " +
                        std::to_string(size),
                    exit_not_verified};
  return r->body.root;
}

int cmd_inclusion(int argc, char** argv) {
  po::options_description desc("inclusion options");
  std::string json_file, leaf_s, root_s, entry_file, checkpoint_file;
  root_source src;
  std::uint64_t index = 0, size = 0;
  std::vector<std::string> proof_s;
  desc.add_options()("json-file", po::value(&json_file),
                     "JSON {leaf_index, tree_size, leaf_hash, root, path|proof:[hashes]}")(
      "index", po::value(&index), "leaf index (0-based)")("size", po::value(&size), "tree size")(
      "leaf-hash", po::value(&leaf_s), "the leaf hash")("entry-file", po::value(&entry_file),
                                                        "a file holding the leaf entry (hashed here)")(
      "root", po::value(&root_s), "the tree root (unsigned: prefer --log-key with a checkpoint)")(
      "proof", po::value(&proof_s)->multitoken(), "proof hashes, in order (repeat or comma-separate)")(
      "log-key", po::value(&src.log_key), "take the root from a checkpoint signed by this key")(
      "checkpoint", po::value(&checkpoint_file), "that checkpoint (default: the --json-file's \"checkpoint\")");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify inclusion --json-file FILE [--log-key VKEY [--checkpoint FILE]]\n"
             "       vellum-verify inclusion --index N --size N (--leaf-hash H | --entry-file F)\n"
             "                               (--log-key VKEY --checkpoint FILE | --root H) [--proof H...]\n\n"
             "Checks that a leaf is in a tree. With --log-key the tree's root comes from a checkpoint the\n"
             "log signed (vellum proof puts it in the file): only then does it prove the leaf is in the log."))
    return exit_verified;
  if (vm.count("json-file")) {
    auto o = read_json_object(json_file);
    index = json_u64(o, "leaf_index");
    size = json_u64(o, "tree_size");
    leaf_s = json_str(o, "leaf_hash");
    root_s = json_str(o, "root");
    proof_s = json_strs(o, o.contains("path") ? "path" : "proof");
    if (const auto* cp = o.if_contains("checkpoint"); cp && cp->is_string()) {
      src.note = std::string(cp->get_string());
      src.where = json_file + " (its checkpoint)";
    }
  } else {
    if (!vm.count("index") || !vm.count("size") || (!vm.count("root") && src.log_key.empty()) ||
        (!vm.count("leaf-hash") && !vm.count("entry-file")))
      throw cli_error{"inclusion needs --index, --size, --leaf-hash or --entry-file, and --log-key with "
                      "--checkpoint or --root (or --json-file)"};
  }
  if (!checkpoint_file.empty()) {
    src.note = read_input(checkpoint_file);
    src.where = checkpoint_file;
  }
  const bool json = vm.count("json");
  crypto::hash leaf = entry_file.empty() ? hash_arg("leaf-hash", leaf_s)
                                         : crypto::leaf_hash(crypto::as_bytes(read_input(entry_file)));
  const auto from_log = signed_root(src, size, json);
  const auto root = from_log ? *from_log : hash_arg("root", root_s);
  if (from_log && !root_s.empty() && hash_arg("root", root_s) != *from_log)
    throw cli_error{"the given root is not the signed checkpoint's root", exit_not_verified};
  const auto proof = hash_list("proof", proof_s);
  boost::json::object o{{"leaf_index", index}, {"tree_size", size}, {"root", b64(root)}, {"root_signed", from_log.has_value()}};
  if (auto v = crypto::verify_inclusion(index, size, leaf, proof, root); !v)
    return fail_report(json, v.error(),
                       "inclusion of leaf " + std::to_string(index) + " in tree size " + std::to_string(size));
  return report(json, true, std::move(o),
                "inclusion verified: leaf " + std::to_string(index) + " is in the tree of size " +
                    std::to_string(size) + " with root " + b64(root) +
                    (from_log ? ", signed by the log\n" : " (NOT checked against a signed checkpoint)\n"));
}

int cmd_consistency(int argc, char** argv) {
  po::options_description desc("consistency options");
  std::string json_file, root1_s, root2_s, checkpoint1_file, checkpoint2_file, log_key;
  std::uint64_t size1 = 0, size2 = 0;
  std::vector<std::string> proof_s;
  desc.add_options()("json-file", po::value(&json_file), "JSON {size1, size2, root1, root2, proof:[hashes]}")(
      "size1", po::value(&size1), "older tree size")("size2", po::value(&size2), "newer tree size")(
      "root1", po::value(&root1_s), "older root (unsigned: prefer --log-key)")(
      "root2", po::value(&root2_s), "newer root (unsigned: prefer --log-key)")(
      "proof", po::value(&proof_s)->multitoken(), "proof hashes, in order (repeat or comma-separate)")(
      "log-key", po::value(&log_key), "take both roots from checkpoints signed by this key")(
      "checkpoint1", po::value(&checkpoint1_file), "the older checkpoint (default: the --json-file's)")(
      "checkpoint2", po::value(&checkpoint2_file), "the newer checkpoint (default: the --json-file's)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify consistency --json-file FILE [--log-key VKEY]\n"
             "       vellum-verify consistency --size1 M --size2 N (--log-key VKEY --checkpoint1 F --checkpoint2 F |\n"
             "                                 --root1 H --root2 H) [--proof H...]\n\n"
             "Checks that the newer tree extends the older one without rewriting it. With --log-key both\n"
             "roots come from checkpoints the log signed: only then does it say anything about the log."))
    return exit_verified;
  root_source src1{log_key, {}, {}}, src2{log_key, {}, {}};
  if (vm.count("json-file")) {
    auto o = read_json_object(json_file);
    size1 = json_u64(o, "size1");
    size2 = json_u64(o, "size2");
    root1_s = json_str(o, "root1");
    root2_s = json_str(o, "root2");
    for (auto [member, src] : {std::pair{"checkpoint1", &src1}, std::pair{"checkpoint2", &src2}}) {
      if (const auto* cp = o.if_contains(member); cp && cp->is_string()) {
        src->note = std::string(cp->get_string());
        src->where = json_file + " (its " + member + ")";
      }
    }
    proof_s = json_strs(o, "proof");
  } else if (!vm.count("size1") || !vm.count("size2") ||
             (log_key.empty() && (!vm.count("root1") || !vm.count("root2")))) {
    throw cli_error{"consistency needs --size1, --size2 and --log-key with --checkpoint1/--checkpoint2, or "
                    "--root1 and --root2 (or --json-file)"};
  }
  const bool json = vm.count("json");
  for (auto [file, src] : {std::pair{&checkpoint1_file, &src1}, std::pair{&checkpoint2_file, &src2}}) {
    if (file->empty()) continue;
    src->note = read_input(*file);
    src->where = *file;
  }
  const auto signed1 = signed_root(src1, size1, json);
  const auto signed2 = log_key.empty() ? std::nullopt : signed_root(src2, size2, json);
  const auto root1 = signed1 ? *signed1 : hash_arg("root1", root1_s);
  const auto root2 = signed2 ? *signed2 : hash_arg("root2", root2_s);
  if ((signed1 && !root1_s.empty() && hash_arg("root1", root1_s) != *signed1) ||
      (signed2 && !root2_s.empty() && hash_arg("root2", root2_s) != *signed2))
    throw cli_error{"a given root is not its signed checkpoint's root", exit_not_verified};
  const auto proof = hash_list("proof", proof_s);
  boost::json::object o{{"size1", size1},         {"size2", size2},
                        {"root1", b64(root1)},     {"root2", b64(root2)},
                        {"roots_signed", signed1.has_value()}};
  if (auto v = crypto::verify_consistency(size1, size2, root1, root2, proof); !v)
    return fail_report(json, v.error(),
                       "consistency of tree sizes " + std::to_string(size1) + " and " + std::to_string(size2));
  return report(json, true, std::move(o),
                "consistency verified: the tree of size " + std::to_string(size1) +
                    " is a prefix of the tree of size " + std::to_string(size2) + "\n");
}

int cmd_bundle(int argc, char** argv) {
  po::options_description desc("bundle options");
  std::string file, log_key, since_file, html_file, state_stream, as_of;
  unsigned threads = 0;
  desc.add_options()("file", po::value(&file)->required(), "the sealed export (NDJSON), - for stdin")(
      "log-key", po::value(&log_key)->required(), "the log's verifier key")(
      "since", po::value(&since_file), "a checkpoint you already trust: the bundle must prove it extends it")(
      "html", po::value(&html_file), "also write a printable HTML report to this file")(
      "threads", po::value(&threads), "signature-checking threads (default: one per core)")(
      "state", po::value(&state_stream), "fold this stream's verified events and print its state and state_sha256")(
      "as-of", po::value(&as_of), "with --state: only events recorded by this RFC 3339 time (or seq:N)")(
      "history", "with --state: also print every change of each field (who, when, why)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify bundle --log-key VKEY [--since CHECKPOINT_FILE] [--json] [--html FILE] "
             "[--threads N] [--state STREAM [--as-of T] [--history]] FILE"))
    return exit_verified;
  const bool json = vm.count("json");
  auto keys = parse_keys({log_key});
  if (state_stream.empty() && (!as_of.empty() || vm.count("history")))
    throw cli_error{"--as-of and --history need --state STREAM"};
  std::optional<std::uint64_t> as_of_us, as_of_seq;
  if (!as_of.empty()) {
    if (as_of.starts_with("seq:")) {
      std::uint64_t n = 0;
      const auto* first = as_of.data() + 4;
      const auto* last = as_of.data() + as_of.size();
      const auto r = std::from_chars(first, last, n);
      if (r.ec != std::errc{} || r.ptr != last || first == last) throw cli_error{"--as-of: seq:N needs a number N"};
      as_of_seq = n;
    } else {
      as_of_us = crypto::parse_rfc3339_us(as_of);
      if (!as_of_us) throw cli_error{"--as-of: an RFC 3339 date-time or seq:N"};
    }
  }

  verifier::bundle_options opts;
  if (!state_stream.empty()) opts.fold_stream = state_stream;
  if (!since_file.empty()) opts.since_checkpoint = read_input(since_file);
  opts.threads = threads;
  opts.keep_rows = !html_file.empty();
  // Progress on a terminal: lines and MiB read, at most a few times a second.
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto last = std::chrono::steady_clock::now();
  bool shown = false;
  if (tty) {
    opts.progress = [&](std::uint64_t lines, std::uint64_t bytes) {
      const auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::milliseconds(200)) return;
      last = now;
      shown = true;
      std::fprintf(stderr, "\rverifying: %llu lines, %.1f MiB", static_cast<unsigned long long>(lines),
                   static_cast<double>(bytes) / (1024.0 * 1024.0));
    };
  }

  verifier::bundle_report r;
  verifier::report_provenance provenance{.made_at_us = now_us(),
                                         .verifier = std::string("vellum-verify ") + vellum::version,
                                         .bundle_name = file == "-" ? "(standard input)" : file,
                                         .bundle_sha256 = std::nullopt};
  std::ifstream file_in;
  if (file != "-") {
    file_in.open(file, std::ios::binary);
    if (!file_in && !std::filesystem::exists(file)) throw cli_error{file + ": not found", exit_code::not_found};
    if (!file_in) throw cli_error{"cannot open " + file};
  }
  hashing_buf hashed(file == "-" ? std::cin.rdbuf() : file_in.rdbuf());
  std::istream in(&hashed);
  r = verifier::verify_bundle(in, keys.front(), opts);
  provenance.bundle_sha256 = hashed.finish();  // of the whole input, read to its end
  if (shown) std::fprintf(stderr, "\r\033[K");
  if (!r.read_error.empty()) throw cli_error{file + ": " + r.read_error};

  if (!html_file.empty()) {
    if (auto w = vellum::write_file_atomic(html_file, verifier::render_html(r, provenance), 0644); !w)
      throw cli_error{"cannot write " + html_file + ": " + w.error().message()};
  }
  // The generic fold of --state, over events that verified in a bundle that
  // verified: the same code as the server's GET /v1/streams/{s}/state.
  boost::json::object state;
  if (!state_stream.empty() && r.verified()) {
    std::vector<crypto::fold_event> events;
    for (auto& e : r.fold_events) {
      if (as_of_seq && e.seq >= *as_of_seq) break;
      if (as_of_us && e.recorded_at_us > *as_of_us) break;
      events.push_back(std::move(e));
    }
    auto folded = crypto::fold(events);
    if (!folded) throw cli_error{"--state: " + folded.error().message(), exit_not_verified};
    state = {{"stream", state_stream},
             {"revision", folded->revision ? boost::json::value(*folded->revision) : boost::json::value(nullptr)},
             {"state", folded->state},
             {"state_sha256", folded->state_sha256},
             {"events", folded->events.size()},
             {"complete", r.complete_streams}};
    if (!as_of.empty()) state["as_of"] = as_of;
    if (vm.count("history")) {
      boost::json::array changes;
      for (auto& c : crypto::field_history(events)) changes.push_back(std::move(c));
      state["history"] = std::move(changes);
    }
  }
  if (json) {
    auto o = verifier::render_json(r);
    if (!state.empty()) o["fold"] = state;
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    std::cout << verifier::render_text(r);
    if (!state_stream.empty() && !r.verified()) {
      std::cout << "state of " << state_stream << ": not computed, the bundle does not verify\n";
    } else if (!state.empty()) {
      std::cout << "state of " << state_stream << (as_of.empty() ? "" : " as of " + as_of) << " ("
                << state.at("events").as_uint64() << " events folded"
                << (r.complete_streams ? "" : "; the bundle does not claim every event of the stream") << "):\n"
                << boost::json::serialize(state.at("state")) << "\nstate_sha256: "
                << state.at("state_sha256").as_string().c_str() << "\n";
      if (const auto* h = state.if_contains("history"))
        for (const auto& c : h->as_array()) std::cout << boost::json::serialize(c) << "\n";
    }
  }
  return r.verified() ? exit_verified : exit_not_verified;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage_text;
    return exit_unreadable;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage_text;
    return exit_verified;
  }
  if (cmd == "--version") {
    std::cout << "vellum-verify " << vellum::version << "\n";
    return exit_verified;
  }
  try {
    // Each subcommand parses the arguments after its name.
    if (cmd == "bundle") return cmd_bundle(argc - 1, argv + 1);
    if (cmd == "checkpoint") return cmd_checkpoint(argc - 1, argv + 1);
    if (cmd == "receipt") return cmd_receipt(argc - 1, argv + 1);
    if (cmd == "inclusion") return cmd_inclusion(argc - 1, argv + 1);
    if (cmd == "consistency") return cmd_consistency(argc - 1, argv + 1);
    std::cerr << "vellum-verify: unknown command \"" << cmd << "\"\n\n" << usage_text;
    return exit_unreadable;
  } catch (const cli_error& e) {
    std::cerr << "vellum-verify " << cmd << ": " << e.message << "\n";
    return e.exit_status;
  } catch (const po::error& e) {
    std::cerr << "vellum-verify " << cmd << ": " << e.what() << " (see --help)\n";
    return exit_unreadable;
  }
}
