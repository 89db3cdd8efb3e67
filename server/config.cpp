// vellumd configuration loading (see config.hpp and docs/configuration.md).

#include "base/file.hpp"
#include "server/config.hpp"
#include "server/access_log.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/stream_name.hpp"

#include <vellum/version.hpp>

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <thread>

namespace vellum::server {
namespace {

namespace json = boost::json;

[[noreturn]] void fail(std::string_view path, std::string_view problem) {
  throw config_error(std::string(path) + ": " + std::string(problem));
}

std::string join(std::string_view base, std::string_view member) {
  if (base.empty()) return std::string(member);
  return std::string(base) + "." + std::string(member);
}

std::string index_path(std::string_view base, std::size_t i) {
  return std::string(base) + "[" + std::to_string(i) + "]";
}

// Refuses members of `o` not in `allowed`.
void check_keys(const json::object& o, std::string_view path,
                std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : o) {
    if (std::find(allowed.begin(), allowed.end(), kv.key()) == allowed.end())
      fail(join(path, kv.key()), "unknown key");
  }
}

const json::object& as_object(const json::value& v, std::string_view path) {
  if (!v.is_object()) fail(path, "must be an object");
  return v.get_object();
}

std::string as_string(const json::value& v, std::string_view path, bool allow_empty = false) {
  if (!v.is_string()) fail(path, "must be a string");
  std::string s(v.get_string());
  if (!allow_empty && s.empty()) fail(path, "must not be empty");
  return s;
}

bool as_bool(const json::value& v, std::string_view path) {
  if (!v.is_bool()) fail(path, "must be true or false");
  return v.get_bool();
}

// A positive integer no larger than `max` (JSON numbers that are whole).
std::uint64_t as_count(const json::value& v, std::string_view path, std::uint64_t max) {
  std::uint64_t out = 0;
  if (v.is_uint64()) {
    out = v.get_uint64();
  } else if (v.is_int64() && v.get_int64() >= 0) {
    out = static_cast<std::uint64_t>(v.get_int64());
  } else {
    fail(path, "must be a positive integer");
  }
  if (out == 0) fail(path, "must be a positive integer");
  if (out > max) fail(path, "must be at most " + std::to_string(max));
  return out;
}

std::uint64_t as_time(const json::value& v, std::string_view path) {
  auto s = as_string(v, path);
  auto t = crypto::parse_rfc3339_us(s);
  if (!t) fail(path, "must be an RFC 3339 date-time, e.g. 2026-01-01T00:00:00Z");
  return *t;
}

submitter parse_submitter(const json::value& v, const std::string& path) {
  const auto& o = as_object(v, path);
  check_keys(o, path, {"kid", "public_key", "streams", "not_before", "not_after", "revoked"});
  const auto* kid = o.if_contains("kid");
  if (!kid) fail(join(path, "kid"), "missing");
  auto kid_s = as_string(*kid, join(path, "kid"));
  if (kid_s.size() > 255 ||
      !std::all_of(kid_s.begin(), kid_s.end(), [](char c) { return c > 0x20 && c < 0x7f; }))
    fail(join(path, "kid"), "must be 1-255 printable ASCII characters without spaces");
  const auto* pk = o.if_contains("public_key");
  if (!pk) fail(join(path, "public_key"), "missing");
  auto key = [&]() -> result<crypto::public_key> {
    if (pk->is_string()) return crypto::public_key::from_pem(pk->get_string());
    if (pk->is_object()) return crypto::public_key::from_jwk(pk->get_object());
    fail(join(path, "public_key"), "must be a PEM string or a JWK object");
  }();
  if (!key)
    fail(join(path, "public_key"),
         "cannot be used as an Ed25519 or P-256 public key (" + key.error().message() + ")");
  if (key->type() == crypto::key_type::ed25519) {
    if (auto problem = crypto::ed25519_check_public_key(key->raw()); problem != crypto::ed25519_key_problem::none)
      fail(join(path, "public_key"), "the Ed25519 key of submitter \"" + kid_s + "\" is " +
                                         std::string(crypto::to_string(problem)) +
                                         ", which no honest signer has; refused");
  }
  submitter s(kid_s, *key, {});
  const auto* streams = o.if_contains("streams");
  if (!streams) fail(join(path, "streams"), "missing (use [\"\"] to allow every stream)");
  if (!streams->is_array()) fail(join(path, "streams"), "must be an array of stream prefixes");
  std::size_t i = 0;
  for (const auto& p : streams->get_array()) {
    s.streams.push_back(as_string(p, index_path(join(path, "streams"), i++), true));
  }
  if (s.streams.empty()) fail(join(path, "streams"), "must name at least one prefix");
  if (const auto* nb = o.if_contains("not_before")) s.not_before_us = as_time(*nb, join(path, "not_before"));
  if (const auto* na = o.if_contains("not_after")) s.not_after_us = as_time(*na, join(path, "not_after"));
  if (s.not_before_us && s.not_after_us && *s.not_after_us <= *s.not_before_us)
    fail(join(path, "not_after"), "must be later than not_before");
  if (const auto* r = o.if_contains("revoked")) s.revoked = as_bool(*r, join(path, "revoked"));
  return s;
}

role parse_role(const json::value& v, const std::string& path) {
  auto s = as_string(v, path);
  if (s == "reader") return role::reader;
  if (s == "auditor") return role::auditor;
  if (s == "admin") return role::admin;
  fail(path, "must be \"reader\", \"auditor\" or \"admin\"");
}

token parse_token(const json::value& v, const std::string& path) {
  const auto& o = as_object(v, path);
  check_keys(o, path, {"token_sha256", "token", "role", "name"});
  token t;
  const auto* h = o.if_contains("token_sha256");
  const auto* plain = o.if_contains("token");
  if ((h != nullptr) == (plain != nullptr))
    fail(path, "needs exactly one of \"token_sha256\" and \"token\"");
  if (h) {
    auto hex = as_string(*h, join(path, "token_sha256"));
    auto raw = crypto::hex_decode(hex);
    if (!raw || raw->size() != 32)
      fail(join(path, "token_sha256"), "must be 64 hex digits (SHA-256 of the token)");
    std::copy(raw->begin(), raw->end(), t.token_sha256.begin());
  } else {
    auto text = as_string(*plain, join(path, "token"));
    if (text.size() < 32)
      fail(join(path, "token"), "must be at least 32 characters (e.g. openssl rand -hex 32); better, give token_sha256");
    t.token_sha256 = crypto::sha256(std::string_view(text));
  }
  const auto* r = o.if_contains("role");
  if (!r) fail(join(path, "role"), "missing");
  t.granted = parse_role(*r, join(path, "role"));
  if (const auto* n = o.if_contains("name")) t.name = as_string(*n, join(path, "name"));
  return t;
}

void parse_credentials(const json::object& root, credentials& c) {
  if (const auto* x = root.if_contains("require_log_binding")) c.require_log_binding = as_bool(*x, "require_log_binding");
  if (const auto* subs = root.if_contains("submitters")) {
    if (!subs->is_array()) fail("submitters", "must be an array");
    std::size_t i = 0;
    for (const auto& s : subs->get_array()) {
      auto path = index_path("submitters", i++);
      auto parsed = parse_submitter(s, path);
      if (c.find_submitter(parsed.kid)) fail(join(path, "kid"), "duplicate kid \"" + parsed.kid + "\"");
      c.submitters.push_back(std::move(parsed));
    }
  }
  if (const auto* toks = root.if_contains("tokens")) {
    if (!toks->is_array()) fail("tokens", "must be an array");
    std::size_t i = 0;
    for (const auto& t : toks->get_array()) c.tokens.push_back(parse_token(t, index_path("tokens", i++)));
  }
}

json::object parse_root(std::string_view text) {
  auto v = crypto::parse_ijson(text);
  if (!v) fail("(file)", "not valid JSON: " + v.error().message());
  if (!v->is_object()) fail("(file)", "must be a JSON object");
  return std::move(v->get_object());
}

void parse_limits(const json::value& v, limits& l) {
  const auto& o = as_object(v, "limits");
  check_keys(o, "limits",
             {"max_body_bytes", "max_header_bytes", "read_timeout_ms", "idle_timeout_ms",
              "max_connections", "max_queue", "max_batch_events", "sse_max_buffered_events",
              "max_page_bytes", "max_connections_per_ip", "max_expensive_per_ip"});
  constexpr std::uint64_t big = std::uint64_t{1} << 40;
  if (const auto* x = o.if_contains("max_body_bytes")) l.max_body_bytes = as_count(*x, "limits.max_body_bytes", big);
  if (const auto* x = o.if_contains("max_header_bytes")) l.max_header_bytes = as_count(*x, "limits.max_header_bytes", 1 << 20);
  if (const auto* x = o.if_contains("read_timeout_ms")) l.read_timeout_ms = as_count(*x, "limits.read_timeout_ms", 86400000);
  if (const auto* x = o.if_contains("idle_timeout_ms")) l.idle_timeout_ms = as_count(*x, "limits.idle_timeout_ms", 86400000);
  if (const auto* x = o.if_contains("max_connections")) l.max_connections = as_count(*x, "limits.max_connections", 1000000);
  if (const auto* x = o.if_contains("max_queue")) l.max_queue = as_count(*x, "limits.max_queue", 100000000);
  if (const auto* x = o.if_contains("max_batch_events")) l.max_batch_events = as_count(*x, "limits.max_batch_events", 100000);
  if (const auto* x = o.if_contains("sse_max_buffered_events")) l.sse_max_buffered_events = as_count(*x, "limits.sse_max_buffered_events", 100000000);
  if (const auto* x = o.if_contains("max_expensive_per_ip"))
    l.max_expensive_per_ip = as_count(*x, "limits.max_expensive_per_ip", 100000);
  if (const auto* x = o.if_contains("max_connections_per_ip"))
    l.max_connections_per_ip = as_count(*x, "limits.max_connections_per_ip", 1000000);
  if (const auto* x = o.if_contains("max_page_bytes")) {
    l.max_page_bytes = as_count(*x, "limits.max_page_bytes", std::uint64_t{1} << 30);
    if (l.max_page_bytes < 1024) throw config_error("limits.max_page_bytes: at least 1024");
  }
}

void parse_tls(const json::value& v, tls_config& t) {
  const auto& o = as_object(v, "tls");
  check_keys(o, "tls", {"cert_file", "key_file", "client_ca_file", "require_client_cert", "client_allow", "crl_file",
                        "ciphers", "ciphersuites"});
  if (const auto* x = o.if_contains("ciphers")) t.ciphers = as_string(*x, "tls.ciphers");
  if (const auto* x = o.if_contains("ciphersuites")) t.ciphersuites = as_string(*x, "tls.ciphersuites");
  if (const auto* x = o.if_contains("cert_file")) t.cert_file = as_string(*x, "tls.cert_file");
  if (const auto* x = o.if_contains("key_file")) t.key_file = as_string(*x, "tls.key_file");
  if (const auto* x = o.if_contains("client_ca_file")) t.client_ca_file = as_string(*x, "tls.client_ca_file");
  if (const auto* x = o.if_contains("require_client_cert"))
    t.require_client_cert = as_bool(*x, "tls.require_client_cert");
  if (const auto* x = o.if_contains("crl_file")) t.crl_file = as_string(*x, "tls.crl_file");
  if (const auto* x = o.if_contains("client_allow")) {
    if (!x->is_array()) fail("tls.client_allow", "must be an array of \"cn:…\", \"dns:…\", \"email:…\" or \"uri:…\"");
    t.client_allow.clear();
    std::size_t i = 0;
    for (const auto& e : x->get_array()) {
      const std::string where = index_path("tls.client_allow", i++);
      std::string name = as_string(e, where);
      const auto colon = name.find(':');
      const std::string_view kind = std::string_view(name).substr(0, colon);
      if (colon == std::string::npos || colon + 1 == name.size() ||
          (kind != "cn" && kind != "dns" && kind != "email" && kind != "uri"))
        fail(where, "\"" + name + "\" is not \"cn:NAME\", \"dns:NAME\", \"email:ADDR\" or \"uri:URI\"");
      t.client_allow.push_back(std::move(name));
    }
    if (t.client_allow.empty()) fail("tls.client_allow", "must name at least one certificate (or leave it out)");
  }
  if (t.cert_file.empty() != t.key_file.empty())
    fail(t.cert_file.empty() ? "tls.cert_file" : "tls.key_file",
         "cert_file and key_file must be given together");
  if (t.require_client_cert && t.client_ca_file.empty())
    fail("tls.client_ca_file", "required when tls.require_client_cert is true");
  if (!t.client_allow.empty() && t.client_ca_file.empty())
    fail("tls.client_ca_file", "required when tls.client_allow is given");
  if (!t.crl_file.empty() && t.client_ca_file.empty())
    fail("tls.client_ca_file", "required when tls.crl_file is given");
}

std::string next_value(int argc, const char* const* argv, int& i, std::string_view flag,
                        std::optional<std::string_view> inline_value) {
  if (inline_value) return std::string(*inline_value);
  if (i + 1 >= argc) throw config_error(std::string(flag) + ": needs a value");
  return argv[++i];
}

}  // namespace

std::string_view to_string(role r) {
  switch (r) {
    case role::reader: return "reader";
    case role::auditor: return "auditor";
    case role::admin: return "admin";
  }
  return "reader";
}

submitter::submitter(std::string kid_, crypto::public_key key_, std::vector<std::string> streams_)
    : kid(std::move(kid_)), key(std::move(key_)), streams(std::move(streams_)) {
  if (key.type() != crypto::key_type::ed25519) return;
  // A key that is not a canonical curve point (which a configuration file
  // cannot register: parse_submitter refuses it) keeps OpenSSL's verify,
  // which then decides about it as it would anywhere else; said in the log,
  // since that key's statements verify several times slower.
  if (auto tables = crypto::ed25519_precomputed::make(key.raw()))
    ed25519 = std::make_shared<const crypto::ed25519_precomputed>(std::move(*tables));
  else
    log_message("warning", "submitter \"" + kid + "\": Ed25519 key is not a canonical curve point; "
                           "its signatures are checked by OpenSSL's verify, without the precomputed tables");
}

result<void> submitter::verify(const crypto::jws& token) const {
  if (ed25519 && token.alg == crypto::jws_alg_for(crypto::key_type::ed25519)) {
    if (ed25519->verify(crypto::as_bytes(token.signing_input), token.signature)) return {};
    return make_error_code(crypto::errc::bad_signature);
  }
  return crypto::jws_verify(token, key);
}

bool submitter::allows_stream(std::string_view stream) const {
  return std::any_of(streams.begin(), streams.end(),
                     [&](const std::string& p) { return crypto::stream_in_prefix(stream, p); });
}

const submitter* credentials::find_submitter(std::string_view kid) const {
  for (const auto& s : submitters)
    if (s.kid == kid) return &s;
  return nullptr;
}

const token* credentials::token_of(std::string_view bearer) const {
  auto h = crypto::sha256(bearer);
  const token* found = nullptr;
  for (const auto& t : tokens) {
    // Compare against every token so timing does not reveal which one matched.
    if (crypto::equal_constant_time(h, t.token_sha256) && (!found || t.granted > found->granted)) found = &t;
  }
  return found;
}

std::optional<role> credentials::role_of_token(std::string_view bearer) const {
  const token* t = token_of(bearer);
  return t ? std::optional(t->granted) : std::nullopt;
}

std::string credentials::identity_of(const token& t) const {
  if (!t.name.empty()) return "token:" + t.name;
  return "token:" + std::string(to_string(t.granted)) + "#" + std::to_string(&t - tokens.data() + 1);
}

cli_options parse_command_line(int argc, const char* const* argv) {
  cli_options out;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::optional<std::string_view> inline_value;
    if (auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      inline_value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    if (arg == "--help" || arg == "-h") {
      out.help = true;
    } else if (arg == "--version") {
      out.version = true;
    } else if (arg == "--config") {
      out.config_file = next_value(argc, argv, i, arg, inline_value);
    } else if (arg == "--listen") {
      out.listen = next_value(argc, argv, i, arg, inline_value);
    } else if (arg == "--data") {
      out.data_dir = next_value(argc, argv, i, arg, inline_value);
    } else if (arg == "--origin") {
      out.origin = next_value(argc, argv, i, arg, inline_value);
    } else {
      throw config_error(std::string(arg) + ": unknown option (see --help)");
    }
  }
  return out;
}

std::string usage_text() {
  return std::string("vellumd ") + vellum::version +
         " - the Vellum audit ledger server\n\n"
         "usage: vellumd [--config FILE] [--listen HOST:PORT] [--data DIR] [--origin TEXT]\n\n"
         "  --config FILE       JSON configuration (docs/configuration.md); without it\n"
         "                      vellumd runs with embedded defaults and, on a loopback\n"
         "                      address, a demo submitter key and open reads\n"
         "  --listen HOST:PORT  address to listen on (default 127.0.0.1:8080; port 0 = any)\n"
         "  --data DIR          data directory (default ./vellum-data)\n"
         "  --origin TEXT       log origin, fixed when the data directory is created\n"
         "  --help, --version\n"
         "Flags override the configuration file. SIGHUP reloads submitters and tokens.\n";
}

void parse_listen(std::string_view text, std::string_view key, std::string& host,
                  std::uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 == text.size())
    fail(key, "must be HOST:PORT, e.g. 127.0.0.1:8080");
  auto h = text.substr(0, colon);
  auto p = text.substr(colon + 1);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty()) fail(key, "host is missing (use 0.0.0.0 to listen on every address)");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), value);
  if (ec != std::errc{} || ptr != p.data() + p.size() || value > 65535)
    fail(key, "port must be a number from 0 to 65535");
  host = std::string(h);
  port = static_cast<std::uint16_t>(value);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (!host.starts_with("127.")) return false;
  return std::all_of(host.begin(), host.end(), [](char c) { return c == '.' || (c >= '0' && c <= '9'); });
}

// The example configuration's values that must be replaced say REPLACE-ME:
// a configuration still holding one is refused, naming where, so that no
// copied example runs with a secret or key everyone has read.
void refuse_placeholders(const json::value& v, const std::string& path) {
  if (v.is_string() && std::string_view(v.get_string()).find("REPLACE-ME") != std::string_view::npos)
    fail(path, "a placeholder of the example configuration; replace it (docs/configuration.md)");
  if (v.is_object())
    for (const auto& kv : v.get_object()) refuse_placeholders(kv.value(), join(path, std::string(kv.key())));
  if (v.is_array()) {
    std::size_t i = 0;
    for (const auto& e : v.get_array()) refuse_placeholders(e, index_path(path, i++));
  }
}

void apply_config_json(std::string_view text, config& cfg) {
  auto root = parse_root(text);
  refuse_placeholders(root, "");
  check_keys(root, "",
             {"listen", "data_dir", "origin", "log_key_file", "allow_plain_http_on_non_loopback",
              "tls", "threads", "submitters", "tokens", "limits", "require_log_binding"});
  if (const auto* x = root.if_contains("listen"))
    parse_listen(as_string(*x, "listen"), "listen", cfg.listen_host, cfg.listen_port);
  if (const auto* x = root.if_contains("data_dir")) cfg.data_dir = as_string(*x, "data_dir");
  if (const auto* x = root.if_contains("origin")) cfg.origin = as_string(*x, "origin");
  if (const auto* x = root.if_contains("log_key_file")) cfg.log_key_file = as_string(*x, "log_key_file");
  if (const auto* x = root.if_contains("allow_plain_http_on_non_loopback"))
    cfg.allow_plain_http_on_non_loopback = as_bool(*x, "allow_plain_http_on_non_loopback");
  if (const auto* x = root.if_contains("tls")) parse_tls(*x, cfg.tls);
  if (const auto* x = root.if_contains("threads")) cfg.threads = static_cast<unsigned>(as_count(*x, "threads", 1024));
  if (const auto* x = root.if_contains("limits")) parse_limits(*x, cfg.lim);
  auto c = std::make_shared<credentials>();
  parse_credentials(root, *c);
  cfg.creds = std::move(c);
}

std::shared_ptr<const credentials> credentials_from_json(std::string_view text) {
  auto root = parse_root(text);
  auto c = std::make_shared<credentials>();
  parse_credentials(root, *c);
  return c;
}

reload_outcome guarded_reload(const std::function<std::shared_ptr<const credentials>()>& load) {
  reload_outcome out;
  try {
    out.creds = load();
    if (!out.creds) out.problem = "no credentials were loaded";
  } catch (const config_error& e) {
    out.problem = e.what();
  } catch (const std::bad_alloc&) {
    out.problem = "out of memory while reading the configuration";
  } catch (const std::exception& e) {
    out.problem = std::string("unexpected error while reading the configuration: ") + e.what();
  } catch (...) {
    out.problem = "unexpected error while reading the configuration";
  }
  if (!out.problem.empty()) out.creds.reset();
  return out;
}

config load_config(const cli_options& cli) {
  config cfg;
  if (cli.config_file) {
    cfg.config_file = *cli.config_file;
    auto text = vellum::read_file(*cli.config_file);
    if (!text) throw config_error("--config " + *cli.config_file + ": cannot be read");
    apply_config_json(*text, cfg);
  }
  if (cli.listen) parse_listen(*cli.listen, "--listen", cfg.listen_host, cfg.listen_port);
  if (cli.data_dir) {
    if (cli.data_dir->empty()) throw config_error("--data: must not be empty");
    cfg.data_dir = *cli.data_dir;
  }
  if (cli.origin) {
    if (cli.origin->empty()) throw config_error("--origin: must not be empty");
    cfg.origin = *cli.origin;
  }
  if (cfg.threads == 0) cfg.threads = std::max(1u, std::thread::hardware_concurrency());
  if (!is_loopback_host(cfg.listen_host) && !cfg.tls.enabled() && !cfg.allow_plain_http_on_non_loopback)
    throw config_error("listen: plain HTTP on the non-loopback address " + cfg.listen_host +
                       " is refused; configure tls or set allow_plain_http_on_non_loopback");
  return cfg;
}

bool setup_demo_mode(config& cfg) {
  if (!cfg.config_file.empty() || !is_loopback_host(cfg.listen_host)) return false;
  namespace fs = std::filesystem;
  auto priv_path = (fs::path(cfg.data_dir) / "demo-submitter.pem").string();
  auto pub_path = (fs::path(cfg.data_dir) / "demo-submitter.pub.pem").string();
  std::error_code ec;
  // Demo mode writes a key into the data directory and opens reads: only on
  // a directory it made itself, or on a new, empty one; never on a real log.
  if (fs::exists(cfg.data_dir, ec) && !fs::exists(priv_path, ec) && !fs::is_empty(cfg.data_dir, ec))
    throw config_error("--data " + cfg.data_dir +
                       " holds a ledger that demo mode did not create; start vellumd with "
                       "--config FILE for it (docs/configuration.md), or give demo mode a new --data directory");
  fs::create_directories(cfg.data_dir, ec);
  if (ec) throw config_error("--data " + cfg.data_dir + ": cannot be created: " + ec.message());
  std::optional<crypto::private_key> key;
  if (fs::exists(priv_path)) {
    auto text = vellum::read_file(priv_path);
    if (!text) throw config_error(priv_path + ": cannot be read");
    auto k = crypto::private_key::from_pem(*text);
    if (!k) throw config_error(priv_path + ": not a private key: " + k.error().message());
    key = *k;
  } else {
    auto k = crypto::private_key::generate(crypto::key_type::ed25519);
    if (!k) throw config_error("demo key: generation failed: " + k.error().message());
    if (!vellum::write_file_atomic(priv_path, k->to_pem(), 0600))
      throw config_error(priv_path + ": cannot be written");
    key = *k;
  }
  if (!fs::exists(pub_path) && !vellum::write_file_atomic(pub_path, key->public_key().to_pem(), 0644))
    throw config_error(pub_path + ": cannot be written");
  auto c = std::make_shared<credentials>(*cfg.creds);
  c->submitters.emplace_back("demo", key->public_key(), std::vector<std::string>{""});
  c->open_reads = true;
  cfg.creds = std::move(c);
  cfg.demo = true;
  return true;
}

std::string demo_warning(const config& cfg, std::uint16_t port) {
  namespace fs = std::filesystem;
  auto priv_path = (fs::path(cfg.data_dir) / "demo-submitter.pem").string();
  std::string host = cfg.listen_host.find(':') != std::string::npos ? "[" + cfg.listen_host + "]" : cfg.listen_host;
  std::string url = "http://" + host + ":" + std::to_string(port);
  std::string server_flag = port == 8080 && host == "127.0.0.1" ? "" : " --server " + url;
  return "warning: demo mode (no --config, loopback address): submitter \"demo\" may append to every\n"
         "  stream with the key " + priv_path + ", and reads need no token.\n"
         "  Never use demo mode for real records; write a configuration (docs/configuration.md).\n"
         "  submit:  vellum submit" + server_flag + " --key " + priv_path + " --kid demo EVENT.json --save receipt.json\n"
         "  verify:  vellum-verify receipt --log-key \"$(vellum log" + server_flag + " --verifier-key)\" receipt.json\n"
         "  read:    curl -s " + url + "/v1/log/events\n";
}

}  // namespace vellum::server
