#pragma once
// vellumd configuration: command line, the JSON configuration file (every key is
// documented in docs/configuration.md, example in config/vellumd.example.json)
// and the credentials (submitter keys, reader tokens) that SIGHUP reloads.
//
// Loading throws config_error (start-up only); everything after start-up
// returns results.

#include "crypto/ed25519_precomputed.hpp"
#include "crypto/jws.hpp"
#include "crypto/keys.hpp"
#include "crypto/sha256.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::server {

// A configuration problem; what() names the key path and the problem, e.g.
// "tls.cert_file: must be a non-empty string".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What the command line asked for. Flags override the configuration file.
struct cli_options {
  std::optional<std::string> config_file;
  std::optional<std::string> listen;
  std::optional<std::string> data_dir;
  std::optional<std::string> origin;
  bool help = false;
  bool version = false;
};

// Parses argv (argv[0] is skipped). Accepts "--flag value" and "--flag=value".
// Throws config_error for unknown flags or missing values.
cli_options parse_command_line(int argc, const char* const* argv);

// The --help text.
std::string usage_text();

enum class role { reader = 0, auditor = 1, admin = 2 };
std::string_view to_string(role r);

struct submitter {
  std::string kid;
  crypto::public_key key;
  std::vector<std::string> streams;      // allowed stream prefixes ("" = all)
  std::optional<std::uint64_t> not_before_us;
  std::optional<std::uint64_t> not_after_us;
  bool revoked = false;
  // Ed25519 keys: the tables that verify about six times faster than
  // OpenSSL and accept exactly the same signatures (about 30 KiB per key;
  // crypto/ed25519_precomputed.hpp). Null for P-256 keys.
  std::shared_ptr<const crypto::ed25519_precomputed> ed25519;

  submitter(std::string kid_, crypto::public_key key_, std::vector<std::string> streams_);

  // True when `stream` starts with one of the allowed prefixes.
  bool allows_stream(std::string_view stream) const;
  // crypto::jws_verify (alg pinned to the key type), through the tables when
  // there are any. Errors: algorithm_mismatch, bad_signature.
  [[nodiscard]] result<void> verify(const crypto::jws& token) const;
};

struct token {
  crypto::hash token_sha256{};  // SHA-256 of the bearer token's bytes
  role granted = role::reader;
  std::string name;
};

// Submitters and tokens: immutable once built; replaced as a whole on reload.
struct credentials {
  std::vector<submitter> submitters;
  std::vector<token> tokens;
  bool open_reads = false;  // demo mode: reads need no token
  // Every statement must carry "log": this log's origin (require_log_binding).
  bool require_log_binding = false;

  const submitter* find_submitter(std::string_view kid) const;
  // The configured token a bearer token is (constant-time comparison against
  // every configured hash; the strongest role if several match), or null.
  const token* token_of(std::string_view bearer) const;
  // Its role, or nullopt if no token matches.
  std::optional<role> role_of_token(std::string_view bearer) const;
  // How the access log names the holder of a matching token: "token:<name>",
  // or "token:<role>#<n>" (1-based place in the configuration) when unnamed.
  std::string identity_of(const token& t) const;
};

// Thread-safe holder of the current credentials (readers take a snapshot).
class credentials_store {
 public:
  explicit credentials_store(std::shared_ptr<const credentials> c) : current_(std::move(c)) {}
  std::shared_ptr<const credentials> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void set(std::shared_ptr<const credentials> c) {
    std::lock_guard lock(mutex_);
    current_ = std::move(c);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const credentials> current_;
};

struct tls_config {
  std::string cert_file;       // PEM chain; empty: no TLS
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle; non-empty: verify client certificates
  bool require_client_cert = false;
  // Non-empty: a client certificate must also carry one of these names,
  // each "cn:NAME" (the subject's common name), "dns:NAME", "email:ADDR" or
  // "uri:URI" (a subjectAltName of that kind). Needs client_ca_file.
  std::vector<std::string> client_allow;
  // PEM file of CRLs: a client certificate its issuer's CRL lists is
  // refused, and so is every client whose issuer has no CRL in the file or
  // whose CRL has expired (fail closed). Needs client_ca_file.
  std::string crl_file;
  // TLS 1.2 cipher list (OpenSSL syntax): by default forward-secret key
  // exchange with authenticated encryption only (no CBC, no static RSA).
  std::string ciphers = "ECDHE+AESGCM:ECDHE+CHACHA20";
  // TLS 1.3 cipher suites (OpenSSL syntax; all three are AEAD).
  std::string ciphersuites = "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
  bool enabled() const { return !cert_file.empty(); }
};

struct limits {
  std::size_t max_body_bytes = std::size_t{1} << 20;
  std::size_t max_header_bytes = std::size_t{16} << 10;
  std::uint64_t read_timeout_ms = 10000;
  std::uint64_t idle_timeout_ms = 60000;
  std::size_t max_connections = 1024;
  // Open connections from one client address; 0: a quarter of
  // max_connections (at least 1), so that one client cannot take every slot.
  std::size_t max_connections_per_ip = 0;
  // Exports and analytics exports one client address may have running at
  // once (429 past it).
  std::size_t max_expensive_per_ip = 4;
  std::size_t connections_per_ip() const {
    return max_connections_per_ip ? max_connections_per_ip : std::max<std::size_t>(1, max_connections / 4);
  }
  std::size_t max_queue = 65536;
  std::size_t max_batch_events = 1000;
  std::size_t sse_max_buffered_events = 10000;
  // A page of events (/v1/log/events, /v1/streams/{s}, /v1/query) stops
  // before this many bytes of JSON, with a `next`, whatever its `limit`.
  std::size_t max_page_bytes = std::size_t{4} << 20;
};

struct config {
  std::string config_file;  // empty: embedded defaults only
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string data_dir = "./vellum-data";
  std::string origin = "vellum.localhost/log";
  std::string log_key_file;  // empty: <data_dir>/log-key.pem
  bool allow_plain_http_on_non_loopback = false;
  tls_config tls;
  unsigned threads = 0;  // 0 until loaded: then hardware_concurrency (>= 1)
  limits lim;
  std::shared_ptr<const credentials> creds = std::make_shared<credentials>();
  bool demo = false;  // demo submitter created/used, reads open
};

// Splits "HOST:PORT" or "[v6]:PORT". Throws config_error naming `key`.
void parse_listen(std::string_view text, std::string_view key, std::string& host,
                  std::uint16_t& port);

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(std::string_view host);

// Applies the JSON configuration text on top of `cfg` (only keys present are
// changed; credentials are replaced). Throws config_error naming the key path.
void apply_config_json(std::string_view text, config& cfg);

// Parses only the credentials part (submitters, tokens) of a configuration
// file's text; used by SIGHUP reloads. Throws config_error.
std::shared_ptr<const credentials> credentials_from_json(std::string_view text);

// Runs `load` for a SIGHUP reload: its credentials, or (creds null) why it
// failed, whatever the failure: a config_error's message, "out of memory"
// for std::bad_alloc, any other exception's what(). Nothing escapes, so a
// failed reload leaves the server and its old credentials as they were.
struct reload_outcome {
  std::shared_ptr<const credentials> creds;
  std::string problem;
};
reload_outcome guarded_reload(const std::function<std::shared_ptr<const credentials>()>& load);

// Loads the whole configuration: file (if given), then flags, then checks
// (plain HTTP on non-loopback, TLS files present). Does not touch the disk
// beyond reading the file. Throws config_error.
config load_config(const cli_options& cli);

// Demo mode (docs/configuration.md): with no configuration file and a loopback listen
// address, makes sure <data_dir>/demo-submitter.pem (0600) and
// demo-submitter.pub.pem exist, registers them as submitter "demo" on every
// stream and opens reads. Returns false (and changes nothing) when demo mode
// does not apply. Throws config_error when the key cannot be created.
bool setup_demo_mode(config& cfg);

// The start-up warning of demo mode, with the commands to submit and verify
// (port: the port actually bound).
std::string demo_warning(const config& cfg, std::uint16_t port);

}  // namespace vellum::server
