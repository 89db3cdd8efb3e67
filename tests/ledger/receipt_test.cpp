// The JSON form of receipts: round trip, layout, strictness.

#include "ledger_test_util.hpp"

namespace vellum::ledger {
namespace {

using test::manual_clock;
using test::open_or_fail;
using test::statement_factory;
using test::test_options;

receipt sample_receipt(vellum::test::temp_dir& dir, std::string& vkey) {
  manual_clock clock;
  auto l = open_or_fail(test_options(dir, clock));
  statement_factory f;
  for (int i = 0; i < 6; ++i) test::append_one(*l, f.make("s"));
  vkey = l->verifier_key();
  return test::append_one(*l, f.make("s"));
}

BOOST_AUTO_TEST_SUITE(ledger_receipt_json)

BOOST_AUTO_TEST_CASE(receipt_survives_a_json_round_trip_and_still_verifies) {
  vellum::test::temp_dir dir;
  std::string vkey;
  const receipt r = sample_receipt(dir, vkey);
  const std::string text = boost::json::serialize(r.to_json());
  auto parsed = boost::json::parse(text);
  auto back = receipt_from_json(parsed.as_object());
  BOOST_REQUIRE(back);
  BOOST_TEST(back->seq == r.seq);
  BOOST_TEST(back->stream == r.stream);
  BOOST_TEST(back->revision == r.revision);
  BOOST_TEST(back->recorded_at_us == r.recorded_at_us);
  BOOST_TEST(back->event_id == r.event_id);
  BOOST_TEST(back->kid == r.kid);
  BOOST_TEST((back->leaf_entry == r.leaf_entry));
  BOOST_TEST(back->record == r.record);
  BOOST_TEST((back->salt == r.salt));
  BOOST_TEST(back->checkpoint == r.checkpoint);
  BOOST_TEST(back->tree_size == r.tree_size);
  BOOST_TEST((back->inclusion_proof == r.inclusion_proof));
  test::verify_receipt(*back, vkey);
}

BOOST_AUTO_TEST_CASE(receipt_json_has_the_documented_members) {
  vellum::test::temp_dir dir;
  std::string vkey;
  const receipt r = sample_receipt(dir, vkey);
  const boost::json::object o = r.to_json();
  BOOST_TEST(o.at("seq").as_uint64() == r.seq);
  BOOST_TEST(o.at("recorded_at").as_string() == crypto::format_time_us(r.recorded_at_us));
  BOOST_TEST(o.at("recorded_at_us").as_uint64() == r.recorded_at_us);
  BOOST_TEST(o.at("leaf_entry").as_string() == crypto::base64_encode(r.leaf_entry));
  BOOST_TEST(o.at("salt").as_string() == crypto::base64_encode(r.salt));
  BOOST_TEST(o.at("record").as_string() == r.record);
  BOOST_TEST(o.at("checkpoint").as_string() == r.checkpoint);
  BOOST_TEST(o.at("inclusion_proof").as_array().size() == r.inclusion_proof.size());
  BOOST_TEST(o.size() == 13u);
}

BOOST_AUTO_TEST_CASE(receipt_from_json_refuses_missing_extra_and_malformed_members) {
  vellum::test::temp_dir dir;
  std::string vkey;
  const boost::json::object good = sample_receipt(dir, vkey).to_json();
  BOOST_REQUIRE(receipt_from_json(good));
  auto refused = [](boost::json::object o) { return !receipt_from_json(o).has_value(); };
  for (const auto& member : good) {
    auto o = good;
    o.erase(member.key());
    BOOST_TEST(refused(o), "without " << member.key());
  }
  auto extra = good;
  extra["extra"] = 1;
  BOOST_TEST(refused(extra));
  auto short_salt = good;
  short_salt["salt"] = "AAAA";
  BOOST_TEST(refused(short_salt));
  auto bad_b64 = good;
  bad_b64["leaf_entry"] = "not base64!";
  BOOST_TEST(refused(bad_b64));
  auto bad_time = good;
  bad_time["recorded_at"] = "2026-03-09T10:00:00Z";
  BOOST_TEST(refused(bad_time));
  auto negative = good;
  negative["seq"] = -1;
  BOOST_TEST(refused(negative));
  auto bad_proof = good;
  bad_proof["inclusion_proof"] = boost::json::array{"AAAA"};
  BOOST_TEST(refused(bad_proof));
  auto seq_past_size = good;
  seq_past_size["seq"] = good.at("tree_size").as_uint64();
  BOOST_TEST(refused(seq_past_size));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace vellum::ledger
