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
#include "crypto/keys.hpp"
#include "crypto/merkle.hpp"
#include "verifier/bundle.hpp"
#include "verifier/bundle_report.hpp"
#include "verifier/verify.hpp"

#include <vellum/version.hpp>

#include <boost/json.hpp>

#include <filesystem>
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
    "  bundle FILE --log-key VKEY [--since CHECKPOINT_FILE] [--html FILE] [--threads N]\n"
    "                                               a sealed export (vellum export)\n"
    "  checkpoint FILE --key VKEY [--key VKEY...]   a C2SP checkpoint (signed note)\n"
    "  receipt FILE --log-key VKEY                  a receipt returned by an append\n"
    "  inclusion [--json-file FILE | --index N --size N --leaf-hash H --root H [--proof H...]]\n"
    "  consistency [--json-file FILE | --size1 M --size2 N --root1 H --root2 H [--proof H...]]\n"
    "\n"
    "Hashes are 64 hex digits or base64. FILE may be - for standard input.\n"
    "Add --json to any command for a machine-readable report.\n"
    "exit status: 0 verified, 1 does not verify, 2 could not read the input.\n"
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
  std::vector<std::string> vkeys;
  desc.add_options()("file", po::value(&file)->required(), "checkpoint file (signed note), - for stdin")(
      "key", po::value(&vkeys)->required(), "verifier key (name+keyid+base64); repeat for several")(
      "any", "succeed when any one given key signed (default: every given key must have signed)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm, "usage: vellum-verify checkpoint FILE --key VKEY [--key VKEY...]"))
    return exit_verified;
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
  if (!parse(argc, argv, desc, pos, vm, "usage: vellum-verify receipt FILE --log-key VKEY")) return exit_verified;
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

int cmd_inclusion(int argc, char** argv) {
  po::options_description desc("inclusion options");
  std::string json_file, leaf_s, root_s, entry_file;
  std::uint64_t index = 0, size = 0;
  std::vector<std::string> proof_s;
  desc.add_options()("json-file", po::value(&json_file),
                     "JSON {leaf_index, tree_size, leaf_hash, root, path|proof:[hashes]}")(
      "index", po::value(&index), "leaf index (0-based)")("size", po::value(&size), "tree size")(
      "leaf-hash", po::value(&leaf_s), "the leaf hash")("entry-file", po::value(&entry_file),
                                                        "a file holding the leaf entry (hashed here)")(
      "root", po::value(&root_s), "the tree root")("proof", po::value(&proof_s)->multitoken(),
                                                   "proof hashes, in order (repeat or comma-separate)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify inclusion --index N --size N (--leaf-hash H | --entry-file F) --root H "
             "[--proof H...]\n       vellum-verify inclusion --json-file FILE"))
    return exit_verified;
  if (vm.count("json-file")) {
    auto o = read_json_object(json_file);
    index = json_u64(o, "leaf_index");
    size = json_u64(o, "tree_size");
    leaf_s = json_str(o, "leaf_hash");
    root_s = json_str(o, "root");
    proof_s = json_strs(o, o.contains("path") ? "path" : "proof");
  } else {
    if (!vm.count("index") || !vm.count("size") || !vm.count("root") ||
        (!vm.count("leaf-hash") && !vm.count("entry-file")))
      throw cli_error{"inclusion needs --index, --size, --root and --leaf-hash or --entry-file (or --json-file)"};
  }
  const bool json = vm.count("json");
  crypto::hash leaf = entry_file.empty() ? hash_arg("leaf-hash", leaf_s)
                                         : crypto::leaf_hash(crypto::as_bytes(read_input(entry_file)));
  const auto root = hash_arg("root", root_s);
  const auto proof = hash_list("proof", proof_s);
  boost::json::object o{{"leaf_index", index}, {"tree_size", size}, {"root", b64(root)}};
  if (auto v = crypto::verify_inclusion(index, size, leaf, proof, root); !v)
    return fail_report(json, v.error(),
                       "inclusion of leaf " + std::to_string(index) + " in tree size " + std::to_string(size));
  return report(json, true, std::move(o),
                "inclusion verified: leaf " + std::to_string(index) + " is in the tree of size " +
                    std::to_string(size) + " with root " + b64(root) + "\n");
}

int cmd_consistency(int argc, char** argv) {
  po::options_description desc("consistency options");
  std::string json_file, root1_s, root2_s;
  std::uint64_t size1 = 0, size2 = 0;
  std::vector<std::string> proof_s;
  desc.add_options()("json-file", po::value(&json_file), "JSON {size1, size2, root1, root2, proof:[hashes]}")(
      "size1", po::value(&size1), "older tree size")("size2", po::value(&size2), "newer tree size")(
      "root1", po::value(&root1_s), "older root")("root2", po::value(&root2_s), "newer root")(
      "proof", po::value(&proof_s)->multitoken(), "proof hashes, in order (repeat or comma-separate)");
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify consistency --size1 M --size2 N --root1 H --root2 H [--proof H...]\n"
             "       vellum-verify consistency --json-file FILE"))
    return exit_verified;
  if (vm.count("json-file")) {
    auto o = read_json_object(json_file);
    size1 = json_u64(o, "size1");
    size2 = json_u64(o, "size2");
    root1_s = json_str(o, "root1");
    root2_s = json_str(o, "root2");
    proof_s = json_strs(o, "proof");
  } else if (!vm.count("size1") || !vm.count("size2") || !vm.count("root1") || !vm.count("root2")) {
    throw cli_error{"consistency needs --size1, --size2, --root1 and --root2 (or --json-file)"};
  }
  const bool json = vm.count("json");
  const auto root1 = hash_arg("root1", root1_s);
  const auto root2 = hash_arg("root2", root2_s);
  const auto proof = hash_list("proof", proof_s);
  boost::json::object o{{"size1", size1}, {"size2", size2}, {"root1", b64(root1)}, {"root2", b64(root2)}};
  if (auto v = crypto::verify_consistency(size1, size2, root1, root2, proof); !v)
    return fail_report(json, v.error(),
                       "consistency of tree sizes " + std::to_string(size1) + " and " + std::to_string(size2));
  return report(json, true, std::move(o),
                "consistency verified: the tree of size " + std::to_string(size1) +
                    " is a prefix of the tree of size " + std::to_string(size2) + "\n");
}

int cmd_bundle(int argc, char** argv) {
  po::options_description desc("bundle options");
  std::string file, log_key, since_file, html_file;
  unsigned threads = 0;
  desc.add_options()("file", po::value(&file)->required(), "the sealed export (NDJSON), - for stdin")(
      "log-key", po::value(&log_key)->required(), "the log's verifier key")(
      "since", po::value(&since_file), "a checkpoint you already trust: the bundle must prove it extends it")(
      "html", po::value(&html_file), "also write a printable HTML report to this file")(
      "threads", po::value(&threads), "signature-checking threads (default: one per core)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (!parse(argc, argv, desc, pos, vm,
             "usage: vellum-verify bundle FILE --log-key VKEY [--since CHECKPOINT_FILE] [--json] [--html FILE] "
             "[--threads N]"))
    return exit_verified;
  const bool json = vm.count("json");
  auto keys = parse_keys({log_key});

  verifier::bundle_options opts;
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
  if (file == "-") {
    r = verifier::verify_bundle(std::cin, keys.front(), opts);
  } else {
    std::ifstream in(file, std::ios::binary);
    if (!in && !std::filesystem::exists(file)) throw cli_error{file + ": not found", exit_code::not_found};
    if (!in) throw cli_error{"cannot open " + file};
    r = verifier::verify_bundle(in, keys.front(), opts);
  }
  if (shown) std::fprintf(stderr, "\r\033[K");
  if (!r.read_error.empty()) throw cli_error{file + ": " + r.read_error};

  if (!html_file.empty()) {
    if (auto w = vellum::write_file_atomic(html_file, verifier::render_html(r), 0644); !w)
      throw cli_error{"cannot write " + html_file + ": " + w.error().message()};
  }
  if (json)
    std::cout << boost::json::serialize(verifier::render_json(r)) << "\n";
  else
    std::cout << verifier::render_text(r);
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
