// Strict RFC 4648 codecs. Decoders accept only what the encoders produce, so
// every byte string has exactly one accepted text form.

#include "crypto/encoding.hpp"

#include <array>

namespace vellum::crypto {
namespace {

constexpr std::string_view std_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr int invalid = -1;

constexpr std::array<int, 256> reverse(std::string_view alphabet) {
  std::array<int, 256> table{};
  for (auto& v : table) v = invalid;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
  }
  return table;
}

constexpr auto std_reverse = reverse(std_alphabet);
constexpr auto url_reverse = reverse(url_alphabet);

std::string encode(byte_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8) |
                            std::uint32_t{data[i + 2]};
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  const std::size_t rest = data.size() - i;
  if (rest == 1) {
    const std::uint32_t n = std::uint32_t{data[i]} << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    const std::uint32_t n = (std::uint32_t{data[i]} << 16) | (std::uint32_t{data[i + 1]} << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// Decodes unpadded base64 digits. A final group of 2 or 3 digits carries 1 or
// 2 bytes; its unused low bits must be zero (RFC 4648 §3.5 canonical form). A
// final group of 1 digit cannot carry a byte.
result<bytes> decode_digits(std::string_view text, const std::array<int, 256>& table) {
  if (text.size() % 4 == 1) return make_error_code(errc::bad_encoding);
  bytes out;
  out.reserve(text.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = table[static_cast<unsigned char>(c)];
    if (v == invalid) return make_error_code(errc::bad_encoding);
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (acc != 0) return make_error_code(errc::bad_encoding);  // non-zero padding bits
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return invalid;
}

}  // namespace

std::string base64_encode(byte_view data) { return encode(data, std_alphabet, true); }

result<bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return make_error_code(errc::bad_encoding);
  // Strip at most two '=' from the end; '=' anywhere else is not a digit and
  // is refused by decode_digits.
  std::size_t pad = 0;
  while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  const std::string_view digits = text.substr(0, text.size() - pad);
  // Padding must complete the last group exactly ("xx==" or "xxx=").
  if (pad != 0 && (digits.size() % 4) + pad != 4) return make_error_code(errc::bad_encoding);
  return decode_digits(digits, std_reverse);
}

std::string base64url_encode(byte_view data) { return encode(data, url_alphabet, false); }

result<bytes> base64url_decode(std::string_view text) { return decode_digits(text, url_reverse); }

std::string hex_encode(byte_view data) {
  static constexpr std::string_view digits = "0123456789abcdef";
  std::string out;
  out.reserve(data.size() * 2);
  for (const std::uint8_t b : data) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

result<bytes> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return make_error_code(errc::bad_encoding);
  bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi == invalid || lo == invalid) return make_error_code(errc::bad_encoding);
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return out;
}

}  // namespace vellum::crypto
