// Leaf entries v1, event records, commitments and RFC 3339 times.

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/sha256.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace vellum::crypto {
namespace {

template <class T>
boost::system::error_code error_of(const result<T>& r) {
  return r.has_value() ? boost::system::error_code{} : r.error().code();
}

boost::system::error_code code(errc e) { return make_error_code(e); }

bytes test_salt(std::uint8_t fill = 0x5a) { return bytes(salt_size, fill); }

leaf_entry sample_entry() {
  leaf_entry e;
  e.seq = 0x0102030405060708;
  e.recorded_at_us = 1773050400123456;  // 2026-03-09T10:00:00.123456Z
  e.kid = "ehr-1";
  for (std::size_t i = 0; i < e.commitment.size(); ++i) {
    e.commitment[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  return e;
}

event_record sample_record() {
  event_record r;
  r.seq = 42;
  r.stream = "course:4711";
  r.revision = 3;
  r.recorded_at_us = 1773050400123456;
  r.kid = "ehr-1";
  r.event_id = "0b6c9c3e-2f43-4d8e-9a51-5f3a3c1e7d20";
  r.jws = "eyJhbGciOiJFZERTQSIsImtpZCI6ImVoci0xIn0.eyJ9.c2ln";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(leaf_entries)

BOOST_AUTO_TEST_CASE(encodes_the_documented_bytes) {
  const leaf_entry e = sample_entry();
  const bytes b = e.encode();
  const std::string want_hex =
      "01"                 // version
      "0102030405060708"   // seq
      "00064c947744aa40"   // recorded_at µs
      "05" "6568722d31"    // kid length, "ehr-1"
      "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf";
  BOOST_TEST(hex_encode(b) == want_hex);
  BOOST_TEST(b.size() == 1u + 8 + 8 + 1 + 5 + 32);
}

BOOST_AUTO_TEST_CASE(decode_inverts_encode) {
  leaf_entry e = sample_entry();
  for (const std::string& kid : std::vector<std::string>{"a", "ehr-1", std::string(255, '~'), "!\"#$%&'()*+,-./"}) {
    e.kid = kid;
    auto d = decode_leaf_entry(e.encode());
    BOOST_REQUIRE(d.has_value());
    BOOST_TEST((*d == e));
  }
  e.seq = ~std::uint64_t{0};
  e.recorded_at_us = 0;
  auto d = decode_leaf_entry(e.encode());
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST((*d == e));
}

BOOST_AUTO_TEST_CASE(every_truncation_and_extension_fails) {
  const bytes b = sample_entry().encode();
  for (std::size_t n = 0; n < b.size(); ++n) {
    BOOST_TEST(error_of(decode_leaf_entry(byte_view(b).first(n))) == code(errc::malformed_entry),
               "length " << n);
  }
  bytes longer = b;
  longer.push_back(0);
  BOOST_TEST(error_of(decode_leaf_entry(longer)) == code(errc::malformed_entry));
}

BOOST_AUTO_TEST_CASE(rejects_other_versions) {
  for (int v = 0; v < 256; ++v) {
    if (v == leaf_entry_version) continue;
    bytes b = sample_entry().encode();
    b[0] = static_cast<std::uint8_t>(v);
    BOOST_TEST(error_of(decode_leaf_entry(b)) == code(errc::malformed_entry), "version " << v);
  }
}

BOOST_AUTO_TEST_CASE(rejects_bad_kids) {
  const bytes good = sample_entry().encode();
  // kid length 0 (the entry is then one byte short of a 1-byte kid's size, and
  // with the length fixed up the kid is empty).
  {
    bytes b = good;
    b.erase(b.begin() + 18, b.begin() + 18 + 5);
    b[17] = 0;
    BOOST_TEST(error_of(decode_leaf_entry(b)) == code(errc::malformed_entry));
  }
  // Characters outside 0x21..0x7e.
  for (const std::uint8_t c : {0x00, 0x09, 0x20, 0x7f, 0x80, 0xc3, 0xff}) {
    bytes b = good;
    b[18 + 2] = c;
    BOOST_TEST(error_of(decode_leaf_entry(b)) == code(errc::malformed_entry), "byte " << int(c));
  }
  // A kid length that disagrees with the entry's size.
  for (const std::uint8_t len : {4, 6, 255}) {
    bytes b = good;
    b[17] = len;
    BOOST_TEST(error_of(decode_leaf_entry(b)) == code(errc::malformed_entry));
  }
}

BOOST_AUTO_TEST_CASE(commitment_is_domain_separated_sha256) {
  const bytes salt = test_salt();
  const std::string record = sample_record().encode();
  bytes pre;
  const std::string domain = "vellum.record.v1";
  pre.insert(pre.end(), domain.begin(), domain.end());
  pre.push_back(0x00);
  pre.insert(pre.end(), salt.begin(), salt.end());
  pre.insert(pre.end(), record.begin(), record.end());
  BOOST_TEST(hex_encode(record_commitment(salt, as_bytes(record))) == hex_encode(sha256(byte_view(pre))));
  // Every input byte matters.
  const hash c = record_commitment(salt, as_bytes(record));
  BOOST_TEST(record_commitment(test_salt(0x5b), as_bytes(record)) != c);
  BOOST_TEST(record_commitment(salt, as_bytes(record + " ")) != c);
}

// ---------------------------------------------------------------------------
// Event records.

BOOST_AUTO_TEST_CASE(record_encodes_members_in_order_without_whitespace) {
  BOOST_TEST(sample_record().encode() ==
             "{\"v\":1,\"seq\":42,\"stream\":\"course:4711\",\"revision\":3,"
             "\"recorded_at\":\"2026-03-09T10:00:00.123456Z\",\"kid\":\"ehr-1\","
             "\"event_id\":\"0b6c9c3e-2f43-4d8e-9a51-5f3a3c1e7d20\","
             "\"jws\":\"eyJhbGciOiJFZERTQSIsImtpZCI6ImVoci0xIn0.eyJ9.c2ln\"}");
}

BOOST_AUTO_TEST_CASE(record_round_trips_including_strings_that_need_escaping) {
  event_record r = sample_record();
  r.stream = "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f nul";
  r.stream.push_back('\0');
  r.stream += "\x1f del\x7f umlaut \xc3\xbc emoji \xf0\x9f\x98\x80";
  r.event_id = "</script>";
  r.seq = ~std::uint64_t{0};
  r.revision = std::uint64_t{1} << 63;
  const std::string text = r.encode();
  BOOST_TEST(text.find("\\\"") != std::string::npos);
  BOOST_TEST(text.find("\\\\") != std::string::npos);
  BOOST_TEST(text.find("\\u0000") != std::string::npos);
  BOOST_TEST(text.find("\\u001f") != std::string::npos);
  BOOST_TEST(text.find('\n') == std::string::npos);
  auto d = decode_event_record(text);
  BOOST_REQUIRE(d.has_value());
  BOOST_TEST((*d == r));
  BOOST_TEST(d->encode() == text);
}

// The escaper copies eight bytes at a time while none needs escaping: every
// byte value, at every position of a word, must come out as a plain
// one-byte-at-a-time escaper (RFC 8259 §7, docs/formats.md) writes it.
std::string reference_json_string(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out + "\"";
}

BOOST_AUTO_TEST_CASE(every_byte_at_every_word_position_is_escaped_as_one_at_a_time) {
  for (int value = 0; value < 256; ++value) {
    for (std::size_t pos = 0; pos < 19; ++pos) {
      std::string jws(19, 'A');
      jws[pos] = static_cast<char>(value);
      event_record r = sample_record();
      r.jws = jws;
      const std::string text = r.encode();
      const std::string expected = reference_json_string(jws) + "}";
      BOOST_TEST_REQUIRE(text.size() >= expected.size());
      BOOST_TEST_REQUIRE(text.substr(text.size() - expected.size()) == expected,
                         "byte " << value << " at " << pos);
    }
  }
}

BOOST_AUTO_TEST_CASE(record_decoding_refuses_anything_but_the_canonical_form) {
  const std::string good = sample_record().encode();
  BOOST_REQUIRE(decode_event_record(good).has_value());
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    const auto p = s.find(from);
    BOOST_REQUIRE(p != std::string::npos);
    s.replace(p, from.size(), to);
    return s;
  };
  const std::vector<std::string> bad = {
      "",
      "null",
      "[]",
      "{}",
      good + " ",
      " " + good,
      replace("{\"v\":1,", "{\"v\":2,"),
      replace("{\"v\":1,", "{\"v\":1.0,"),
      replace("{\"v\":1,", "{\"v\":\"1\","),
      replace("{\"v\":1,", "{"),                                        // missing member
      replace("\"seq\":42", "\"seq\":-42"),
      replace("\"seq\":42", "\"seq\":42.5"),
      replace("\"seq\":42", "\"seq\":4.2e1"),
      replace("\"seq\":42", "\"seq\":\"42\""),
      replace("\"revision\":3", "\"revision\":null"),
      replace("\"stream\":\"course:4711\"", "\"stream\":4711"),
      replace("\"kid\":\"ehr-1\"", "\"kid\":[\"ehr-1\"]"),
      replace("\"jws\":", "\"extra\":1,\"jws\":"),                      // extra member
      replace("\"kid\":\"ehr-1\",", "\"kid\":\"ehr-1\",\"kid\":\"ehr-1\","),  // duplicate
      replace("\"seq\":42,\"stream\":\"course:4711\"",
              "\"stream\":\"course:4711\",\"seq\":42"),               // member order
      replace("\"seq\":42", "\"seq\": 42"),                           // whitespace
      replace("\"seq\":42", "\"seq\":042"),
      replace(".123456Z", ".123456+00:00"),                           // non-canonical time
      replace(".123456Z", ".1234560Z"),
      replace(".123456Z", "Z"),
      replace("2026-03-09T", "2026-02-30T"),
      replace("course:4711", "course:\\u0034711"),                     // needless escape
      replace("\"jws\":\"eyJ", "\"jws\":\"\xff\xfe"),                  // invalid UTF-8
  };
  for (const auto& text : bad) {
    BOOST_TEST(error_of(decode_event_record(text)) == code(errc::malformed_entry),
               "accepted: " << text);
  }
}

BOOST_AUTO_TEST_CASE(check_record_binds_record_salt_and_entry) {
  const event_record r = sample_record();
  const std::string text = r.encode();
  const bytes salt = test_salt();
  leaf_entry e;
  e.seq = r.seq;
  e.recorded_at_us = r.recorded_at_us;
  e.kid = r.kid;
  e.commitment = record_commitment(salt, as_bytes(text));

  auto ok = check_record(e, salt, text);
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST((*ok == r));

  // Flipping any bit of the commitment, the salt or the record fails.
  for (std::size_t i = 0; i < e.commitment.size(); ++i) {
    leaf_entry t = e;
    t.commitment[i] ^= 0x80;
    BOOST_TEST(error_of(check_record(t, salt, text)) == code(errc::commitment_mismatch));
  }
  for (std::size_t i = 0; i < salt.size(); ++i) {
    bytes s = salt;
    s[i] ^= 0x01;
    BOOST_TEST(error_of(check_record(e, s, text)) == code(errc::commitment_mismatch));
  }
  for (std::size_t i = 0; i < text.size(); i += 7) {
    std::string t = text;
    t[i] ^= 0x01;
    BOOST_TEST(error_of(check_record(e, salt, t)) == code(errc::commitment_mismatch));
  }
  // A salt of the wrong size is malformed.
  BOOST_TEST(error_of(check_record(e, bytes(31, 0x5a), text)) == code(errc::malformed_entry));
  BOOST_TEST(error_of(check_record(e, bytes(33, 0x5a), text)) == code(errc::malformed_entry));

  // A committed record that disagrees with the entry's seq, kid or time.
  {
    leaf_entry t = e;
    t.seq += 1;
    BOOST_TEST(error_of(check_record(t, salt, text)) == code(errc::commitment_mismatch));
    t = e;
    t.kid = "ehr-2";
    BOOST_TEST(error_of(check_record(t, salt, text)) == code(errc::commitment_mismatch));
    t = e;
    t.recorded_at_us += 1;
    BOOST_TEST(error_of(check_record(t, salt, text)) == code(errc::commitment_mismatch));
  }
  // A committed but undecodable record is malformed.
  {
    const std::string junk = "{\"v\":1}";
    leaf_entry t = e;
    t.commitment = record_commitment(salt, as_bytes(junk));
    BOOST_TEST(error_of(check_record(t, salt, junk)) == code(errc::malformed_entry));
  }
}

// ---------------------------------------------------------------------------
// RFC 3339 times.

BOOST_AUTO_TEST_CASE(format_time_writes_utc_with_six_fraction_digits) {
  BOOST_TEST(format_time_us(0) == "1970-01-01T00:00:00.000000Z");
  BOOST_TEST(format_time_us(1) == "1970-01-01T00:00:00.000001Z");
  BOOST_TEST(format_time_us(1773050400000000) == "2026-03-09T10:00:00.000000Z");
  BOOST_TEST(format_time_us(951782400000000) == "2000-02-29T00:00:00.000000Z");
  BOOST_TEST(format_time_us(4107542399999999) == "2100-02-28T23:59:59.999999Z");
  BOOST_TEST(format_time_us(4107542400000000) == "2100-03-01T00:00:00.000000Z");
  BOOST_TEST(format_time_us(253402300799999999) == "9999-12-31T23:59:59.999999Z");
  BOOST_TEST(format_time_us(253402300800000000) == "10000-01-01T00:00:00.000000Z");
  BOOST_TEST(format_time_us(1764067512345678) == "2025-11-25T10:45:12.345678Z");
}

BOOST_AUTO_TEST_CASE(parse_time_inverts_format_time) {
  for (std::uint64_t us = 0; us < 253402300800000000; us = us * 3 + 7777777) {
    auto back = parse_rfc3339_us(format_time_us(us));
    BOOST_REQUIRE(back.has_value());
    BOOST_REQUIRE_EQUAL(*back, us);
  }
  // Every day boundary for 1970..2404 (a full 400-year cycle and more).
  for (std::uint64_t day = 0; day < 159000; ++day) {
    const std::uint64_t us = day * 86400 * 1000000 + 86399999999;
    auto back = parse_rfc3339_us(format_time_us(us));
    BOOST_REQUIRE(back.has_value());
    BOOST_REQUIRE_EQUAL(*back, us);
  }
}

BOOST_AUTO_TEST_CASE(parse_time_accepts_rfc3339_variants) {
  const std::uint64_t base = 1773050400000000;  // 2026-03-09T10:00:00Z
  struct tc {
    const char* text;
    std::uint64_t want;
  };
  const tc cases[] = {
      {"2026-03-09T10:00:00Z", base},
      {"2026-03-09t10:00:00z", base},
      {"2026-03-09T10:00:00.5Z", base + 500000},
      {"2026-03-09T10:00:00.123456Z", base + 123456},
      {"2026-03-09T10:00:00.123456789Z", base + 123456},  // truncated, not rounded
      {"2026-03-09T10:00:00.999999999Z", base + 999999},
      {"2026-03-09T11:00:00+01:00", base},
      {"2026-03-09T05:30:00-04:30", base},
      {"2026-03-09T10:00:00-00:00", base},
      {"2026-03-10T09:59:00+23:59", base},
      {"2026-03-09T00:00:00+00:00", base - 36000000000},
      {"1970-01-01T00:00:00Z", 0},
      {"1970-01-01T01:00:00+01:00", 0},
      {"2016-12-31T23:59:60Z", 1483228799000000},          // leap second → :59
      {"2016-12-31T23:59:60.5Z", 1483228799500000},
      {"2000-02-29T00:00:00Z", 951782400000000},
      {"9999-12-31T23:59:59.999999Z", 253402300799999999},
  };
  for (const auto& c : cases) {
    auto got = parse_rfc3339_us(c.text);
    BOOST_TEST_REQUIRE(got.has_value(), c.text);
    BOOST_TEST(*got == c.want, c.text);
  }
}

BOOST_AUTO_TEST_CASE(parse_time_rejects_invalid_dates_and_times) {
  const char* bad[] = {
      "",
      "2026-03-09",
      "2026-03-09T10:00:00",         // no offset
      "2026-03-09 10:00:00Z",        // space instead of T
      "2026-03-09T10:00Z",
      "2026-03-09T10:00:00.Z",       // empty fraction
      "2026-03-09T10:00:00.1234567890Z",  // more than 9 digits
      "2026-02-29T10:00:00Z",        // not a leap year
      "2100-02-29T10:00:00Z",        // century, not a leap year
      "2026-02-30T10:00:00Z",
      "2026-04-31T10:00:00Z",
      "2026-13-01T10:00:00Z",
      "2026-00-01T10:00:00Z",
      "2026-01-00T10:00:00Z",
      "2026-01-32T10:00:00Z",
      "2026-03-09T24:00:00Z",
      "2026-03-09T10:60:00Z",
      "2026-03-09T10:00:61Z",
      "2026-03-09T10:00:00+24:00",
      "2026-03-09T10:00:00+01:60",
      "2026-03-09T10:00:00+0100",
      "2026-03-09T10:00:00+01",
      "2026-03-09T10:00:00UTC",
      "2026-03-09T10:00:00Zjunk",
      "2026-03-09T10:00:00Z ",
      " 2026-03-09T10:00:00Z",
      "26-03-09T10:00:00Z",
      "20260-03-09T10:00:00Z",
      "2026-3-09T10:00:00Z",
      "2026-03-09T1:00:00Z",
      "2026/03/09T10:00:00Z",
      "2026-03-09T10:00:00,5Z",
      "+2026-03-09T10:00:00Z",
      "1969-12-31T23:59:59.999999Z",  // before the epoch
      "1970-01-01T00:30:00+01:00",    // before the epoch in UTC
      "0000-01-01T00:00:00Z",
  };
  for (const char* text : bad) {
    BOOST_TEST(!parse_rfc3339_us(text).has_value(), "accepted: \"" << text << "\"");
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace vellum::crypto
