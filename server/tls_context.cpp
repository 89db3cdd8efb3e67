// The server's TLS context (see tls_context.hpp).

#include "server/tls_context.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace vellum::server {

namespace ssl = boost::asio::ssl;

namespace {

int note_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string text_of(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

// The verification of one certificate of the client's chain: OpenSSL's
// verdict (chain, dates, CRL), then for the client's own certificate
// (depth 0) the allowlist. Notes what it saw for the failed-handshake log.
bool verify_client(const std::vector<std::string>& allow, bool preverified, ssl::verify_context& vc) {
  X509_STORE_CTX* sctx = vc.native_handle();
  if (X509_STORE_CTX_get_error_depth(sctx) != 0) return preverified;
  X509* cert = X509_STORE_CTX_get_current_cert(sctx);
  auto* s = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* note = s ? static_cast<handshake_note*>(SSL_get_ex_data(s, note_index())) : nullptr;
  if (note && cert) note->subject = certificate_subject(cert);
  if (!preverified || !cert) return preverified;
  if (client_allowed(certificate_names(cert), allow)) return true;
  if (note) note->refusal = "no name of it is in tls.client_allow";
  X509_STORE_CTX_set_error(sctx, X509_V_ERR_APPLICATION_VERIFICATION);
  return false;
}

}  // namespace

std::vector<std::string> certificate_names(X509* cert) {
  std::vector<std::string> out;
  const X509_NAME* subject = X509_get_subject_name(cert);
  for (int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(subject, NID_commonName, i))
    out.push_back("cn:" + text_of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i))));
  std::unique_ptr<GENERAL_NAMES, decltype(&GENERAL_NAMES_free)> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)), GENERAL_NAMES_free);
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
    if (g->type == GEN_DNS) out.push_back("dns:" + text_of(g->d.dNSName));
    if (g->type == GEN_EMAIL) out.push_back("email:" + text_of(g->d.rfc822Name));
    if (g->type == GEN_URI) out.push_back("uri:" + text_of(g->d.uniformResourceIdentifier));
  }
  return out;
}

bool client_allowed(const std::vector<std::string>& names, const std::vector<std::string>& allow) {
  if (allow.empty()) return true;
  auto same = [](const std::string& a, const std::string& b) {
    return a.starts_with("dns:") && b.starts_with("dns:") ? lower(a) == lower(b) : a == b;
  };
  return std::any_of(allow.begin(), allow.end(), [&](const std::string& a) {
    return std::any_of(names.begin(), names.end(), [&](const std::string& n) { return same(a, n); });
  });
}

std::string certificate_subject(X509* cert) {
  char line[512];
  if (!X509_NAME_oneline(X509_get_subject_name(cert), line, sizeof line)) return "?";
  return line;
}

void attach_handshake_note(SSL* ssl, handshake_note* note) { SSL_set_ex_data(ssl, note_index(), note); }

ssl::context make_tls_context(const tls_config& t) {
  ssl::context ctx(ssl::context::tls_server);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION) != 1)
    throw config_error("tls: cannot restrict to TLS 1.2 and 1.3");
  if (SSL_CTX_set_cipher_list(ctx.native_handle(), t.ciphers.c_str()) != 1)
    throw config_error("tls.ciphers: no cipher OpenSSL knows in \"" + t.ciphers + "\"");
  if (SSL_CTX_set_ciphersuites(ctx.native_handle(), t.ciphersuites.c_str()) != 1)
    throw config_error("tls.ciphersuites: no TLS 1.3 suite OpenSSL knows in \"" + t.ciphersuites + "\"");
  // The client's order is not the server's business; the server's list is.
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Sessions resume with mutual TLS too (OpenSSL refuses to resume a
  // verified session without a session id context).
  static constexpr unsigned char session_context[] = "vellumd";
  SSL_CTX_set_session_id_context(ctx.native_handle(), session_context, sizeof session_context - 1);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(t.cert_file, ec);
  if (ec) throw config_error("tls.cert_file: cannot load " + t.cert_file + ": " + ec.message());
  ctx.use_private_key_file(t.key_file, ssl::context::pem, ec);
  if (ec) throw config_error("tls.key_file: cannot load " + t.key_file + ": " + ec.message());
  if (!t.client_ca_file.empty()) {
    ctx.load_verify_file(t.client_ca_file, ec);
    if (ec) throw config_error("tls.client_ca_file: cannot load " + t.client_ca_file + ": " + ec.message());
    if (!t.crl_file.empty()) {
      X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
      X509_LOOKUP* lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());
      if (!lookup || X509_load_crl_file(lookup, t.crl_file.c_str(), X509_FILETYPE_PEM) <= 0)
        throw config_error("tls.crl_file: cannot load " + t.crl_file + ": not a readable PEM file of CRLs");
      X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    }
    auto mode = ssl::verify_peer;
    if (t.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx.set_verify_mode(mode);
    ctx.set_verify_callback([allow = t.client_allow](bool preverified, ssl::verify_context& vc) {
      return verify_client(allow, preverified, vc);
    });
  }
  return ctx;
}

}  // namespace vellum::server
