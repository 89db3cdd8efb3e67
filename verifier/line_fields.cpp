#include "verifier/line_fields.hpp"

#include "crypto/encoding.hpp"

#include <algorithm>

namespace vellum::verifier {

bool has_members(const boost::json::object& o, std::initializer_list<std::string_view> names) {
  if (o.size() != names.size()) return false;
  auto it = o.begin();
  for (auto name : names) {
    if (it->key() != name) return false;
    ++it;
  }
  return true;
}

std::optional<std::uint64_t> as_u64(const boost::json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

std::optional<crypto::hash> as_hash(const boost::json::value& v) {
  if (!v.is_string()) return std::nullopt;
  auto raw = crypto::base64_decode(v.get_string());
  if (!raw || raw->size() != 32) return std::nullopt;
  crypto::hash h;
  std::copy(raw->begin(), raw->end(), h.begin());
  return h;
}

std::string_view str(const boost::json::value& v) {
  return v.is_string() ? std::string_view(v.get_string()) : std::string_view{};
}

}  // namespace vellum::verifier
