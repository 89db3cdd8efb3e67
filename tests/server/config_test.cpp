// Configuration: command line, JSON file, defaults, demo mode; every bad
// configuration names its key.

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"
#include "server/fixture.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <sys/stat.h>

using namespace vellum;
using namespace vellum::test;
using server::config;
using server::config_error;

namespace {

// The message of the config_error that applying `json` throws ("" if none).
std::string problem_of(const std::string& json) {
  config cfg;
  try {
    server::apply_config_json(json, cfg);
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(defaults_match_the_design_contract) {
  config cfg;
  BOOST_TEST(cfg.listen_host == "127.0.0.1");
  BOOST_TEST(cfg.listen_port == 8080);
  BOOST_TEST(cfg.data_dir == "./vellum-data");
  BOOST_TEST(cfg.lim.max_body_bytes == 1u << 20);
  BOOST_TEST(cfg.lim.max_header_bytes == 16u << 10);
  BOOST_TEST(cfg.lim.max_batch_events == 1000u);
  BOOST_TEST(!cfg.allow_plain_http_on_non_loopback);
}

BOOST_AUTO_TEST_CASE(parses_flags_in_both_spellings) {
  const char* argv[] = {"vellumd", "--config", "c.json", "--listen=0.0.0.0:9", "--data", "d", "--origin=o"};
  auto cli = server::parse_command_line(7, argv);
  BOOST_TEST(*cli.config_file == "c.json");
  BOOST_TEST(*cli.listen == "0.0.0.0:9");
  BOOST_TEST(*cli.data_dir == "d");
  BOOST_TEST(*cli.origin == "o");
  const char* bad[] = {"vellumd", "--bogus"};
  BOOST_CHECK_THROW(server::parse_command_line(2, bad), config_error);
  const char* missing[] = {"vellumd", "--data"};
  BOOST_CHECK_THROW(server::parse_command_line(2, missing), config_error);
}

BOOST_AUTO_TEST_CASE(flags_override_the_file) {
  temp_dir dir;
  auto path = dir.str() + "/c.json";
  std::ofstream(path) << R"({"listen":"127.0.0.1:7000","data_dir":"/x","origin":"file.example/log"})";
  server::cli_options cli;
  cli.config_file = path;
  cli.listen = "127.0.0.1:7001";
  auto cfg = server::load_config(cli);
  BOOST_TEST(cfg.listen_port == 7001);
  BOOST_TEST(cfg.data_dir == "/x");
  BOOST_TEST(cfg.origin == "file.example/log");
  BOOST_TEST(cfg.threads >= 1u);
}

// The example holds no working secret: it is refused until every
// REPLACE-ME is replaced, and then every key of it parses.
BOOST_AUTO_TEST_CASE(refuses_the_example_configuration_until_its_placeholders_are_replaced) {
  auto text = read_text(std::string(VELLUM_SOURCE_DIR) + "/config/vellumd.example.json");
  BOOST_REQUIRE(!text.empty());
  BOOST_TEST(starts_with(problem_of(text), "submitters[0].public_key: a placeholder"), problem_of(text));
  auto doc = boost::json::parse(text).as_object();
  auto ed = crypto::private_key::generate(crypto::key_type::ed25519);
  auto p256 = crypto::private_key::generate(crypto::key_type::p256);
  BOOST_REQUIRE(ed && p256);
  auto& subs = doc["submitters"].as_array();
  subs[0].as_object()["public_key"] = ed->public_key().to_pem();
  subs[1].as_object()["public_key"] = p256->public_key().to_jwk();
  for (auto& t : doc["tokens"].as_array())
    t.as_object()["token_sha256"] = crypto::hex_encode(crypto::sha256(crypto::hex_encode(crypto::random_bytes(32))));
  config cfg;
  server::apply_config_json(boost::json::serialize(doc), cfg);
  BOOST_TEST(cfg.creds->submitters.size() == 2u);
  BOOST_TEST(cfg.creds->tokens.size() == 3u);
  BOOST_TEST(cfg.tls.enabled());
  // A placeholder anywhere is named by its path.
  BOOST_TEST(starts_with(problem_of(R"({"tokens":[{"token_sha256":"REPLACE-ME","role":"reader"}]})"),
                         "tokens[0].token_sha256: a placeholder"));
}

BOOST_AUTO_TEST_CASE(refuses_plain_tokens_shorter_than_32_characters) {
  const auto short_token = problem_of(R"({"tokens":[{"token":"0123456789abcdef0123456789abcde","role":"reader"}]})");
  BOOST_TEST(starts_with(short_token, "tokens[0].token: must be at least 32 characters"), short_token);
  config cfg;
  server::apply_config_json(R"({"tokens":[{"token":"0123456789abcdef0123456789abcdef","role":"reader"}]})", cfg);
  BOOST_TEST(cfg.creds->tokens.size() == 1u);
}

BOOST_AUTO_TEST_CASE(names_the_key_path_of_every_problem) {
  BOOST_TEST(starts_with(problem_of(R"({"colour":1})"), "colour: unknown key"));
  BOOST_TEST(starts_with(problem_of(R"({"listen":"nohost"})"), "listen:"));
  BOOST_TEST(starts_with(problem_of(R"({"listen":"127.0.0.1:99999"})"), "listen:"));
  BOOST_TEST(starts_with(problem_of(R"({"limits":{"max_body_bytes":0}})"), "limits.max_body_bytes:"));
  BOOST_TEST(starts_with(problem_of(R"({"limits":{"max_body_bytes":"1"}})"), "limits.max_body_bytes:"));
  BOOST_TEST(starts_with(problem_of(R"({"limits":{"speed":1}})"), "limits.speed: unknown key"));
  BOOST_TEST(starts_with(problem_of(R"({"limits":{"max_page_bytes":1023}})"), "limits.max_page_bytes: at least 1024"));
  BOOST_TEST(starts_with(problem_of(R"({"require_log_binding":"yes"})"), "require_log_binding:"));
  BOOST_TEST(starts_with(problem_of(R"({"tls":{"cert_file":"a.pem"}})"), "tls.key_file:"));
  BOOST_TEST(starts_with(problem_of(R"({"tls":{"cert_file":"a","key_file":"b","require_client_cert":true}})"),
                         "tls.client_ca_file:"));
  BOOST_TEST(starts_with(problem_of(R"({"threads":-1})"), "threads:"));
  BOOST_TEST(starts_with(problem_of(R"({"submitters":[{"kid":"a"}]})"), "submitters[0].public_key: missing"));
  BOOST_TEST(starts_with(problem_of(R"({"submitters":[{"kid":"a","public_key":"junk","streams":[""]}]})"),
                         "submitters[0].public_key:"));
  BOOST_TEST(starts_with(problem_of(R"({"tokens":[{"token":"short","role":"reader"}]})"), "tokens[0].token:"));
  BOOST_TEST(starts_with(problem_of(R"({"tokens":[{"token":"long-enough-token-1-0123456789abcdef","role":"king"}]})"),
                         "tokens[0].role:"));
  BOOST_TEST(starts_with(problem_of(R"({"tokens":[{"token_sha256":"abc","role":"reader"}]})"),
                         "tokens[0].token_sha256:"));
  BOOST_TEST(starts_with(problem_of("{nope"), "(file): not valid JSON"));
}

BOOST_AUTO_TEST_CASE(names_submitter_fields_with_their_index) {
  auto pem = new_key().public_key().to_pem();
  auto sub = [&](const std::string& extra) {
    return R"({"submitters":[{"kid":"ok","public_key":)" + boost::json::serialize(boost::json::value(pem)) +
           R"(,"streams":[""]},{"kid":"b","public_key":)" + boost::json::serialize(boost::json::value(pem)) +
           extra + "}]}";
  };
  BOOST_TEST(problem_of(sub(R"(,"streams":[""])")) == "");
  BOOST_TEST(starts_with(problem_of(sub("")), "submitters[1].streams: missing"));
  BOOST_TEST(starts_with(problem_of(sub(R"(,"streams":[""],"not_before":"soon")")), "submitters[1].not_before:"));
  BOOST_TEST(starts_with(problem_of(sub(R"(,"streams":[""],"revoked":"yes")")), "submitters[1].revoked:"));
  BOOST_TEST(starts_with(problem_of(sub(R"(,"streams":[""],"colour":1)")), "submitters[1].colour: unknown key"));
  auto dup = R"({"submitters":[{"kid":"a","public_key":)" + boost::json::serialize(boost::json::value(pem)) +
             R"(,"streams":[""]},{"kid":"a","public_key":)" + boost::json::serialize(boost::json::value(pem)) +
             R"(,"streams":[""]}]})";
  BOOST_TEST(starts_with(problem_of(dup), "submitters[1].kid: duplicate"));
}

BOOST_AUTO_TEST_CASE(accepts_public_keys_as_pem_or_jwk_and_refuses_private_jwks) {
  auto k = new_key(crypto::key_type::p256);
  boost::json::object o{{"submitters", boost::json::array{{{"kid", "j"}, {"public_key", k.public_key().to_jwk()},
                                                           {"streams", {"a"}}}}}};
  BOOST_TEST(problem_of(boost::json::serialize(o)) == "");
  auto jwk = k.public_key().to_jwk();
  jwk["d"] = "AAAA";
  o["submitters"].as_array()[0].as_object()["public_key"] = jwk;
  BOOST_TEST(starts_with(problem_of(boost::json::serialize(o)), "submitters[0].public_key:"));
}

// Issue 18, item 11: keys of small or mixed order, and encodings that are
// not canonical, are refused when the file is loaded, naming the kid; an
// ordinary key next to them is not.
BOOST_AUTO_TEST_CASE(refuses_weak_and_non_canonical_ed25519_keys_naming_the_kid) {
  auto with_key = [](const std::string& kid, const std::string& raw_hex) {
    auto raw = crypto::hex_decode(raw_hex);
    BOOST_REQUIRE(raw.has_value());
    boost::json::object jwk{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", crypto::base64url_encode(*raw)}};
    boost::json::object o{{"submitters", boost::json::array{{{"kid", kid}, {"public_key", jwk}, {"streams", {""}}}}}};
    return problem_of(boost::json::serialize(o));
  };
  const std::string small = with_key("ward-9", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa");
  BOOST_TEST(starts_with(small, "submitters[0].public_key:"));
  BOOST_TEST(small.find("submitter \"ward-9\"") != std::string::npos);
  BOOST_TEST(small.find("small order") != std::string::npos);
  const std::string identity = with_key("neutral", "0100000000000000000000000000000000000000000000000000000000000000");
  BOOST_TEST(identity.find("small order") != std::string::npos);
  const std::string mixed = with_key("pump-2", "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43");
  BOOST_TEST(mixed.find("submitter \"pump-2\"") != std::string::npos);
  BOOST_TEST(mixed.find("torsion") != std::string::npos);
  const std::string y_is_p = with_key("odd", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  BOOST_TEST(y_is_p.find("canonical") != std::string::npos);
  BOOST_TEST(with_key("fine", "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623") == "");
  // PEM keys go through the same check.
  const std::string pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAxxdqcD1N2E+6PAt2DRBnDyogU/osOczGTsf9d5KsA/o=\n-----END PUBLIC KEY-----\n";
  boost::json::object o{{"submitters", boost::json::array{{{"kid", "pem-small"}, {"public_key", pem}, {"streams", {""}}}}}};
  BOOST_TEST(problem_of(boost::json::serialize(o)).find("small order") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(refuses_plain_http_on_non_loopback_unless_allowed) {
  server::cli_options cli;
  cli.listen = "0.0.0.0:8080";
  BOOST_CHECK_THROW(server::load_config(cli), config_error);
  temp_dir dir;
  auto path = dir.str() + "/c.json";
  std::ofstream(path) << R"({"allow_plain_http_on_non_loopback":true})";
  cli.config_file = path;
  BOOST_CHECK_NO_THROW(server::load_config(cli));
}

BOOST_AUTO_TEST_CASE(token_roles_match_only_their_token) {
  auto creds = server::credentials_from_json(
      R"({"tokens":[{"token":"reader-token-000000-0123456789abcdef","role":"reader"},{"token":"admin-token-0000000-0123456789abcdef","role":"admin"}]})");
  BOOST_TEST((creds->role_of_token("reader-token-000000-0123456789abcdef") == server::role::reader));
  BOOST_TEST((creds->role_of_token("admin-token-0000000-0123456789abcdef") == server::role::admin));
  BOOST_TEST(!creds->role_of_token("reader-token-000001"));
}

BOOST_AUTO_TEST_CASE(demo_mode_creates_a_private_key_once_with_mode_0600) {
  temp_dir dir;
  config cfg;
  cfg.data_dir = dir.str() + "/data";
  BOOST_TEST(server::setup_demo_mode(cfg));
  BOOST_TEST(cfg.creds->open_reads);
  BOOST_REQUIRE(cfg.creds->find_submitter("demo"));
  BOOST_TEST(cfg.creds->find_submitter("demo")->allows_stream("any-stream"));
  struct stat st {};
  BOOST_REQUIRE(::stat((cfg.data_dir + "/demo-submitter.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  auto first = read_text(cfg.data_dir + "/demo-submitter.pem");
  config again;
  again.data_dir = cfg.data_dir;
  BOOST_TEST(server::setup_demo_mode(again));
  BOOST_TEST(read_text(cfg.data_dir + "/demo-submitter.pem") == first);
  BOOST_TEST(server::demo_warning(again, 1234).find("127.0.0.1:1234") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(demo_mode_never_applies_with_a_config_file_or_off_loopback) {
  temp_dir dir;
  config with_file;
  with_file.data_dir = dir.str();
  with_file.config_file = "x.json";
  BOOST_TEST(!server::setup_demo_mode(with_file));
  config public_addr;
  public_addr.data_dir = dir.str();
  public_addr.listen_host = "0.0.0.0";
  BOOST_TEST(!server::setup_demo_mode(public_addr));
  BOOST_TEST(!std::filesystem::exists(dir.str() + "/demo-submitter.pem"));
}

BOOST_AUTO_TEST_SUITE_END()
