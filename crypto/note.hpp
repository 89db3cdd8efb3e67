#pragma once
// C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.
//
// A note is text ending in '\n', a blank line, then signature lines
//   "\u2014 <name> <base64(keyID[4] || signature[64])>\n".
// keyID = SHA-256(name || "\n" || 0x01 || pubkey)[:4] (big-endian uint32).
// Verifier key string: "<name>+<hex8(keyID)>+<base64(0x01 || pubkey)>".

#include "crypto/error.hpp"
#include "crypto/keys.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::crypto {

// A key name is non-empty, has no whitespace and no '+' (spec §Names).
bool valid_note_key_name(std::string_view name);

std::uint32_t note_key_id(std::string_view name, const public_key& ed25519_key);

class note_verifier {
 public:
  // Parses a verifier key string. Errors: malformed_key, unsupported_key
  // (algorithm byte other than 0x01 Ed25519).
  [[nodiscard]] static result<note_verifier> from_vkey(std::string_view vkey);
  static note_verifier from_key(std::string name, const public_key& key);

  const std::string& name() const { return name_; }
  std::uint32_t key_id() const { return key_id_; }
  const crypto::public_key& key() const { return key_; }
  std::string vkey() const;
  bool verify(std::string_view text, byte_view sig64) const;

 private:
  note_verifier(std::string n, std::uint32_t id, crypto::public_key k)
      : name_(std::move(n)), key_id_(id), key_(std::move(k)) {}
  std::string name_;
  std::uint32_t key_id_;
  crypto::public_key key_;
};

class note_signer {
 public:
  // Errors: malformed_key (bad name), unsupported_key (not Ed25519).
  [[nodiscard]] static result<note_signer> create(std::string name, private_key key);

  const std::string& name() const { return name_; }
  std::uint32_t key_id() const { return key_id_; }
  note_verifier verifier() const;
  // "\u2014 name base64(keyid||sig)\n" over text.
  [[nodiscard]] result<std::string> signature_line(std::string_view text) const;

 private:
  note_signer(std::string n, std::uint32_t id, private_key k)
      : name_(std::move(n)), key_id_(id), key_(std::move(k)) {}
  std::string name_;
  std::uint32_t key_id_;
  private_key key_;
};

// text must be non-empty and end in '\n' (malformed_note otherwise).
// Returns text + "\n" + one signature line per signer, in the given order.
[[nodiscard]] result<std::string> sign_note(std::string_view text,
                                            std::span<const note_signer> signers);

struct note_signature {
  std::string name;
  std::uint32_t key_id = 0;
  bytes signature;  // without the 4-byte key ID
};

struct opened_note {
  std::string text;                        // the signed text, ending in '\n'
  std::vector<note_signature> verified;    // signatures that verified, in note order
  std::vector<note_signature> unverified;  // signatures by keys not in `known`
};

// A note's two parts, split at its last blank line (as Go's note.Open does;
// signature lines are never empty): `text` keeps its final '\n', `signatures`
// is everything after the blank line. nullopt if there is no blank line.
struct note_parts {
  std::string_view text;
  std::string_view signatures;
};
std::optional<note_parts> split_note(std::string_view note);

// Splits and checks a note against `known` verifiers:
// - syntax: malformed_note (no blank-line separator, bad signature line,
//   bad base64, text not ending in '\n', more than 100 signatures, non-UTF-8 ...)
// - a signature whose name and key ID match a known verifier but does not
//   verify: bad_signature (a note is rejected if any known signature is bad)
// - no signature from any known verifier: unknown_key
// Signatures by unknown keys are kept in `unverified`.
[[nodiscard]] result<opened_note> open_note(std::string_view note,
                                            std::span<const note_verifier> known);

}  // namespace vellum::crypto
