#pragma once
// Shared setup for the server integration tests: keys generated at test
// time, a configuration with every kind of submitter and token, an
// in-process vellumd on 127.0.0.1 port 0 with a fresh data directory, and
// helpers that build signed statements.

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "server/client.hpp"
#include "server/config.hpp"
#include "server/http.hpp"
#include "test_util.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <stdexcept>
#include <thread>

namespace vellum::test {

inline crypto::private_key new_key(crypto::key_type t = crypto::key_type::ed25519) {
  auto k = crypto::private_key::generate(t);
  BOOST_REQUIRE(k);
  return *k;
}

inline std::string new_uuid() {
  auto b = crypto::random_bytes(16);
  b[6] = static_cast<std::uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<std::uint8_t>((b[8] & 0x3f) | 0x80);
  auto h = crypto::hex_encode(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

// A valid payload; tests change members to break rules.
inline boost::json::object payload(const std::string& stream, boost::json::value expected = "any",
                                   std::string event_id = new_uuid()) {
  return {{"event_id", event_id},
          {"stream", stream},
          {"type", "therapy.session.documented"},
          {"expected_revision", expected},
          {"occurred_at", "2026-03-09T10:00:00Z"},
          {"author", {{"id", "dr-1"}, {"name", "Dr. One"}, {"role", "therapist"}}},
          {"data", {{"note", "first session"}}}};
}

inline std::string sign_text(const std::string& text, const crypto::private_key& key, const std::string& kid) {
  auto jws = crypto::jws_sign(crypto::as_bytes(text), key, boost::json::object{{"kid", kid}});
  // Not BOOST_REQUIRE: client threads sign too, and Boost.Test's log is not
  // thread-safe.
  if (!jws) throw std::runtime_error("jws_sign failed: " + jws.error().message());
  return *jws;
}

inline std::string sign(const boost::json::object& p, const crypto::private_key& key, const std::string& kid) {
  return sign_text(boost::json::serialize(p), key, kid);
}

// Keys and tokens every integration test can use.
struct identities {
  crypto::private_key writer = new_key();                          // kid "writer", streams "patient-"
  crypto::private_key es = new_key(crypto::key_type::p256);        // kid "es", every stream (JWK)
  crypto::private_key revoked = new_key();                         // kid "revoked"
  crypto::private_key future = new_key();                          // kid "future" (not_before 2099)
  crypto::private_key expired = new_key();                         // kid "expired" (not_after 2001)
  std::string reader_token = "reader-token-0123456789-0123456789";
  std::string auditor_token = "auditor-token-0123456789-0123456789";
  std::string admin_token = "admin-token-0123456789-0123456789";

  // The JSON configuration text (listen/data_dir are set by the fixture).
  std::string config_json(const std::string& extra_members = {}) const {
    boost::json::object o;
    boost::json::array subs;
    subs.push_back({{"kid", "writer"}, {"public_key", writer.public_key().to_pem()}, {"streams", {"patient-"}}});
    subs.push_back({{"kid", "es"}, {"public_key", es.public_key().to_jwk()}, {"streams", {""}}});
    subs.push_back({{"kid", "revoked"}, {"public_key", revoked.public_key().to_pem()}, {"streams", {""}},
                    {"revoked", true}});
    subs.push_back({{"kid", "future"}, {"public_key", future.public_key().to_pem()}, {"streams", {""}},
                    {"not_before", "2099-01-01T00:00:00Z"}});
    subs.push_back({{"kid", "expired"}, {"public_key", expired.public_key().to_pem()}, {"streams", {""}},
                    {"not_after", "2001-01-01T00:00:00Z"}});
    o["submitters"] = std::move(subs);
    auto hash_hex = [](const std::string& t) { return crypto::hex_encode(crypto::sha256(t)); };
    o["tokens"] = boost::json::array{
        {{"token_sha256", hash_hex(reader_token)}, {"role", "reader"}, {"name", "ehr"}},
        {{"token", auditor_token}, {"role", "auditor"}},
        {{"token_sha256", hash_hex(admin_token)}, {"role", "admin"}, {"name", "ops"}}};
    auto text = boost::json::serialize(o);
    if (!extra_members.empty()) text = text.substr(0, text.size() - 1) + "," + extra_members + "}";
    return text;
  }
};

// An in-process vellumd with its own data directory, serving on its own threads.
class running_server {
 public:
  // `edit` may change the configuration before start (limits, TLS, ...).
  explicit running_server(const identities& ids, std::function<void(server::config&)> edit = {},
                          const std::string& extra_json = {}) {
    cfg_path_ = dir_.str() + "/vellumd.json";
    {
      std::ofstream out(cfg_path_);
      out << ids.config_json(extra_json);
    }
    server::cli_options cli;
    cli.config_file = cfg_path_;
    cli.listen = "127.0.0.1:0";
    cli.data_dir = dir_.str() + "/data";
    auto cfg = server::load_config(cli);
    cfg.threads = 2;
    if (edit) edit(cfg);
    server_ = server::http_server::create(std::move(cfg));
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~running_server() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_->stop();
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  server::http_server& server() { return *server_; }
  const std::string& config_path() const { return cfg_path_; }
  std::string data_dir() const { return dir_.str() + "/data"; }

 private:
  temp_dir dir_;
  std::string cfg_path_;
  std::unique_ptr<server::http_server> server_;
  std::thread thread_;
  std::uint16_t port_ = 0;
};

inline header_list bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

inline std::string error_code_of(const client_response& r) {
  return std::string(r.json().at("error").at("code").as_string());
}

}  // namespace vellum::test
