#pragma once
// The server's TLS settings: TLS 1.2 and 1.3 only, the certificate chain and
// key of tls_config, and client certificates checked against client_ca_file
// when one is given (mutual TLS; required with require_client_cert), against
// the CRLs of crl_file and the names of client_allow.

#include "server/config.hpp"

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <string>
#include <vector>

namespace vellum::server {

// Builds the server context from `t` (t.enabled() is expected). Start-up
// only: throws config_error naming the setting and the file that failed.
boost::asio::ssl::context make_tls_context(const tls_config& t);

// The names of `cert` that tls.client_allow entries match: "cn:…" for each
// common name of its subject, "dns:…", "email:…" and "uri:…" for each
// subjectAltName of those kinds.
std::vector<std::string> certificate_names(X509* cert);

// Whether a certificate with `names` is allowed by `allow` (empty: every
// one). Exact, except that DNS names compare without regard to case.
bool client_allowed(const std::vector<std::string>& names, const std::vector<std::string>& allow);

// `cert`'s subject as the access log records it ("/CN=ehr-client/O=…").
std::string certificate_subject(X509* cert);

// What a handshake learnt of the client's certificate, for the log line of a
// failed handshake: the subject of the certificate it presented (empty: none)
// and, when client_allow refused it, why.
struct handshake_note {
  std::string subject;
  std::string refusal;
};

// Lets the context's verification write into `note` for the handshake of
// `ssl`; `note` must outlive the handshake.
void attach_handshake_note(SSL* ssl, handshake_note* note);

}  // namespace vellum::server
