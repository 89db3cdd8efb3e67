// vellum: the client and admin command for hospital systems and operators.
#include "cli/commands.hpp"

#include <vellum/version.hpp>

#include <iostream>
#include <string_view>

using namespace vellum::cli;

namespace {

const char* usage_text =
    "usage: vellum <command> [options]\n"
    "\n"
    "Client and admin tool for the Vellum ledger.\n"
    "\n"
    "keys and events:\n"
    "  keygen      create a submitter key (Ed25519, or --p256) and its config snippet\n"
    "  submit      sign an event as JWS and append it; --batch FILE.ndjson for many\n"
    "reading:\n"
    "  read        read a stream (or --all: the global log) as NDJSON\n"
    "  tail        follow the log live (Server-Sent Events)\n"
    "  log         the log's origin, verifier key and size (--verifier-key: the key only)\n"
    "  checkpoint  fetch the latest signed checkpoint\n"
    "  proof       fetch an inclusion or consistency proof (for vellum-verify)\n"
    "  analytics   the log's events as CSV or NDJSON rows (who, what, when, why) for analysis\n"
    "  export      fetch a sealed export (stream, prefix, seq or time range) into a file\n"
    "              that vellum-verify bundle checks offline\n"
    "views:\n"
    "  project     keep a SQL view (SQLite, PostgreSQL) of the log current: run, rebuild, status, digest, verify\n"
    "administration (on the server's machine):\n"
    "  fsck DATA_DIR          re-derive and check every leaf, tile, index and the root\n"
    "  backup DATA_DIR DEST   consistent hot copy of a live data directory, verified\n"
    "\n"
    "Networked commands take --server URL (or VELLUM_SERVER, default http://127.0.0.1:8080)\n"
    "and --token (or VELLUM_TOKEN). 'vellum <command> --help' shows a command's options.\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << usage_text;
    return exit_usage;
  }
  const std::string_view cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage_text;
    return exit_ok;
  }
  if (cmd == "--version") {
    std::cout << "vellum " << vellum::version << "\n";
    return exit_ok;
  }
  struct entry {
    std::string_view name;
    int (*fn)(int, char**);
  };
  static constexpr entry commands[] = {{"keygen", cmd_keygen},         {"submit", cmd_submit},
                                       {"read", cmd_read},             {"tail", cmd_tail},
                                       {"checkpoint", cmd_checkpoint}, {"proof", cmd_proof},
                                       {"log", cmd_log},               {"export", cmd_export},
                                       {"analytics", cmd_analytics},   {"project", cmd_project},
                                       {"fsck", cmd_fsck},             {"backup", cmd_backup}};
  for (const auto& c : commands) {
    if (c.name != cmd) continue;
    try {
      return c.fn(argc - 1, argv + 1);
    } catch (const cli_error& e) {
      std::cerr << "vellum " << cmd << ": " << e.what() << "\n";
      return e.exit_status;
    } catch (const boost::program_options::error& e) {
      std::cerr << "vellum " << cmd << ": " << e.what() << " (see vellum " << cmd << " --help)\n";
      return exit_usage;
    }
  }
  std::cerr << "vellum: unknown command \"" << cmd << "\"\n\n" << usage_text;
  return exit_usage;
}
