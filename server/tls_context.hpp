#pragma once
// The server's TLS settings: TLS 1.2 and 1.3 only, the certificate chain and
// key of tls_config, and client certificates checked against client_ca_file
// when one is given (mutual TLS; required with require_client_cert).

#include "server/config.hpp"

#include <boost/asio/ssl/context.hpp>

namespace vellum::server {

// Builds the server context from `t` (t.enabled() is expected). Start-up
// only: throws config_error naming the setting and the file that failed.
boost::asio::ssl::context make_tls_context(const tls_config& t);

}  // namespace vellum::server
