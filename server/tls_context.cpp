// The server's TLS context (see tls_context.hpp).

#include "server/tls_context.hpp"

#include <openssl/ssl.h>

namespace vellum::server {

namespace ssl = boost::asio::ssl;

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
    auto mode = ssl::verify_peer;
    if (t.require_client_cert) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx.set_verify_mode(mode);
  }
  return ctx;
}

}  // namespace vellum::server
