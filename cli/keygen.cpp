// vellum keygen: a submitter key pair and the configuration that registers it.
#include "base/file.hpp"
#include "cli/commands.hpp"
#include "crypto/keys.hpp"

#include <boost/json.hpp>

#include <filesystem>
#include <iostream>

namespace po = boost::program_options;

namespace vellum::cli {

namespace {

// A key id goes into JWS headers and leaf entries: printable ASCII, no spaces.
bool valid_kid(const std::string& kid) {
  if (kid.empty() || kid.size() > 255) return false;
  for (unsigned char c : kid)
    if (c < 0x21 || c > 0x7e) return false;
  return true;
}

}  // namespace

int cmd_keygen(int argc, char** argv) {
  po::options_description desc("keygen options");
  std::string kid, out_dir = ".";
  std::vector<std::string> streams;
  desc.add_options()("kid", po::value(&kid)->required(), "key id to register (e.g. ward-7-ehr)")(
      "p256", "make an ECDSA P-256 key (ES256) instead of Ed25519 (EdDSA)")(
      "out", po::value(&out_dir)->default_value("."), "directory for the key files")(
      "streams", po::value(&streams), "a stream prefix the key may write; repeat for several (default: all)");
  po::positional_options_description pos;
  pos.add("kid", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum keygen [--p256] [--out DIR] [--streams PREFIX]... KID\n\n"
                  "Writes KID.key.pem (private, mode 0600), KID.pub.pem and KID.jwk.json, and prints\n"
                  "the \"submitters\" entry that registers the key with vellumd."))
    return exit_ok;
  if (!valid_kid(kid)) throw cli_error("key id must be 1-255 printable ASCII characters without spaces");
  if (streams.empty()) streams.push_back("");

  namespace fs = std::filesystem;
  const fs::path dir(out_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw cli_error("cannot create " + out_dir + ": " + ec.message());
  const fs::path priv = dir / (kid + ".key.pem"), pub = dir / (kid + ".pub.pem"), jwk = dir / (kid + ".jwk.json");
  for (const auto& p : {priv, pub, jwk})
    if (fs::exists(p)) throw cli_error(p.string() + " exists already; not overwriting a key");

  const auto type = vm.count("p256") ? crypto::key_type::p256 : crypto::key_type::ed25519;
  auto key = crypto::private_key::generate(type);
  if (!key) throw cli_error("key generation failed: " + key.error().message());
  const std::string pub_pem = key->public_key().to_pem();
  const std::string jwk_text = boost::json::serialize(key->public_key().to_jwk()) + "\n";
  if (auto r = vellum::write_file_atomic(priv.string(), key->to_pem(), 0600); !r)
    throw cli_error("cannot write " + priv.string() + ": " + r.error().message());
  if (auto r = vellum::write_file_atomic(pub.string(), pub_pem, 0644); !r)
    throw cli_error("cannot write " + pub.string() + ": " + r.error().message());
  if (auto r = vellum::write_file_atomic(jwk.string(), jwk_text, 0644); !r)
    throw cli_error("cannot write " + jwk.string() + ": " + r.error().message());

  boost::json::array prefixes;
  for (const auto& s : streams) prefixes.emplace_back(s);
  boost::json::object entry{{"kid", kid}, {"public_key", pub_pem}, {"streams", std::move(prefixes)}};
  std::cout << "key id:      " << kid << " (" << crypto::to_string(type) << ", JWS alg "
            << (type == crypto::key_type::ed25519 ? "EdDSA" : "ES256") << ")\n"
            << "private key: " << priv.string() << " (keep it secret; mode 0600)\n"
            << "public key:  " << pub.string() << ", " << jwk.string() << "\n\n"
            << "Register it in vellumd's configuration under \"submitters\":\n"
            << boost::json::serialize(entry) << "\n";
  return exit_ok;
}

}  // namespace vellum::cli
