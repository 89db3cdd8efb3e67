#include "crypto/stream_name.hpp"

namespace vellum::crypto {

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

bool is_stream_separator(char c) { return c == '-' || c == '_' || c == '.' || c == ':' || c == '@'; }

bool is_valid_stream(std::string_view s) {
  if (s.empty() || s.size() > 256 || !is_alnum(s.front())) return false;
  for (char c : s) {
    if (!is_alnum(c) && !is_stream_separator(c)) return false;
  }
  return true;
}

bool stream_in_prefix(std::string_view stream, std::string_view prefix) {
  if (prefix.empty()) return true;
  if (!stream.starts_with(prefix)) return false;
  if (stream.size() == prefix.size()) return true;
  return is_stream_separator(prefix.back()) || is_stream_separator(stream[prefix.size()]);
}

}  // namespace vellum::crypto
