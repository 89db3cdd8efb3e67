// Tests of the offline verification library against the public signed-note
// vectors (tests/data/signed-notes.json, made by golang.org/x/mod/sumdb/note)
// and against receipts built here with the crypto primitives alone.

#include "crypto/encoding.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/note.hpp"
#include "test_util.hpp"
#include "verifier/verify.hpp"

#include <boost/test/unit_test.hpp>

using namespace vellum;
using crypto::errc;

namespace {

const boost::json::object& notes() {
  static const boost::json::value v = test::load_json("signed-notes.json");
  return v.get_object();
}
std::string note_str(const char* key) { return std::string(notes().at(key).get_string()); }

crypto::note_verifier vkey(const char* key) {
  auto v = crypto::note_verifier::from_vkey(note_str(key));
  BOOST_REQUIRE(v);
  return *v;
}

crypto::private_key seed_key(const char* key) {
  auto seed = crypto::hex_decode(note_str(key));
  BOOST_REQUIRE(seed);
  auto k = crypto::private_key::from_ed25519_seed(*seed);
  BOOST_REQUIRE(k);
  return *k;
}

// A small log built with crypto only: n events, a checkpoint at size n
// signed by `log`, and the receipt JSON for event `seq`.
struct fixture_log {
  std::string origin = "example.org/test-log";
  crypto::note_signer signer;
  std::vector<crypto::hash> leaves;
  std::vector<bytes> entries;
  std::vector<std::string> records;
  std::vector<bytes> salts;

  explicit fixture_log(std::uint64_t n) : signer(make_signer(origin)) {
    for (std::uint64_t i = 0; i < n; ++i) {
      crypto::event_record rec{i, "therapy-" + std::to_string(i % 3), i / 3, 1'700'000'000'000'000 + i,
                               "ward-7-ehr", "00000000-0000-4000-8000-" + pad12(i), "a.b.c"};
      records.push_back(rec.encode());
      salts.push_back(crypto::random_bytes(32));
      crypto::leaf_entry e{i, rec.recorded_at_us, rec.kid, crypto::record_commitment(salts.back(), crypto::as_bytes(records.back()))};
      entries.push_back(e.encode());
      leaves.push_back(crypto::leaf_hash(entries.back()));
    }
  }
  static std::string pad12(std::uint64_t i) {
    std::string s = std::to_string(i);
    return std::string(12 - s.size(), '0') + s;
  }
  static crypto::note_signer make_signer(const std::string& name) {
    auto k = crypto::private_key::generate(crypto::key_type::ed25519);
    BOOST_REQUIRE(k);
    auto s = crypto::note_signer::create(name, *k);
    BOOST_REQUIRE(s);
    return *s;
  }
  boost::json::object receipt(std::uint64_t seq) const {
    crypto::memory_hash_source src(leaves);
    const crypto::hash root = crypto::root_from_leaf_hashes(leaves);
    crypto::checkpoint cp{origin, leaves.size(), root, {}};
    const crypto::note_signer signers[] = {signer};
    auto note = crypto::sign_note(cp.format(), signers);
    BOOST_REQUIRE(note);
    auto proof = crypto::inclusion_proof(seq, leaves.size(), src);
    BOOST_REQUIRE(proof);
    auto rec = crypto::decode_event_record(records[seq]);
    BOOST_REQUIRE(rec);
    boost::json::array p;
    for (const auto& h : *proof) p.emplace_back(crypto::base64_encode(h));
    return {{"seq", seq},
            {"stream", rec->stream},
            {"revision", rec->revision},
            {"recorded_at", crypto::format_time_us(rec->recorded_at_us)},
            {"recorded_at_us", rec->recorded_at_us},
            {"event_id", rec->event_id},
            {"kid", rec->kid},
            {"leaf_entry", crypto::base64_encode(entries[seq])},
            {"record", records[seq]},
            {"salt", crypto::base64_encode(salts[seq])},
            {"checkpoint", *note},
            {"tree_size", leaves.size()},
            {"inclusion_proof", std::move(p)}};
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(checkpoint_verification)

BOOST_AUTO_TEST_CASE(accepts_go_signed_checkpoint_with_log_key) {
  const crypto::note_verifier keys[] = {vkey("log_vkey")};
  auto r = verifier::verify_checkpoint(note_str("note_one_signer"), keys);
  BOOST_TEST_REQUIRE(r.has_value(), r.error().message());
  BOOST_TEST(r->body.origin == "example.org/therapy-log");
  BOOST_TEST(r->body.size == 8u);
  BOOST_TEST(r->signed_by == std::vector<std::string>{"example.org/therapy-log"});
}

BOOST_AUTO_TEST_CASE(requires_every_given_key_unless_any) {
  const crypto::note_verifier keys[] = {vkey("log_vkey"), vkey("witness_vkey")};
  BOOST_TEST(verifier::verify_checkpoint(note_str("note_two_signers"), keys).has_value());
  auto missing = verifier::verify_checkpoint(note_str("note_one_signer"), keys);
  BOOST_TEST(!missing.has_value());
  BOOST_TEST(missing.error() == errc::unknown_key);
  BOOST_TEST(verifier::verify_checkpoint(note_str("note_one_signer"), keys, false).has_value());
}

BOOST_AUTO_TEST_CASE(lists_signers_it_was_not_asked_about) {
  const crypto::note_verifier keys[] = {vkey("log_vkey")};
  auto r = verifier::verify_checkpoint(note_str("note_two_signers"), keys);
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->other_signers == std::vector<std::string>{"witness.example.net"});
}

BOOST_AUTO_TEST_CASE(names_a_key_with_the_right_name_but_another_key_id) {
  // Same name as the log, different key: key ID differs.
  auto impostor = crypto::note_signer::create("example.org/therapy-log", seed_key("witness_seed_hex"));
  BOOST_REQUIRE(impostor);
  const crypto::note_signer signers[] = {*impostor};
  auto note = crypto::sign_note(note_str("checkpoint_text"), signers);
  BOOST_REQUIRE(note);
  const crypto::note_verifier keys[] = {vkey("log_vkey")};
  auto r = verifier::verify_checkpoint(*note, keys);
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == errc::unknown_key);
  BOOST_TEST(r.error().message().find("key ID") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(rejects_every_single_byte_change_of_the_note) {
  const std::string good = note_str("note_one_signer");
  const crypto::note_verifier keys[] = {vkey("log_vkey")};
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = verifier::verify_checkpoint(bad, keys);
    BOOST_TEST(!r.has_value(), "byte " << i << " flipped still verifies");
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(receipt_verification)

BOOST_AUTO_TEST_CASE(accepts_receipts_for_every_seq) {
  fixture_log log(23);
  const auto key = log.signer.verifier();
  for (std::uint64_t seq = 0; seq < 23; ++seq) {
    auto r = verifier::verify_receipt(log.receipt(seq), key);
    BOOST_TEST_REQUIRE(r.has_value(), "seq " << seq << ": " << r.error().message());
    BOOST_TEST(r->record.seq == seq);
  }
}

BOOST_AUTO_TEST_CASE(rejects_a_receipt_checked_with_another_log_key) {
  fixture_log log(5);
  auto other = fixture_log::make_signer(log.origin);
  auto r = verifier::verify_receipt(log.receipt(2), other.verifier());
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error() == errc::unknown_key);
  // The checkpoint's own reason climbs unchanged, prefixed with where it arose.
  BOOST_TEST(r.error().reason().starts_with("checkpoint: "), r.error().reason());
  BOOST_TEST(r.error().reason().size() > std::string_view("checkpoint: ").size());
}

BOOST_AUTO_TEST_CASE(rejects_a_change_to_any_receipt_field) {
  fixture_log log(9);
  const auto key = log.signer.verifier();
  const boost::json::object good = log.receipt(4);
  for (const auto& member : good) {
    boost::json::object bad = good;
    auto& v = bad[member.key()];
    if (v.is_uint64() || v.is_int64()) {
      v = v.to_number<std::uint64_t>() + 1;
    } else if (v.is_string()) {
      std::string s(v.get_string());
      s[s.size() / 2] = static_cast<char>(s[s.size() / 2] == 'A' ? 'B' : 'A');
      v = s;
    } else if (v.is_array()) {
      auto& a = v.get_array();
      BOOST_REQUIRE(!a.empty());
      a.pop_back();
    }
    auto r = verifier::verify_receipt(bad, key);
    BOOST_TEST(!r.has_value(), "changed member " << member.key() << " still verifies");
  }
  for (const auto& member : good) {
    boost::json::object bad = good;
    bad.erase(member.key());
    BOOST_TEST(!verifier::verify_receipt(bad, key).has_value(), "missing " << member.key() << " still verifies");
  }
}

BOOST_AUTO_TEST_CASE(rejects_each_flipped_byte_of_the_record_salt_and_proof) {
  fixture_log log(12);
  const auto key = log.signer.verifier();
  const boost::json::object good = log.receipt(7);
  for (const char* field : {"record", "salt", "leaf_entry"}) {
    const std::string s(good.at(field).get_string());
    for (std::size_t i = 0; i < s.size(); ++i) {
      boost::json::object bad = good;
      std::string t = s;
      t[i] = static_cast<char>(t[i] ^ 0x01);
      bad[field] = t;
      BOOST_TEST(!verifier::verify_receipt(bad, key).has_value(), field << " byte " << i);
    }
  }
  const auto& proof = good.at("inclusion_proof").get_array();
  for (std::size_t n = 0; n < proof.size(); ++n) {
    auto raw = *crypto::base64_decode(proof[n].get_string());
    raw[n % 32] ^= 0x80;
    boost::json::object bad = good;
    bad["inclusion_proof"].get_array()[n] = crypto::base64_encode(raw);
    auto r = verifier::verify_receipt(bad, key);
    BOOST_TEST(!r.has_value());
    BOOST_TEST(r.error() == errc::proof_mismatch);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(hash_arguments)

BOOST_AUTO_TEST_CASE(accepts_hex_and_base64_and_nothing_else) {
  const std::string hex = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";
  auto a = verifier::parse_hash(hex);
  auto b = verifier::parse_hash("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  BOOST_TEST_REQUIRE(a.has_value());
  BOOST_TEST_REQUIRE(b.has_value());
  BOOST_TEST(*a == *b);
  BOOST_TEST(!verifier::parse_hash(hex.substr(2)).has_value());
  BOOST_TEST(!verifier::parse_hash("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQy==").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
