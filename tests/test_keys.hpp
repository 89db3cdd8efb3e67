#pragma once
// Fixed keys and times for tests that must be reproducible: the same seed
// gives the same Ed25519 key, the same expected bytes.

#include "crypto/keys.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <vector>

namespace vellum::test {

// 2026-03-09T10:00:00Z in µs since the epoch: the tests' "now".
inline constexpr std::uint64_t t0_us = 1'773'050'400'000'000;

// The Ed25519 key whose 32-byte seed is `seed` repeated.
inline crypto::private_key seeded_key(std::uint8_t seed) {
  auto k = crypto::private_key::from_ed25519_seed(std::vector<std::uint8_t>(32, seed));
  BOOST_REQUIRE(k);
  return *k;
}

}  // namespace vellum::test
