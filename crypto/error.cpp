// The crypto module's error category: one stable message per errc.

#include "crypto/error.hpp"

#include <string>

namespace vellum::crypto {
namespace {

// Lives for the whole process (never destroyed), so error codes stay valid
// during static destruction. boost::system::error_category has a protected
// non-virtual destructor by design (Boost silences the same warning itself).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  static const category& instance() {
    static const category* const c = new category();
    return *c;
  }

  const char* name() const noexcept override { return "vellum.crypto"; }

  std::string message(int ev) const override { return describe(ev); }

  char const* message(int ev, char* /*buffer*/, std::size_t /*len*/) const noexcept override {
    return describe(ev);
  }

 private:
  category() = default;
  ~category() = default;

  static const char* describe(int ev) noexcept {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::bad_encoding: return "encoding is not strictly canonical";
      case errc::malformed_key: return "key cannot be parsed";
      case errc::unsupported_key: return "key type is not Ed25519 or P-256";
      case errc::algorithm_mismatch: return "algorithm is unknown or does not fit the key";
      case errc::bad_signature: return "signature does not verify";
      case errc::unknown_key: return "no known key signed this";
      case errc::malformed_note: return "signed note syntax is wrong";
      case errc::malformed_checkpoint: return "checkpoint syntax is wrong";
      case errc::malformed_jws: return "JWS syntax or protected header is wrong";
      case errc::malformed_json: return "not I-JSON";
      case errc::malformed_proof: return "proof has the wrong length or bad indexes";
      case errc::proof_mismatch: return "proof does not lead to the claimed root";
      case errc::inconsistent_trees: return "consistency proof does not bind the two roots";
      case errc::malformed_entry: return "leaf entry or record cannot be decoded";
      case errc::commitment_mismatch: return "record and salt do not match the commitment";
      case errc::malformed_tile_path: return "tile path does not parse";
      case errc::io_error: return "file input/output failed";
      case errc::internal: return "internal cryptographic failure";
    }
    return "unknown crypto error";
  }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& crypto_category() noexcept {
  return category::instance();
}

std::string_view code_name(errc e) noexcept {
  switch (e) {
    case errc::ok: return "ok";
    case errc::bad_encoding: return "bad_encoding";
    case errc::malformed_key: return "malformed_key";
    case errc::unsupported_key: return "unsupported_key";
    case errc::algorithm_mismatch: return "algorithm_mismatch";
    case errc::bad_signature: return "bad_signature";
    case errc::unknown_key: return "unknown_key";
    case errc::malformed_note: return "malformed_note";
    case errc::malformed_checkpoint: return "malformed_checkpoint";
    case errc::malformed_jws: return "malformed_jws";
    case errc::malformed_json: return "malformed_json";
    case errc::malformed_proof: return "malformed_proof";
    case errc::proof_mismatch: return "proof_mismatch";
    case errc::inconsistent_trees: return "inconsistent_trees";
    case errc::malformed_entry: return "malformed_entry";
    case errc::commitment_mismatch: return "commitment_mismatch";
    case errc::malformed_tile_path: return "malformed_tile_path";
    case errc::io_error: return "io_error";
    case errc::internal: return "internal";
  }
  return "internal";
}

}  // namespace vellum::crypto
