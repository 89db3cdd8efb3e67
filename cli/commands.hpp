#pragma once
// The vellum CLI's subcommands. Each takes the arguments after its name
// (argv[0] is the command name) and returns the process exit status, from
// the one table of every Vellum program (base/exit_codes.hpp, docs/cli.md):
// 0 success, 1 the operation was refused or found a problem (a rejected
// event, an fsck finding), 2 usage or I/O errors, 3 not found, 4 the server
// is unreachable or refused the credentials.

#include "base/exit_codes.hpp"
#include "cli/http_client.hpp"
#include "crypto/checkpoint.hpp"

#include <boost/program_options.hpp>

#include <stdexcept>
#include <string>

namespace vellum::cli {

inline constexpr int exit_ok = exit_code::ok;
inline constexpr int exit_failed = exit_code::failed;
inline constexpr int exit_usage = exit_code::usage;
inline constexpr int exit_not_found = exit_code::not_found;
inline constexpr int exit_unavailable = exit_code::unavailable;

// A problem that ends the command: printed as "vellum CMD: message", and the
// process exits with `exit_status` (usage, unless said).
struct cli_error : std::runtime_error {
  explicit cli_error(const std::string& message, int status = exit_usage)
      : std::runtime_error(message), exit_status(status) {}
  int exit_status;
};

// The contents of the file at `path` ("-": standard input). A missing file
// is "PATH: not found" (exit 3); other failures say why (exit 2).
std::string read_input_file(const std::string& path);

// The server at `url` could not be reached (exit 4), naming it.
[[noreturn]] void fail_unreachable(const server_url& url, const vellum::status& why);

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
// Prints it, with what to do about a 401 or 403, and returns its exit status:
// 4 for 401/403 (credentials), 3 for 404, else 1.
[[nodiscard]] int http_failure(const std::string& what, const http_response& res);

int cmd_keygen(int argc, char** argv);
int cmd_submit(int argc, char** argv);
int cmd_read(int argc, char** argv);
int cmd_tail(int argc, char** argv);
int cmd_checkpoint(int argc, char** argv);
int cmd_proof(int argc, char** argv);
int cmd_log(int argc, char** argv);
int cmd_export(int argc, char** argv);
int cmd_analytics(int argc, char** argv);
int cmd_project(int argc, char** argv);
int cmd_fsck(int argc, char** argv);
int cmd_backup(int argc, char** argv);

}  // namespace vellum::cli
