// Codecs of the storage schema (see schema.hpp for the table).

#include "ledger/schema.hpp"

#include "ledger/ledger.hpp"

#include <algorithm>

namespace vellum::ledger::schema {
namespace {

void put_u64(std::uint8_t* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}

std::uint64_t get_u64(const std::uint8_t* in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

u64_bytes encode_u64(std::uint64_t v) {
  u64_bytes out{};
  put_u64(out.data(), v);
  return out;
}

std::array<std::uint8_t, 4> encode_u32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
          static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

node_key_bytes node_key(const crypto::node_id& id) {
  node_key_bytes out{};
  out[0] = id.level;
  put_u64(out.data() + 1, id.index);
  return out;
}

std::string stream_index_key(std::string_view stream, std::uint64_t revision) {
  std::string out;
  out.reserve(stream.size() + 9);
  out.append(stream);
  out.push_back('\0');
  const auto rev = encode_u64(revision);
  out.append(reinterpret_cast<const char*>(rev.data()), rev.size());
  return out;
}

amends_key_bytes amends_key(const uuid& amended, std::uint64_t seq) {
  amends_key_bytes out{};
  std::copy(amended.begin(), amended.end(), out.begin());
  put_u64(out.data() + 16, seq);
  return out;
}

term term_of(std::string_view value) {
  const auto h = crypto::sha256(value);
  term out{};
  std::copy(h.begin(), h.begin() + out.size(), out.begin());
  return out;
}

term_key_bytes term_key(const term& t, std::uint64_t seq) {
  term_key_bytes out{};
  std::copy(t.begin(), t.end(), out.begin());
  put_u64(out.data() + t.size(), seq);
  return out;
}

time_key_bytes time_key(std::uint64_t us, std::uint64_t seq) {
  time_key_bytes out{};
  put_u64(out.data(), us);
  put_u64(out.data() + 8, seq);
  return out;
}

result<std::uint64_t> decode_key_seq(byte_view k, std::size_t size) {
  if (k.size() != size || size < 8) return errc::corrupt;
  return get_u64(k.data() + size - 8);
}

result<std::uint64_t> decode_key_time(byte_view k) {
  if (k.size() != 16) return errc::corrupt;
  return get_u64(k.data());
}

result<std::uint64_t> decode_u64(byte_view v) {
  if (v.size() != 8) return errc::corrupt;
  return get_u64(v.data());
}

result<std::uint32_t> decode_u32(byte_view v) {
  if (v.size() != 4) return errc::corrupt;
  return (std::uint32_t{v[0]} << 24) | (std::uint32_t{v[1]} << 16) | (std::uint32_t{v[2]} << 8) |
         std::uint32_t{v[3]};
}

result<crypto::hash> decode_hash(byte_view v) {
  if (v.size() != hash_size) return errc::corrupt;
  crypto::hash h;
  std::copy(v.begin(), v.end(), h.begin());
  return h;
}

result<crypto::node_id> decode_node_key(byte_view k) {
  if (k.size() != 9 || k[0] > 63) return errc::corrupt;
  return crypto::node_id{k[0], get_u64(k.data() + 1)};
}

result<record_value> decode_record_value(byte_view v) {
  // A record is never empty: it is a JSON object of at least a few bytes.
  if (v.size() <= salt_size) return errc::corrupt;
  return record_value{v.first(salt_size), chars(v.subspan(salt_size))};
}

result<stream_index_entry> decode_stream_index_key(byte_view k) {
  if (k.size() < 10 || k[k.size() - 9] != 0) return errc::corrupt;
  const auto stream = chars(k.first(k.size() - 9));
  if (stream.find('\0') != std::string_view::npos) return errc::corrupt;
  return stream_index_entry{stream, get_u64(k.data() + k.size() - 8)};
}

result<amends_entry> decode_amends_key(byte_view k) {
  if (k.size() != 24) return errc::corrupt;
  amends_entry e;
  std::copy(k.begin(), k.begin() + 16, e.amended.begin());
  e.seq = get_u64(k.data() + 16);
  return e;
}

result<uuid> parse_uuid(std::string_view text) {
  // 8-4-4-4-12 lower-case hex digits.
  if (text.size() != 36) return errc::invalid_argument;
  uuid out{};
  std::size_t n = 0;
  int high = -1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (text[i] != '-') return errc::invalid_argument;
      continue;
    }
    const int d = hex_value(text[i]);
    if (d < 0) return errc::invalid_argument;
    if (high < 0) {
      high = d;
    } else {
      out[n++] = static_cast<std::uint8_t>((high << 4) | d);
      high = -1;
    }
  }
  return out;
}

std::string format_uuid(const uuid& id) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(digits[id[i] >> 4]);
    out.push_back(digits[id[i] & 0xf]);
  }
  return out;
}

}  // namespace vellum::ledger::schema
