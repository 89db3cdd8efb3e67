// The sealed-export reader (verifier/bundle.hpp), as a regulator runs it on a
// file from anywhere. The log key is taken from the bundle's own header
// line when it is a valid verifier key (so that mutated seeds get past the
// checkpoint and into the events), else a fixed one. Promises: the reader
// never throws, a verified bundle has no failures and reached its end, and
// the tallies stay within what was read.

#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "fuzz/fuzz_target.hpp"
#include "verifier/bundle.hpp"

#include <boost/json/parse.hpp>

#include <sstream>

namespace {

vellum::crypto::note_verifier log_key_for(std::string_view text) {
  using namespace vellum;
  const std::string_view first = text.substr(0, text.find('\n'));
  boost::system::error_code ec;
  const auto header = boost::json::parse(first, ec);
  if (!ec && header.is_object()) {
    if (const auto* k = header.get_object().if_contains("log_key"); k && k->is_string()) {
      if (auto v = crypto::note_verifier::from_vkey(k->get_string())) return *v;
    }
  }
  static const crypto::note_verifier fallback = [] {
    std::array<std::uint8_t, 32> seed{};
    seed.fill(7);
    auto key = crypto::private_key::from_ed25519_seed(seed);
    if (!key) std::abort();
    return crypto::note_verifier::from_key("vellum.localhost/log", key->public_key());
  }();
  return fallback;
}

}  // namespace

VELLUM_FUZZ_TARGET(bundle) {
  using namespace vellum;
  const std::string_view text = fuzz::as_text(data, size);
  std::istringstream in{std::string(text)};
  verifier::bundle_options opts;
  opts.threads = 1;  // libFuzzer wants the work on its own thread
  opts.max_failures = 16;
  const auto report = verifier::verify_bundle(in, log_key_for(text), opts);
  if (report.verified()) {
    VELLUM_FUZZ_CHECK(report.failures.empty());
    VELLUM_FUZZ_CHECK(report.anchored);
  }
  VELLUM_FUZZ_CHECK(report.failures.size() <= opts.max_failures);
  VELLUM_FUZZ_CHECK(report.failures.size() <= report.failure_count);
  VELLUM_FUZZ_CHECK(report.bytes <= size);
  VELLUM_FUZZ_CHECK(report.erased <= report.events && report.events <= report.lines);
  return 0;
}
