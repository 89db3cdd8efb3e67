#pragma once
// Text encodings of binary data. Every decoder is strict: it accepts exactly
// the canonical encoding that the matching encoder produces and rejects
// everything else (whitespace, stray characters, wrong or missing padding,
// non-zero padding bits) with errc::bad_encoding.

#include "crypto/error.hpp"

#include <string>
#include <string_view>

namespace vellum::crypto {

// RFC 4648 §4, with '=' padding.
std::string base64_encode(byte_view data);
[[nodiscard]] result<bytes> base64_decode(std::string_view text);

// RFC 4648 §5, without padding (as JWS uses it, RFC 7515 §2).
std::string base64url_encode(byte_view data);
[[nodiscard]] result<bytes> base64url_decode(std::string_view text);

// Lower-case hex. The decoder accepts lower- and upper-case digits.
std::string hex_encode(byte_view data);
[[nodiscard]] result<bytes> hex_decode(std::string_view text);

inline byte_view as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_chars(byte_view b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace vellum::crypto
