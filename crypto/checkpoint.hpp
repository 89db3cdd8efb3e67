#pragma once
// C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint):
//   <origin>\n<decimal size>\n<base64 root hash>\n[<extension line>\n]*

#include "crypto/error.hpp"
#include "crypto/sha256.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::crypto {

struct checkpoint {
  std::string origin;
  std::uint64_t size = 0;
  hash root{};
  std::vector<std::string> extensions;  // extra body lines, without '\n'

  // The note body (what is signed).
  std::string format() const;
  bool operator==(const checkpoint&) const = default;
};

// Parses a checkpoint body (the note text, without signatures). Size must be
// canonical decimal (no sign, no leading zeros except "0"), the root exactly
// 32 bytes of canonical base64, origin non-empty. Errors: malformed_checkpoint.
[[nodiscard]] result<checkpoint> parse_checkpoint(std::string_view body);

}  // namespace vellum::crypto
