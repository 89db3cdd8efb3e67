// Leaf entries, event records and their commitments (normative bytes:
// leaf_entry.hpp and docs/formats.md), plus the RFC 3339 time codec they use.

#include "crypto/leaf_entry.hpp"

#include "crypto/jcs.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"

#include <boost/json/object.hpp>

#include <array>
#include <cassert>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace vellum::crypto {

namespace {

namespace json = boost::json;

constexpr std::string_view commitment_domain = "vellum.record.v1";
constexpr std::size_t kid_max = 255;
// version + seq + recorded_at + kid length + commitment, without the kid bytes.
constexpr std::size_t fixed_entry_size = 1 + 8 + 8 + 1 + sizeof(hash);

constexpr std::int64_t us_per_second = 1'000'000;
constexpr std::int64_t seconds_per_day = 86'400;

bool valid_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > kid_max) return false;
  for (char c : kid) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

void put_u64(bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>(v >> shift));
  }
}

std::uint64_t get_u64(byte_view in) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}


// A JSON number that is a non-negative integer (Boost.JSON keeps integers
// that fit as int64 or uint64; anything with a fraction or exponent is a double
// and refused).
bool get_unsigned(const json::value& v, std::uint64_t& out) {
  if (v.is_uint64()) {
    out = v.get_uint64();
    return true;
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    out = static_cast<std::uint64_t>(v.get_int64());
    return true;
  }
  return false;
}

bool get_string(const json::object& o, std::string_view key, std::string& out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return false;
  out.assign(v->get_string().data(), v->get_string().size());
  return true;
}

bool get_unsigned(const json::object& o, std::string_view key, std::uint64_t& out) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && get_unsigned(*v, out);
}

// Proleptic Gregorian calendar <-> days since 1970-01-01 (the well-known
// era arithmetic: 400-year eras of 146097 days, years starting on March 1 so
// that the leap day is the last day of the year).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<std::uint64_t>(y - era * 400);                  // [0, 399]
  const std::uint64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const std::uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           // [0, 146096]
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<std::uint64_t>(z - era * 146097);                // [0, 146096]
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);              // [0, 365]
  const std::uint64_t mp = (5 * doy + 2) / 153;                                   // [0, 11]
  const auto d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return {y, m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr std::array<unsigned, 12> days = {31, 28, 31, 30, 31, 30,
                                                    31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

// Reads exactly `n` decimal digits at `pos`.
bool read_digits(std::string_view s, std::size_t& pos, std::size_t n, unsigned& value) {
  if (pos + n > s.size()) return false;
  unsigned v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  pos += n;
  value = v;
  return true;
}

bool expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

bytes leaf_entry::encode() const {
  // Contract: kid is 1..255 printable ASCII (what decode_leaf_entry accepts).
  assert(valid_kid(kid));
  bytes out;
  out.reserve(fixed_entry_size + kid.size());
  out.push_back(leaf_entry_version);
  put_u64(out, seq);
  put_u64(out, recorded_at_us);
  out.push_back(static_cast<std::uint8_t>(kid.size()));
  out.insert(out.end(), kid.begin(), kid.end());
  out.insert(out.end(), commitment.begin(), commitment.end());
  return out;
}

result<leaf_entry> decode_leaf_entry(byte_view entry) {
  if (entry.size() < fixed_entry_size + 1) return errc::malformed_entry;
  if (entry[0] != leaf_entry_version) return errc::malformed_entry;
  leaf_entry e;
  e.seq = get_u64(entry.subspan(1, 8));
  e.recorded_at_us = get_u64(entry.subspan(9, 8));
  const std::size_t kid_size = entry[17];
  if (entry.size() != fixed_entry_size + kid_size) return errc::malformed_entry;
  e.kid.assign(as_chars(entry.subspan(18, kid_size)));
  if (!valid_kid(e.kid)) return errc::malformed_entry;
  const byte_view c = entry.subspan(18 + kid_size, sizeof(hash));
  std::copy(c.begin(), c.end(), e.commitment.begin());
  return e;
}

hash record_commitment(byte_view salt, byte_view record) {
  assert(salt.size() == salt_size);
  sha256_hasher h;
  h.update(commitment_domain);
  const std::uint8_t separator = 0x00;
  h.update(byte_view(&separator, 1));
  h.update(salt);
  h.update(record);
  return h.finish();
}

std::string event_record::encode() const {
  std::string out;
  out.reserve(128 + stream.size() + kid.size() + event_id.size() + jws.size());
  out += "{\"v\":1,\"seq\":";
  out += std::to_string(seq);
  out += ",\"stream\":";
  append_json_string(out, stream);
  out += ",\"revision\":";
  out += std::to_string(revision);
  out += ",\"recorded_at\":";
  append_json_string(out, format_time_us(recorded_at_us));
  out += ",\"kid\":";
  append_json_string(out, kid);
  out += ",\"event_id\":";
  append_json_string(out, event_id);
  out += ",\"jws\":";
  append_json_string(out, jws);
  out += '}';
  return out;
}

// Besides the member checks, the record must be byte-identical to what
// encode() writes for the decoded values: record bytes have exactly one form
// (member order, no whitespace, one escaping, canonical recorded_at), so two
// different byte strings never decode to the same record.
result<event_record> decode_event_record(std::string_view record) {
  auto parsed = parse_ijson(record);
  if (!parsed) return errc::malformed_entry;
  const json::object* o = parsed->if_object();
  if (o == nullptr || o->size() != 8) return errc::malformed_entry;  // no extra members
  event_record r;
  std::uint64_t version = 0;
  std::string recorded_at;
  if (!get_unsigned(*o, "v", version) || version != 1 || !get_unsigned(*o, "seq", r.seq) ||
      !get_string(*o, "stream", r.stream) || !get_unsigned(*o, "revision", r.revision) ||
      !get_string(*o, "recorded_at", recorded_at) || !get_string(*o, "kid", r.kid) ||
      !get_string(*o, "event_id", r.event_id) || !get_string(*o, "jws", r.jws)) {
    return errc::malformed_entry;
  }
  const auto us = parse_rfc3339_us(recorded_at);
  if (!us) return errc::malformed_entry;
  r.recorded_at_us = *us;
  if (r.encode() != record) return errc::malformed_entry;
  return r;
}

// The commitment is checked first (the record bytes are what is committed);
// a record that is committed but disagrees with the entry's seq, kid or
// recorded_at does not match the entry either: commitment_mismatch.
result<event_record> check_record(const leaf_entry& entry, byte_view salt,
                                  std::string_view record) {
  if (salt.size() != salt_size) return errc::malformed_entry;
  if (record_commitment(salt, as_bytes(record)) != entry.commitment) {
    return errc::commitment_mismatch;
  }
  auto r = decode_event_record(record);
  if (!r) return r.error();
  if (r->seq != entry.seq || r->kid != entry.kid || r->recorded_at_us != entry.recorded_at_us) {
    return errc::commitment_mismatch;
  }
  return r;
}

std::string format_time_us(std::uint64_t us_since_epoch) {
  const auto seconds = static_cast<std::int64_t>(us_since_epoch / us_per_second);
  const auto fraction = static_cast<unsigned>(us_since_epoch % us_per_second);
  const std::int64_t days = seconds / seconds_per_day;
  const auto in_day = static_cast<unsigned>(seconds % seconds_per_day);
  const civil c = civil_from_days(days);
  if (c.year > 9999) {  // past any real recorded_at: the general (slower) form
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%06uZ",
                                static_cast<long long>(c.year), c.month, c.day, in_day / 3600,
                                in_day / 60 % 60, in_day % 60, fraction);
    return std::string(buf, static_cast<std::size_t>(n));
  }
  // Digits written directly: every record carries one (snprintf was a
  // quarter of encoding a record).
  std::string out = "0000-00-00T00:00:00.000000Z";
  auto put = [&](std::size_t end, unsigned long long v) {
    for (std::size_t i = end; v != 0; v /= 10) out[--i] = static_cast<char>('0' + v % 10);
  };
  put(4, static_cast<unsigned long long>(c.year));
  put(7, c.month);
  put(10, c.day);
  put(13, in_day / 3600);
  put(16, in_day / 60 % 60);
  put(19, in_day % 60);
  put(26, fraction);
  return out;
}

// RFC 3339 §5.6:
//   date-time = full-date ("T" / "t") full-time
//   full-date = 4DIGIT "-" 2DIGIT "-" 2DIGIT          (a real calendar day)
//   full-time = 2DIGIT ":" 2DIGIT ":" 2DIGIT ["." 1*DIGIT] time-offset
//   time-offset = "Z" / "z" / ("+" / "-") 2DIGIT ":" 2DIGIT
// Hours 00-23, minutes 00-59, seconds 00-60, offset hours 00-23 and minutes
// 00-59. We accept 1..9 fraction digits and truncate to microseconds.
// Leap seconds: second 60 is accepted (RFC 3339 allows it; whether a leap
// second really happened then cannot be checked without a table) and clamped
// to second 59 of the same minute, keeping the fraction, because the µs
// count since the epoch (like POSIX time) has no room for it.
std::optional<std::uint64_t> parse_rfc3339_us(std::string_view s) {
  std::size_t pos = 0;
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_digits(s, pos, 4, year) || !expect(s, pos, '-') || !read_digits(s, pos, 2, month) ||
      !expect(s, pos, '-') || !read_digits(s, pos, 2, day)) {
    return std::nullopt;
  }
  if (pos >= s.size() || (s[pos] != 'T' && s[pos] != 't')) return std::nullopt;
  ++pos;
  if (!read_digits(s, pos, 2, hour) || !expect(s, pos, ':') || !read_digits(s, pos, 2, minute) ||
      !expect(s, pos, ':') || !read_digits(s, pos, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (hour > 23 || minute > 59 || second > 60) return std::nullopt;
  if (second == 60) second = 59;

  std::uint64_t fraction_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    std::uint64_t scale = 100'000;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6) {
        fraction_us += static_cast<std::uint64_t>(s[pos] - '0') * scale;
        scale /= 10;
      }
      ++digits;
      ++pos;
    }
    if (digits < 1 || digits > 9) return std::nullopt;
  }

  std::int64_t offset_seconds = 0;
  if (pos >= s.size()) return std::nullopt;
  const char z = s[pos];
  if (z == 'Z' || z == 'z') {
    ++pos;
  } else if (z == '+' || z == '-') {
    ++pos;
    unsigned oh = 0, om = 0;
    if (!read_digits(s, pos, 2, oh) || !expect(s, pos, ':') || !read_digits(s, pos, 2, om)) {
      return std::nullopt;
    }
    if (oh > 23 || om > 59) return std::nullopt;
    offset_seconds = static_cast<std::int64_t>(oh * 3600 + om * 60) * (z == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;

  // Local time minus the offset is UTC.
  const std::int64_t seconds = days_from_civil(year, month, day) * seconds_per_day +
                               hour * 3600 + minute * 60 + second - offset_seconds;
  if (seconds < 0) return std::nullopt;
  return static_cast<std::uint64_t>(seconds) * us_per_second + fraction_us;
}

}  // namespace vellum::crypto
