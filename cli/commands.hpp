#pragma once
// The vellum CLI's subcommands. Each takes the arguments after its name
// (argv[0] is the command name) and returns the process exit status:
// 0 success, 1 the operation was refused or found a problem (a rejected
// event, an fsck finding), 2 usage or I/O errors.

#include "cli/http_client.hpp"
#include "crypto/checkpoint.hpp"

#include <boost/program_options.hpp>

#include <stdexcept>
#include <string>

namespace vellum::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

// A usage or environment problem: printed as "vellum CMD: message", exit 2.
struct cli_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --server, --token and the TLS options, shared by every networked command.
struct connection_options {
  std::string server;
  std::string token;
  tls_options tls;

  // Adds the options to `desc`; defaults come from VELLUM_SERVER / VELLUM_TOKEN.
  void add_to(boost::program_options::options_description& desc);
  http_client connect() const;
};

// Parses argv with desc (+ --help); returns false after printing help.
bool parse_args(int argc, char** argv, boost::program_options::options_description& desc,
                const boost::program_options::positional_options_description& pos,
                boost::program_options::variables_map& vm, const std::string& synopsis);

// Percent-encodes a URL path segment or query value (RFC 3986: only
// unreserved characters stay as they are).
std::string percent_encode(std::string_view s);

// The checkpoint body of a signed note (the text before the blank line),
// parsed; signatures are not checked here (that is vellum-verify's job).
// Throws cli_error naming `what` if it does not parse.
crypto::checkpoint checkpoint_of_note(std::string_view note, const std::string& what);

// Prints an HTTP error response ({"error":{code,message}}) to stderr.
void print_http_error(const std::string& what, const http_response& res);

int cmd_keygen(int argc, char** argv);
int cmd_submit(int argc, char** argv);
int cmd_read(int argc, char** argv);
int cmd_tail(int argc, char** argv);
int cmd_checkpoint(int argc, char** argv);
int cmd_proof(int argc, char** argv);
int cmd_log(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_fsck(int argc, char** argv);
int cmd_backup(int argc, char** argv);

}  // namespace vellum::cli
