#pragma once
// SHA-256 (FIPS 180-4) through OpenSSL EVP.

#include "crypto/error.hpp"

#include <array>
#include <memory>
#include <string_view>

namespace vellum::crypto {

using hash = std::array<std::uint8_t, 32>;

// One-shot digest. Never fails (aborts on OpenSSL allocation failure).
hash sha256(byte_view data);
hash sha256(std::string_view data);

// Incremental digest. Not thread-safe; one object per thread.
class sha256_hasher {
 public:
  sha256_hasher();
  ~sha256_hasher();
  sha256_hasher(sha256_hasher&&) noexcept;
  sha256_hasher& operator=(sha256_hasher&&) noexcept;

  void update(byte_view data);
  void update(std::string_view data);
  // Returns the digest and resets the hasher to the empty state.
  hash finish();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace vellum::crypto
