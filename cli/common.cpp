#include "cli/commands.hpp"

#include "base/file.hpp"

#include "crypto/note.hpp"

#include <boost/json.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>

namespace po = boost::program_options;

namespace vellum::cli {

void connection_options::add_to(po::options_description& desc) {
  const char* env_server = std::getenv("VELLUM_SERVER");
  const char* env_token = std::getenv("VELLUM_TOKEN");
  desc.add_options()("server", po::value(&server)->default_value(env_server ? env_server : "http://127.0.0.1:8080"),
                     "server URL (env VELLUM_SERVER)")(
      "token", po::value(&token)->default_value(env_token ? env_token : "", ""),
      "bearer token for reads (env VELLUM_TOKEN)")("cacert", po::value(&tls.ca_file),
                                                   "trust this CA bundle for https")(
      "cert", po::value(&tls.cert_file), "client certificate (mutual TLS)")(
      "cert-key", po::value(&tls.key_file), "client certificate's private key")(
      "insecure", po::bool_switch(&tls.insecure), "do not verify the server certificate (testing only)");
}

http_client connection_options::connect() const {
  auto url = parse_server_url(server);
  if (!url) throw cli_error("--server " + server + ": " + url.error().message());
  return http_client(*url, tls, token);
}

bool parse_args(int argc, char** argv, po::options_description& desc,
                const po::positional_options_description& pos, po::variables_map& vm,
                const std::string& synopsis) {
  desc.add_options()("help,h", "show this help");
  po::store(po::command_line_parser(argc, argv).options(desc).positional(pos).run(), vm);
  if (vm.count("help")) {
    std::cout << synopsis << "\n\n" << desc << "\n";
    return false;
  }
  po::notify(vm);
  return true;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

crypto::checkpoint checkpoint_of_note(std::string_view note, const std::string& what) {
  const auto parts = crypto::split_note(note);
  auto body = crypto::parse_checkpoint(parts ? parts->text : note);
  if (!body) throw cli_error(what + " is not a checkpoint: " + body.error().message());
  return *body;
}

std::string read_input_file(const std::string& path) {
  if (path == "-") return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  auto text = vellum::read_file(path);
  if (!text && text.error() == boost::system::errc::no_such_file_or_directory)
    throw cli_error(path + ": not found", exit_not_found);
  if (!text) throw cli_error(text.error().message());
  return std::move(*text);
}

void fail_unreachable(const server_url& url, const vellum::status& why) {
  throw cli_error("cannot reach the server at " + to_string(url) + ": " + why.message() +
                      " (is vellumd running there? --server or VELLUM_SERVER)",
                  exit_unavailable);
}

int http_failure(const std::string& what, const http_response& res) {
  print_http_error(what, res);
  if (res.status == 401) {
    std::cerr << "  reads need a bearer token: pass --token TOKEN (or set VELLUM_TOKEN), or a client "
                 "certificate (--cert, --cert-key)\n";
    return exit_unavailable;
  }
  if (res.status == 403) {
    std::cerr << "  the token's role is not enough for this (see above); use a token of that role\n";
    return exit_unavailable;
  }
  return res.status == 404 ? exit_not_found : exit_failed;
}

void print_http_error(const std::string& what, const http_response& res) {
  boost::system::error_code ec;
  auto v = boost::json::parse(res.body, ec);
  if (!ec && v.is_object()) {
    if (auto* err = v.get_object().if_contains("error"); err && err->is_object()) {
      const auto& e = err->get_object();
      std::cerr << what << ": HTTP " << res.status;
      if (auto* c = e.if_contains("code"); c && c->is_string()) std::cerr << " " << c->get_string().c_str();
      if (auto* m = e.if_contains("message"); m && m->is_string()) std::cerr << ": " << m->get_string().c_str();
      // Extra members (current_revision, ...) help the user act on the error.
      for (const auto& kv : e)
        if (kv.key() != "code" && kv.key() != "message")
          std::cerr << " (" << std::string_view(kv.key()) << ": " << boost::json::serialize(kv.value()) << ")";
      std::cerr << "\n";
      return;
    }
  }
  std::cerr << what << ": HTTP " << res.status << " " << res.body.substr(0, 500) << "\n";
}

}  // namespace vellum::cli
