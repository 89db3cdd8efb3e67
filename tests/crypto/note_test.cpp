// C2SP signed notes against the vectors in tests/data/signed-notes.json,
// which were produced with golang.org/x/mod/sumdb/note.

#include "crypto/note.hpp"

#include "crypto/encoding.hpp"
#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <vector>

using namespace vellum::crypto;
namespace json = boost::json;

namespace {

const json::object& vectors() {
  static const json::value v = vellum::test::load_json("signed-notes.json");
  return v.as_object();
}

std::string str(std::string_view k) { return std::string(vectors().at(k).as_string()); }

const std::string em_dash = "\xE2\x80\x94";

private_key seed_key(std::string_view hex_key) {
  auto seed = hex_decode(str(hex_key));
  BOOST_TEST_REQUIRE(seed.has_value());
  auto key = private_key::from_ed25519_seed(*seed);
  BOOST_TEST_REQUIRE(key.has_value());
  return *key;
}

note_signer log_signer() {
  auto s = note_signer::create("example.org/therapy-log", seed_key("log_seed_hex"));
  BOOST_TEST_REQUIRE(s.has_value());
  return *s;
}

note_signer witness_signer() {
  auto s = note_signer::create("witness.example.net", seed_key("witness_seed_hex"));
  BOOST_TEST_REQUIRE(s.has_value());
  return *s;
}

note_verifier verifier(std::string_view vkey_name) {
  auto v = note_verifier::from_vkey(str(vkey_name));
  BOOST_TEST_REQUIRE(v.has_value());
  return *v;
}

bool fails_with(const vellum::result<opened_note>& r, errc e) {
  return !r && r.error() == make_error_code(e);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(note)

BOOST_AUTO_TEST_CASE(signing_the_checkpoint_reproduces_the_go_note_byte_for_byte) {
  const std::vector<note_signer> signers{log_signer()};
  auto note_text = sign_note(str("checkpoint_text"), signers);
  BOOST_TEST_REQUIRE(note_text.has_value());
  BOOST_TEST(*note_text == str("note_one_signer"));

  const std::vector<note_signer> both{log_signer(), witness_signer()};
  auto two = sign_note(str("checkpoint_text"), both);
  BOOST_TEST_REQUIRE(two.has_value());
  BOOST_TEST(*two == str("note_two_signers"));
}

BOOST_AUTO_TEST_CASE(verifier_keys_parse_and_match_the_signers) {
  const auto log = verifier("log_vkey");
  const auto witness = verifier("witness_vkey");
  BOOST_TEST(log.name() == "example.org/therapy-log");
  BOOST_TEST(log.key_id() == 0xa4e6f125u);
  BOOST_TEST(witness.key_id() == 0xbbbfe105u);
  BOOST_TEST(log.vkey() == str("log_vkey"));
  BOOST_TEST(witness.vkey() == str("witness_vkey"));
  BOOST_TEST(log_signer().verifier().vkey() == str("log_vkey"));
  BOOST_TEST(witness_signer().verifier().vkey() == str("witness_vkey"));
  BOOST_TEST(log_signer().key_id() == log.key_id());
  BOOST_TEST(note_key_id(log.name(), log.key()) == 0xa4e6f125u);
}

BOOST_AUTO_TEST_CASE(opens_one_signer_note_with_its_key) {
  const std::vector<note_verifier> known{verifier("log_vkey")};
  auto opened = open_note(str("note_one_signer"), known);
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->text == str("checkpoint_text"));
  BOOST_TEST_REQUIRE(opened->verified.size() == 1u);
  BOOST_TEST(opened->verified[0].name == "example.org/therapy-log");
  BOOST_TEST(opened->verified[0].key_id == 0xa4e6f125u);
  BOOST_TEST(opened->verified[0].signature.size() == 64u);
  BOOST_TEST(opened->unverified.empty());
}

BOOST_AUTO_TEST_CASE(opens_two_signer_note_with_both_keys) {
  const std::vector<note_verifier> known{verifier("witness_vkey"), verifier("log_vkey")};
  auto opened = open_note(str("note_two_signers"), known);
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST_REQUIRE(opened->verified.size() == 2u);
  BOOST_TEST(opened->verified[0].name == "example.org/therapy-log");  // note order
  BOOST_TEST(opened->verified[1].name == "witness.example.net");
  BOOST_TEST(opened->unverified.empty());
}

BOOST_AUTO_TEST_CASE(keeps_signature_by_unknown_key_as_unverified) {
  const std::vector<note_verifier> known{verifier("log_vkey")};
  auto opened = open_note(str("note_two_signers"), known);
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST_REQUIRE(opened->verified.size() == 1u);
  BOOST_TEST_REQUIRE(opened->unverified.size() == 1u);
  BOOST_TEST(opened->unverified[0].name == "witness.example.net");
  BOOST_TEST(opened->unverified[0].key_id == 0xbbbfe105u);

  const std::vector<note_verifier> only_witness{verifier("witness_vkey")};
  auto by_witness = open_note(str("note_two_signers"), only_witness);
  BOOST_TEST_REQUIRE(by_witness.has_value());
  BOOST_TEST(by_witness->verified[0].name == "witness.example.net");
}

BOOST_AUTO_TEST_CASE(refuses_note_without_any_known_signature) {
  BOOST_TEST(fails_with(open_note(str("note_two_signers"), {}), errc::unknown_key));
  // Same name, other key: the key ID differs, so the key is unknown.
  auto other = private_key::generate(key_type::ed25519);
  BOOST_TEST_REQUIRE(other.has_value());
  const std::vector<note_verifier> impostor{
      note_verifier::from_key("example.org/therapy-log", other->public_key())};
  BOOST_TEST(fails_with(open_note(str("note_one_signer"), impostor), errc::unknown_key));
}

BOOST_AUTO_TEST_CASE(every_flipped_byte_in_body_or_signature_fails) {
  const std::string note_text = str("note_one_signer");
  const std::vector<note_verifier> known{verifier("log_vkey")};
  const auto body_end = str("checkpoint_text").size();
  const auto b64_start = note_text.rfind(' ') + 1;
  const auto b64_end = note_text.size() - 1;
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < body_end; ++i) positions.push_back(i);
  for (std::size_t i = b64_start; i < b64_end; ++i) positions.push_back(i);
  for (const std::size_t i : positions) {
    for (const std::uint8_t mask : {0x01, 0x20}) {
      std::string t = note_text;
      t[i] = static_cast<char>(t[i] ^ mask);
      BOOST_TEST_CONTEXT("byte " << i << " mask " << int(mask)) {
        auto r = open_note(t, known);
        BOOST_TEST(!r.has_value());
        // A changed signature base64 may change the key ID (unknown_key),
        // the signature (bad_signature) or the encoding (malformed_note).
        if (!r && i < body_end) {
          BOOST_TEST((r.error() == make_error_code(errc::bad_signature) ||
                      r.error() == make_error_code(errc::malformed_note)));
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(reports_bad_signature_by_known_key_even_when_another_verifies) {
  std::string t = str("note_two_signers");
  // Corrupt the witness signature's last base64 character before the newline.
  const auto pos = t.size() - 3;
  t[pos] = t[pos] == 'A' ? 'B' : 'A';
  const std::vector<note_verifier> both{verifier("log_vkey"), verifier("witness_vkey")};
  BOOST_TEST(fails_with(open_note(t, both), errc::bad_signature));
  const std::vector<note_verifier> log_only{verifier("log_vkey")};
  BOOST_TEST(open_note(t, log_only).has_value());
}

BOOST_AUTO_TEST_CASE(refuses_malformed_note_syntax) {
  const std::vector<note_verifier> known{verifier("log_vkey")};
  const std::string good = str("note_one_signer");
  const std::string body = str("checkpoint_text");
  const std::string sig_line = good.substr(body.size() + 1);
  const std::string b64 = sig_line.substr(sig_line.rfind(' ') + 1, sig_line.size() - 1 - (sig_line.rfind(' ') + 1));
  const std::vector<std::string> bad{
      body,                                                           // no signatures
      good.substr(0, good.size() - 1),                                // no final newline
      body + sig_line,                                                // no blank line
      body + "\n" + sig_line + "\n",                                  // blank line at end
      body + "\n" + "-- example.org/therapy-log " + b64 + "\n",       // ASCII dashes
      body + "\n" + em_dash + "example.org/therapy-log " + b64 + "\n",  // no space after dash
      body + "\n" + em_dash + "  " + b64 + "\n",                      // empty name
      body + "\n" + em_dash + " example.org/therapy-log\n",           // no signature
      body + "\n" + em_dash + " example.org/therapy-log " + b64 + " \n",  // trailing space
      body + "\n" + em_dash + " example.org/therapy-log " + b64.substr(0, b64.size() - 1) + "\n",
      body + "\n" + em_dash + " example.org/therapy-log AAAAAA==\n",  // 4 bytes: no signature
      body + "\n" + em_dash + " a+b " + b64 + "\n",                   // '+' in name
      "example.org/therapy-log\r\n8\n" + good.substr(good.find("\n8\n") + 3),  // CR
      "bad\xff utf8\n\n" + sig_line,                                  // invalid UTF-8
      "tab\there\n\n" + sig_line,                                     // control character
  };
  for (const auto& t : bad) {
    BOOST_TEST_CONTEXT(t) { BOOST_TEST(fails_with(open_note(t, known), errc::malformed_note)); }
  }
}

BOOST_AUTO_TEST_CASE(refuses_more_than_100_signatures) {
  const std::string good = str("note_one_signer");
  const std::string body = str("checkpoint_text");
  const std::string sig_line = good.substr(body.size() + 1);
  std::string many = body + "\n";
  for (int i = 0; i < 100; ++i) many += sig_line;
  const std::vector<note_verifier> known{verifier("log_vkey")};
  BOOST_TEST(open_note(many, known).has_value());  // duplicates by one key count once
  BOOST_TEST(fails_with(open_note(many + sig_line, known), errc::malformed_note));
}

BOOST_AUTO_TEST_CASE(validates_key_names) {
  BOOST_TEST(valid_note_key_name("example.org/therapy-log"));
  BOOST_TEST(valid_note_key_name("caf\xC3\xA9"));
  BOOST_TEST(!valid_note_key_name(""));
  BOOST_TEST(!valid_note_key_name("a b"));
  BOOST_TEST(!valid_note_key_name("a\tb"));
  BOOST_TEST(!valid_note_key_name("a+b"));
  BOOST_TEST(!valid_note_key_name("a\xC2\xA0" "b"));      // U+00A0 no-break space
  BOOST_TEST(!valid_note_key_name("a\xE2\x80\x83" "b"));  // U+2003 em space
  BOOST_TEST(!valid_note_key_name("a\xE3\x80\x80" "b"));  // U+3000 ideographic space
  BOOST_TEST(!valid_note_key_name("a\xff"));
}

BOOST_AUTO_TEST_CASE(refuses_malformed_verifier_keys) {
  const std::string vkey = str("log_vkey");
  auto expect = [](const std::string& v, errc e) {
    BOOST_TEST_CONTEXT(v) {
      auto r = note_verifier::from_vkey(v);
      BOOST_TEST_REQUIRE(!r);
      BOOST_TEST((r.error() == make_error_code(e)));
    }
  };
  expect("", errc::malformed_key);
  expect("example.org/therapy-log", errc::malformed_key);
  expect("example.org/therapy-log+a4e6f125", errc::malformed_key);
  expect("example.org/therapy-log+a4e6f126+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
         errc::malformed_key);  // key ID does not match
  expect("other.name+a4e6f125+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
         errc::malformed_key);
  expect("example.org/therapy-log+a4e6f12+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
         errc::malformed_key);
  expect("example.org/therapy-log+a4e6f125+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJ",
         errc::malformed_key);  // short key
  expect("example.org/therapy-log+a4e6f125+Anm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
         errc::unsupported_key);  // algorithm byte 0x02
  expect(vkey + " ", errc::malformed_key);
}

BOOST_AUTO_TEST_CASE(signer_refuses_bad_names_and_p256_keys) {
  auto p256 = private_key::generate(key_type::p256);
  BOOST_TEST_REQUIRE(p256.has_value());
  auto r1 = note_signer::create("log", *p256);
  BOOST_TEST_REQUIRE(!r1);
  BOOST_TEST((r1.error() == make_error_code(errc::unsupported_key)));
  auto r2 = note_signer::create("bad name", seed_key("log_seed_hex"));
  BOOST_TEST_REQUIRE(!r2);
  BOOST_TEST((r2.error() == make_error_code(errc::malformed_key)));
}

BOOST_AUTO_TEST_CASE(sign_note_refuses_text_that_would_not_open) {
  const std::vector<note_signer> signers{log_signer()};
  for (const std::string t : {"", "no newline", "cr\r\n", "bad\xff\n"}) {
    auto r = sign_note(t, signers);
    BOOST_TEST_REQUIRE(!r);
    BOOST_TEST((r.error() == make_error_code(errc::malformed_note)));
  }
}

BOOST_AUTO_TEST_CASE(signed_multi_paragraph_text_opens_again) {
  const std::vector<note_signer> signers{log_signer()};
  const std::string text = "first paragraph\n\nsecond \xE2\x9C\x93\n";
  auto signed_note = sign_note(text, signers);
  BOOST_TEST_REQUIRE(signed_note.has_value());
  const std::vector<note_verifier> known{log_signer().verifier()};
  auto opened = open_note(*signed_note, known);
  BOOST_TEST_REQUIRE(opened.has_value());
  BOOST_TEST(opened->text == text);
}

BOOST_AUTO_TEST_CASE(splits_a_note_at_its_last_blank_line) {
  const std::string note = "origin\n5\nAAAA\n\n\xE2\x80\x94 origin abcd\n";
  auto parts = split_note(note);
  BOOST_TEST_REQUIRE(parts.has_value());
  BOOST_TEST(parts->text == "origin\n5\nAAAA\n");
  BOOST_TEST(parts->signatures == "\xE2\x80\x94 origin abcd\n");
  BOOST_TEST(!split_note("origin\n5\nAAAA\n").has_value());
  // Text with a blank line inside: the signatures follow the last one.
  auto inner = split_note("a\n\nb\n\nsig\n");
  BOOST_TEST_REQUIRE(inner.has_value());
  BOOST_TEST(inner->text == "a\n\nb\n");
  BOOST_TEST(inner->signatures == "sig\n");
}

BOOST_AUTO_TEST_SUITE_END()
