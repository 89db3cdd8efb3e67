// Signed notes and checkpoints (crypto/note.hpp, crypto/checkpoint.hpp), as
// a verifier or a witness reads them from the network. The input is opened
// against a fixed key (the one that signed the seed corpus' notes), read as
// a verifier key, and its text parsed as a checkpoint body. Promises: an
// opened note's text is the note up to its last blank line, every verified
// signature is by a known key, and a parsed checkpoint formats back to the
// same body.

#include "crypto/checkpoint.hpp"
#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "fuzz/fuzz_target.hpp"

#include <array>
#include <vector>

namespace {

// The log key of tests/data/signed-notes.json (and so of the seed corpus):
// Ed25519 seed 0x01 0x02 ... 0x20, name "example.org/therapy-log".
const std::vector<vellum::crypto::note_verifier>& known() {
  static const std::vector<vellum::crypto::note_verifier> v = [] {
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i + 1);
    auto key = vellum::crypto::private_key::from_ed25519_seed(seed);
    if (!key) std::abort();
    return std::vector<vellum::crypto::note_verifier>{
        vellum::crypto::note_verifier::from_key("example.org/therapy-log", key->public_key())};
  }();
  return v;
}

}  // namespace

VELLUM_FUZZ_TARGET(note) {
  using namespace vellum;
  const std::string_view text = fuzz::as_text(data, size);
  const auto parts = crypto::split_note(text);
  auto opened = crypto::open_note(text, known());
  if (opened) {
    VELLUM_FUZZ_CHECK(parts.has_value());
    VELLUM_FUZZ_CHECK(opened->text == parts->text);
    VELLUM_FUZZ_CHECK(!opened->verified.empty());
    for (const auto& s : opened->verified) VELLUM_FUZZ_CHECK(s.name == known().front().name());
  }
  if (auto vk = crypto::note_verifier::from_vkey(text)) VELLUM_FUZZ_CHECK(!vk->name().empty());
  const std::string_view body = parts ? parts->text : text;
  if (auto cp = crypto::parse_checkpoint(body)) VELLUM_FUZZ_CHECK(cp->format() == body);
  return 0;
}
