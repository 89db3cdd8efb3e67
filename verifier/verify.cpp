#include "verifier/verify.hpp"

#include "crypto/encoding.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>

namespace vellum::verifier {

std::string failure_code(const boost::system::error_code& code) {
  if (code.category() == crypto::crypto_category()) return std::string(crypto::code_name(static_cast<crypto::errc>(code.value())));
  return std::string(code.category().name()) + ":" + std::to_string(code.value());
}

using crypto::errc;

namespace {

// A failed check: its code and the sentence naming what failed.
status fail(errc e, std::string detail) { return {e, std::move(detail)}; }

}  // namespace

result<crypto::hash> parse_hash(std::string_view text) {
  result<bytes> raw = text.size() == 64 ? crypto::hex_decode(text) : crypto::base64_decode(text);
  if (!raw) return raw.error();
  if (raw->size() != 32) return crypto::make_error_code(errc::bad_encoding);
  crypto::hash h;
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

namespace {

struct signature_line {
  std::string name;
  std::uint32_t key_id = 0;
};

// Best-effort listing of a note's signature lines, for error messages only
// (verification itself is crypto::open_note's job).
std::vector<signature_line> signature_lines(std::string_view note) {
  std::vector<signature_line> lines;
  const auto parts = crypto::split_note(note);
  if (!parts) return lines;
  std::string_view rest = parts->signatures;
  constexpr std::string_view dash = "\xE2\x80\x94 ";
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
    if (line.substr(0, dash.size()) != dash) continue;
    line.remove_prefix(dash.size());
    const auto space = line.find(' ');
    if (space == std::string_view::npos) continue;
    auto sig = crypto::base64_decode(line.substr(space + 1));
    if (!sig || sig->size() < 4) continue;
    const std::uint32_t id = (std::uint32_t{(*sig)[0]} << 24) | (std::uint32_t{(*sig)[1]} << 16) |
                             (std::uint32_t{(*sig)[2]} << 8) | std::uint32_t{(*sig)[3]};
    lines.push_back({std::string(line.substr(0, space)), id});
  }
  return lines;
}

}  // namespace

result<checkpoint_report> verify_checkpoint(std::string_view note, std::span<const crypto::note_verifier> keys,
                                            bool require_all) {
  if (keys.empty()) return fail(errc::unknown_key, "no verifier key given");

  auto opened = crypto::open_note(note, keys);
  if (!opened) {
    const auto e = opened.error();
    if (e == errc::bad_signature)
      return fail(errc::bad_signature,
                  "a signature by one of the given keys does not verify: the note was altered "
                  "or signed by someone else");
    if (e == errc::unknown_key) {
      // Name the likely cause: a line with a given key's name but another key ID.
      for (const auto& line : signature_lines(note)) {
        for (const auto& k : keys) {
          if (line.name == k.name() && line.key_id != k.key_id()) {
            char buf[9];
            std::snprintf(buf, sizeof buf, "%08x", line.key_id);
            return fail(errc::unknown_key, "signature named \"" + line.name +
                                               "\" has key ID " + buf +
                                               ", not the given key's: signed by a different key");
          }
        }
      }
      return fail(errc::unknown_key, "no signature by any of the given keys");
    }
    return fail(static_cast<errc>(e.value()), "signed note: " + e.message());
  }

  checkpoint_report report;
  for (const auto& s : opened->verified) report.signed_by.push_back(s.name);
  for (const auto& s : opened->unverified) {
    // A line named like a given key but with another key ID: a different key
    // claims that name. Say so instead of quietly calling it "other".
    for (const auto& k : keys) {
      if (k.name() == s.name && k.key_id() != s.key_id) {
        char buf[9];
        std::snprintf(buf, sizeof buf, "%08x", s.key_id);
        if (require_all)
          return fail(errc::unknown_key, "signature named \"" + s.name + "\" has key ID " +
                                             buf + ", not the given key's");
      }
    }
    report.other_signers.push_back(s.name);
  }
  if (require_all) {
    for (const auto& k : keys) {
      const bool found = std::any_of(opened->verified.begin(), opened->verified.end(),
                                     [&](const crypto::note_signature& s) {
                                       return s.name == k.name() && s.key_id == k.key_id();
                                     });
      if (!found) return fail(errc::unknown_key, "not signed by the key " + k.vkey());
    }
  }

  auto body = crypto::parse_checkpoint(opened->text);
  if (!body) return fail(errc::malformed_checkpoint, "checkpoint body: " + body.error().message());
  report.body = std::move(*body);
  return report;
}

namespace {

// Typed accessors that fail with a sentence naming the member.
struct reader {
  const boost::json::object& o;
  std::string missing;

  const boost::json::value* get(std::string_view key) {
    auto it = o.find(key);
    if (it == o.end()) {
      if (missing.empty()) missing = "member \"" + std::string(key) + "\" is missing";
      return nullptr;
    }
    return &it->value();
  }
  std::optional<std::string> str(std::string_view key) {
    auto* v = get(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) {
      if (missing.empty()) missing = "member \"" + std::string(key) + "\" must be a string";
      return std::nullopt;
    }
    return std::string(v->get_string());
  }
  std::optional<std::uint64_t> u64(std::string_view key) {
    auto* v = get(key);
    if (!v) return std::nullopt;
    if (v->is_uint64()) return v->get_uint64();
    if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
    if (missing.empty()) missing = "member \"" + std::string(key) + "\" must be a non-negative integer";
    return std::nullopt;
  }
};

// The receipt's inclusion_proof: base64 SHA-256 hashes, in order.
result<std::vector<crypto::hash>> proof_hashes(const boost::json::array& nodes) {
  std::vector<crypto::hash> proof;
  for (const auto& node : nodes) {
    const std::string at = "inclusion_proof[" + std::to_string(proof.size()) + "]";
    if (!node.is_string()) return fail(errc::malformed_proof, at + " is not a string");
    auto b = crypto::base64_decode(node.get_string());
    if (!b || b->size() != 32) return fail(errc::malformed_proof, at + " is not a base64 SHA-256 hash");
    crypto::hash h;
    std::copy(b->begin(), b->end(), h.begin());
    proof.push_back(h);
  }
  return proof;
}

}  // namespace

// The steps below are the contract in verify.hpp, in its order, as numbered
// comments; kept in one function so they read top to bottom like the spec.
result<receipt_report> verify_receipt(const boost::json::value& receipt, const crypto::note_verifier& log_key) {
  if (!receipt.is_object()) return fail(errc::malformed_entry, "receipt is not a JSON object");
  reader r{receipt.get_object(), {}};

  auto seq = r.u64("seq");
  auto stream = r.str("stream");
  auto revision = r.u64("revision");
  auto recorded_at_us = r.u64("recorded_at_us");
  auto recorded_at = r.str("recorded_at");
  auto event_id = r.str("event_id");
  auto kid = r.str("kid");
  auto entry_b64 = r.str("leaf_entry");
  auto record = r.str("record");
  auto salt_b64 = r.str("salt");
  auto note = r.str("checkpoint");
  auto tree_size = r.u64("tree_size");
  const boost::json::value* proof_v = r.get("inclusion_proof");
  if (!r.missing.empty()) return fail(errc::malformed_entry, "receipt: " + r.missing);
  if (!proof_v->is_array())
    return fail(errc::malformed_entry, "receipt: \"inclusion_proof\" must be an array");

  // 1. The checkpoint is signed by the log key (whose name is the origin).
  const crypto::note_verifier keys[] = {log_key};
  auto cp = verify_checkpoint(*note, keys, true);
  if (!cp) return cp.error().with_reason("checkpoint");
  if (cp->body.origin != log_key.name())
    return fail(errc::malformed_checkpoint,
                "checkpoint origin \"" + cp->body.origin + "\" is not the log key's name");
  if (cp->body.size != *tree_size)
    return fail(errc::malformed_proof, "tree_size " + std::to_string(*tree_size) +
                                           " differs from the checkpoint's size " +
                                           std::to_string(cp->body.size));

  // 2. The leaf entry decodes and commits to exactly this record and salt.
  auto entry_bytes = crypto::base64_decode(*entry_b64);
  if (!entry_bytes) return fail(errc::bad_encoding, "leaf_entry is not canonical base64");
  auto entry = crypto::decode_leaf_entry(*entry_bytes);
  if (!entry) return fail(errc::malformed_entry, "leaf_entry: " + entry.error().message());
  auto salt = crypto::base64_decode(*salt_b64);
  if (!salt) return fail(errc::bad_encoding, "salt is not canonical base64");
  if (salt->size() != crypto::salt_size)
    return fail(errc::malformed_entry, "salt must be 32 bytes");
  auto rec = crypto::check_record(*entry, *salt, *record);
  if (!rec) {
    if (rec.error() == errc::commitment_mismatch)
      return fail(errc::commitment_mismatch,
                  "record and salt do not match the leaf entry's commitment (record altered)");
    return fail(static_cast<errc>(rec.error().value()), "record: " + rec.error().message());
  }

  // 3. The receipt's own fields say what the signed record says.
  auto field_differs = [&](const char* name) {
    return fail(errc::commitment_mismatch,
                std::string("receipt field \"") + name + "\" differs from the committed record");
  };
  if (rec->seq != *seq) return field_differs("seq");
  if (rec->stream != *stream) return field_differs("stream");
  if (rec->revision != *revision) return field_differs("revision");
  if (rec->event_id != *event_id) return field_differs("event_id");
  if (rec->kid != *kid) return field_differs("kid");
  if (rec->recorded_at_us != *recorded_at_us) return field_differs("recorded_at_us");
  if (*recorded_at != crypto::format_time_us(rec->recorded_at_us)) return field_differs("recorded_at");

  // 4. The inclusion proof leads from this leaf to the signed root.
  auto proof = proof_hashes(proof_v->get_array());
  if (!proof) return proof.error();
  const crypto::hash leaf = crypto::leaf_hash(*entry_bytes);
  if (auto v = crypto::verify_inclusion(*seq, *tree_size, leaf, *proof, cp->body.root); !v) {
    return fail(static_cast<errc>(v.error().value()),
                "inclusion proof of seq " + std::to_string(*seq) + " in tree size " +
                    std::to_string(*tree_size) + ": " + v.error().message());
  }

  receipt_report report{std::move(cp->body), std::move(*rec), std::move(*entry)};
  return report;
}

}  // namespace vellum::verifier
