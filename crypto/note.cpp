// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys
// (signature type 0x01). The rules mirror the reference implementation,
// golang.org/x/mod/sumdb/note, so notes written here open there and back.

#include "crypto/note.hpp"

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

#include <optional>
#include <set>
#include <utility>

namespace vellum::crypto {

namespace {

constexpr std::uint8_t ed25519_signature_type = 0x01;
constexpr std::size_t max_signatures = 100;
constexpr std::string_view signature_prefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, space

// Decodes one UTF-8 scalar value at the front of s (RFC 3629: shortest form,
// no surrogates, at most U+10FFFF). Returns the code point and its length.
std::optional<std::pair<char32_t, std::size_t>> next_code_point(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  if (b0 < 0x80) return std::pair{char32_t{b0}, std::size_t{1}};
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return std::nullopt;
  }
  if (s.size() < len) return std::nullopt;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return std::pair{cp, len};
}

// Unicode White_Space characters (what Go's unicode.IsSpace reports).
bool is_unicode_space(char32_t c) {
  switch (c) {
    case U'\t': case U'\n': case U'\v': case U'\f': case U'\r': case U' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

// Note text: valid UTF-8 and no control characters except '\n'.
bool valid_note_text(std::string_view s) {
  while (!s.empty()) {
    const auto next = next_code_point(s);
    if (!next) return false;
    if (next->first < 0x20 && next->first != U'\n') return false;
    s.remove_prefix(next->second);
  }
  return true;
}

std::uint32_t load_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void append_be32(bytes& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// Splits s at the first occurrence of sep; the second part is empty if there is none.
std::pair<std::string_view, std::string_view> chop(std::string_view s, char sep) {
  const auto at = s.find(sep);
  if (at == std::string_view::npos) return {s, {}};
  return {s.substr(0, at), s.substr(at + 1)};
}

}  // namespace

bool valid_note_key_name(std::string_view name) {
  if (name.empty()) return false;
  while (!name.empty()) {
    const auto next = next_code_point(name);
    if (!next || is_unicode_space(next->first) || next->first == U'+') return false;
    name.remove_prefix(next->second);
  }
  return true;
}

std::uint32_t note_key_id(std::string_view name, const public_key& ed25519_key) {
  sha256_hasher h;
  h.update(name);
  h.update(std::string_view("\n\x01", 2));
  h.update(ed25519_key.raw());
  const hash digest = h.finish();
  return load_be32(digest.data());
}

// --- verifier ---------------------------------------------------------------

result<note_verifier> note_verifier::from_vkey(std::string_view vkey) {
  const auto malformed = make_error_code(errc::malformed_key);
  const auto [name, rest] = chop(vkey, '+');
  const auto [id_hex, key_b64] = chop(rest, '+');
  if (!valid_note_key_name(name) || id_hex.size() != 8 || key_b64.empty()) return malformed;
  auto id_bytes = hex_decode(id_hex);
  auto key_bytes = base64_decode(key_b64);
  if (!id_bytes || !key_bytes || key_bytes->empty()) return malformed;
  if ((*key_bytes)[0] != ed25519_signature_type) return make_error_code(errc::unsupported_key);
  auto key = public_key::from_ed25519_raw(byte_view(*key_bytes).subspan(1));
  if (!key) return malformed;
  const std::uint32_t id = load_be32(id_bytes->data());
  // The key ID is derived from name and key; a vkey that disagrees is corrupt.
  if (id != note_key_id(name, *key)) return malformed;
  return note_verifier(std::string(name), id, std::move(*key));
}

note_verifier note_verifier::from_key(std::string name, const public_key& key) {
  const std::uint32_t id = note_key_id(name, key);
  return note_verifier(std::move(name), id, key);
}

std::string note_verifier::vkey() const {
  bytes id;
  append_be32(id, key_id_);
  bytes typed_key{ed25519_signature_type};
  const bytes raw = key_.raw();
  typed_key.insert(typed_key.end(), raw.begin(), raw.end());
  return name_ + "+" + hex_encode(id) + "+" + base64_encode(typed_key);
}

bool note_verifier::verify(std::string_view text, byte_view sig64) const {
  return key_.type() == key_type::ed25519 && key_.verify(as_bytes(text), sig64).has_value();
}

// --- signer -----------------------------------------------------------------

result<note_signer> note_signer::create(std::string name, private_key key) {
  if (!valid_note_key_name(name)) return make_error_code(errc::malformed_key);
  if (key.type() != key_type::ed25519) return make_error_code(errc::unsupported_key);
  const std::uint32_t id = note_key_id(name, key.public_key());
  return note_signer(std::move(name), id, std::move(key));
}

note_verifier note_signer::verifier() const {
  return note_verifier::from_key(name_, key_.public_key());
}

result<std::string> note_signer::signature_line(std::string_view text) const {
  auto sig = key_.sign(as_bytes(text));
  if (!sig) return sig.error();
  bytes blob;
  append_be32(blob, key_id_);
  blob.insert(blob.end(), sig->begin(), sig->end());
  std::string line(signature_prefix);
  line += name_;
  line += ' ';
  line += base64_encode(blob);
  line += '\n';
  return line;
}

result<std::string> sign_note(std::string_view text, std::span<const note_signer> signers) {
  // Refuse text that open_note would refuse, so every note we sign opens.
  if (text.empty() || text.back() != '\n' || !valid_note_text(text)) {
    return make_error_code(errc::malformed_note);
  }
  if (signers.size() > max_signatures) return make_error_code(errc::malformed_note);
  std::string out(text);
  out += '\n';
  for (const auto& signer : signers) {
    auto line = signer.signature_line(text);
    if (!line) return line.error();
    out += *line;
  }
  return out;
}

// --- open -------------------------------------------------------------------

std::optional<note_parts> split_note(std::string_view note) {
  const auto split = note.rfind("\n\n");
  if (split == std::string_view::npos) return std::nullopt;
  return note_parts{note.substr(0, split + 1), note.substr(split + 2)};
}

result<opened_note> open_note(std::string_view note, std::span<const note_verifier> known) {
  const auto malformed = make_error_code(errc::malformed_note);
  if (!valid_note_text(note)) return malformed;

  const auto parts = split_note(note);
  if (!parts) return malformed;
  const std::string_view text = parts->text;
  std::string_view sigs = parts->signatures;
  if (sigs.empty() || sigs.back() != '\n') return malformed;

  opened_note opened;
  opened.text = std::string(text);
  std::set<std::pair<std::string_view, std::uint32_t>> seen_known;
  std::set<std::string_view> seen_unknown_lines;
  std::size_t count = 0;

  while (!sigs.empty()) {
    const auto nl = sigs.find('\n');  // exists: sigs ends in '\n'
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);

    if (!line.starts_with(signature_prefix)) return malformed;
    line.remove_prefix(signature_prefix.size());
    const auto [name, b64] = chop(line, ' ');
    if (!valid_note_key_name(name) || b64.empty()) return malformed;
    auto blob = base64_decode(b64);
    if (!blob || blob->size() < 5) return malformed;
    if (++count > max_signatures) return malformed;

    note_signature sig;
    sig.name = std::string(name);
    sig.key_id = load_be32(blob->data());
    sig.signature.assign(blob->begin() + 4, blob->end());

    const note_verifier* verifier = nullptr;
    for (const auto& v : known) {
      if (v.name() == name && v.key_id() == sig.key_id) {
        verifier = &v;
        break;
      }
    }
    if (verifier == nullptr) {
      // Identical repeated lines by unknown keys are kept once.
      if (seen_unknown_lines.insert(line).second) opened.unverified.push_back(std::move(sig));
      continue;
    }
    // One signature per known key counts; later ones by the same key are
    // ignored, as in the reference implementation.
    if (!seen_known.insert({name, sig.key_id}).second) continue;
    if (!verifier->verify(text, sig.signature)) return make_error_code(errc::bad_signature);
    opened.verified.push_back(std::move(sig));
  }

  if (opened.verified.empty()) return make_error_code(errc::unknown_key);
  return opened;
}

}  // namespace vellum::crypto
