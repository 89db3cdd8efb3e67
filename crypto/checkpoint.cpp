// C2SP tlog-checkpoint bodies.

#include "crypto/checkpoint.hpp"

#include "crypto/encoding.hpp"

#include <charconv>

namespace vellum::crypto {

std::string checkpoint::format() const {
  std::string out = origin;
  out += '\n';
  out += std::to_string(size);
  out += '\n';
  out += base64_encode(root);
  out += '\n';
  for (const auto& line : extensions) {
    out += line;
    out += '\n';
  }
  return out;
}

namespace {

// Canonical decimal: digits only, no sign, no leading zero unless "0", fits
// in 64 bits.
bool parse_size(std::string_view text, std::uint64_t& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

result<checkpoint> parse_checkpoint(std::string_view body) {
  const auto malformed = make_error_code(errc::malformed_checkpoint);
  if (body.empty() || body.back() != '\n') return malformed;
  // Every line, including the last, ends in '\n'; drop the final one so the
  // split below yields exactly the lines.
  std::string_view rest = body.substr(0, body.size() - 1);
  std::vector<std::string_view> lines;
  for (;;) {
    const auto nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    if (nl == std::string_view::npos) break;
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) return malformed;

  checkpoint cp;
  if (lines[0].empty()) return malformed;
  cp.origin = std::string(lines[0]);
  if (!parse_size(lines[1], cp.size)) return malformed;
  auto root = base64_decode(lines[2]);
  if (!root || root->size() != cp.root.size()) return malformed;
  std::copy(root->begin(), root->end(), cp.root.begin());
  for (std::size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) return malformed;  // extension lines are non-empty
    cp.extensions.emplace_back(lines[i]);
  }
  return cp;
}

}  // namespace vellum::crypto
