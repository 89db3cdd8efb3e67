// vellumd: the Vellum ledger server (docs/configuration.md, docs/cli.md). Prints exactly one "verifier key: <vkey>" line
// and then "listening on <url>" on stdout; everything else goes to stderr.

#include "base/exit_codes.hpp"
#include "server/config.hpp"
#include "server/http.hpp"

#include <vellum/version.hpp>

#include <csignal>
#include <cstdio>
#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace vellum::server;
  std::signal(SIGPIPE, SIG_IGN);
  try {
    auto cli = parse_command_line(argc, argv);
    if (cli.help) {
      std::cout << usage_text();
      return vellum::exit_code::ok;
    }
    if (cli.version) {
      std::cout << "vellumd " << vellum::version << "\n";
      return vellum::exit_code::ok;
    }
    auto cfg = load_config(cli);
    const bool demo = setup_demo_mode(cfg);
    auto demo_cfg = cfg;
    auto server = http_server::create(std::move(cfg), true);
    std::cout << "verifier key: " << server->verifier_key() << "\n";
    std::string host = demo_cfg.listen_host.find(':') != std::string::npos ? "[" + demo_cfg.listen_host + "]"
                                                                            : demo_cfg.listen_host;
    std::cout << "listening on " << (server->tls() ? "https://" : "http://") << host << ":" << server->port()
              << "\n"
              << std::flush;
    if (demo) std::cerr << demo_warning(demo_cfg, server->port()) << std::flush;
    server->run();
    return vellum::exit_code::ok;
  } catch (const config_error& e) {  // the command line or configuration (docs/cli.md, "Exit codes")
    std::cerr << "vellumd: " << e.what() << "\n";
    return vellum::exit_code::usage;
  } catch (const std::exception& e) {  // the ledger cannot be opened or served
    std::cerr << "vellumd: " << e.what() << "\n";
    return vellum::exit_code::failed;
  }
}
