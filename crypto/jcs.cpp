// RFC 8785 serialization (see jcs.hpp).

#include "crypto/jcs.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

namespace vellum::crypto {
namespace {

namespace json = boost::json;

// Decodes UTF-8 into UTF-16 code units (for sorting member names). False on
// invalid UTF-8.
bool utf16_units(std::string_view s, std::vector<std::uint16_t>& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::uint32_t cp = 0;
    std::size_t n = 0;
    if (c < 0x80) cp = c, n = 1;
    else if ((c & 0xe0) == 0xc0) cp = c & 0x1f, n = 2;
    else if ((c & 0xf0) == 0xe0) cp = c & 0x0f, n = 3;
    else if ((c & 0xf8) == 0xf0) cp = c & 0x07, n = 4;
    else return false;
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    i += n;
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<std::uint16_t>(0xd800 + (cp >> 10)));
      out.push_back(static_cast<std::uint16_t>(0xdc00 + (cp & 0x3ff)));
    } else {
      out.push_back(static_cast<std::uint16_t>(cp));
    }
  }
  return true;
}

status append_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; return {};
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return {};
    case json::kind::int64: out += jcs_number(static_cast<double>(v.get_int64())); return {};
    case json::kind::uint64: out += jcs_number(static_cast<double>(v.get_uint64())); return {};
    case json::kind::double_:
      if (!std::isfinite(v.get_double())) return status(errc::malformed_json, "JCS: a number is not finite");
      out += jcs_number(v.get_double());
      return {};
    case json::kind::string: {
      std::vector<std::uint16_t> ignored;
      if (!utf16_units(v.get_string(), ignored)) return status(errc::malformed_json, "JCS: a string is not UTF-8");
      append_json_string(out, v.get_string());
      return {};
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ',';
        first = false;
        if (auto s = append_value(out, e); s) return s;
      }
      out += ']';
      return {};
    }
    case json::kind::object: {
      std::vector<std::pair<std::vector<std::uint16_t>, const json::key_value_pair*>> members;
      members.reserve(v.get_object().size());
      for (const auto& kv : v.get_object()) {
        std::vector<std::uint16_t> units;
        if (!utf16_units(kv.key(), units)) return status(errc::malformed_json, "JCS: a member name is not UTF-8");
        members.emplace_back(std::move(units), &kv);
      }
      std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      out += '{';
      bool first = true;
      for (const auto& [units, kv] : members) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, kv->key());
        out += ':';
        if (auto s = append_value(out, kv->value()); s) return s;
      }
      out += '}';
      return {};
    }
  }
  return status(errc::malformed_json, "JCS: unknown JSON kind");
}

}  // namespace

// JSON string literal for `s` (RFC 8259 §7): '"' and '\' escaped, control
// characters as \b \f \n \r \t or \u00XX, every other byte verbatim (so
// UTF-8 passes through unchanged). This is the one escaping record bytes use.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  out.push_back('"');
  // Copy runs of characters that need no escape in one go (a JWS is all of
  // them); escape the rest one by one.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Eight bytes at a time while none needs an escape (SWAR: a byte below
    // 0x20, or equal to '"' or '\\', sets its high bit in `special`).
    while (i + 8 <= s.size()) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      constexpr std::uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
      const std::uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
      const std::uint64_t special = (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
                                     ((backslash - ones) & ~backslash)) &
                                    highs;
      if (special != 0) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out.push_back(hex_digits[c >> 4]);
        out.push_back(hex_digits[c & 0xf]);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

std::string jcs_number(double d) {
  if (d == 0) return "0";  // +0 and -0
  // The shortest round-trip digits and the decimal exponent, from to_chars's
  // scientific form "d.ddde±x" (ECMA-262 7.1.12.1: k digits, exponent n).
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(r.ptr - buf));
  std::string out;
  if (sci.front() == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  const auto e = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, e))
    if (c != '.') digits += c;
  int exp10 = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
  const int k = static_cast<int>(digits.size());
  const int n = exp10 + 1;  // the value is 0.digits × 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<std::size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out += digits.substr(0, static_cast<std::size_t>(n));
    out += '.';
    out += digits.substr(static_cast<std::size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-n), '0');
    out += digits;
  } else {
    out += digits.substr(0, 1);
    if (k > 1) {
      out += '.';
      out += digits.substr(1);
    }
    out += 'e';
    out += n - 1 >= 0 ? '+' : '-';
    out += std::to_string(std::abs(n - 1));
  }
  return out;
}

result<std::string> jcs_serialize(const boost::json::value& v) {
  std::string out;
  if (auto s = append_value(out, v); s) return s;
  return out;
}

}  // namespace vellum::crypto
