// The compact JWS parser (crypto/jws.hpp), as every submitted statement
// meets it first. Promises checked: a parsed token's signing input is the
// input up to its last '.', its alg is one Vellum accepts or it is refused
// by jws_verify, and jws_payload_object agrees with jws_parse on what parses.

#include "crypto/jws.hpp"
#include "fuzz/fuzz_target.hpp"

VELLUM_FUZZ_TARGET(jws) {
  using namespace vellum;
  const std::string_view text = fuzz::as_text(data, size);
  auto token = crypto::jws_parse(text);
  if (token) {
    VELLUM_FUZZ_CHECK(token->compact == text);
    VELLUM_FUZZ_CHECK(token->signing_input == crypto::jws_signing_input(text));
    VELLUM_FUZZ_CHECK(token->signing_input.size() < text.size());
    // A copy keeps its signing input pointing into its own compact form.
    const crypto::jws copy = *token;
    VELLUM_FUZZ_CHECK(copy.signing_input == token->signing_input);
    VELLUM_FUZZ_CHECK(copy.signing_input.data() >= copy.compact.data() &&
                      copy.signing_input.data() + copy.signing_input.size() <=
                          copy.compact.data() + copy.compact.size());
  }
  auto payload = crypto::jws_payload_object(text);
  if (payload) VELLUM_FUZZ_CHECK(token.has_value());
  return 0;
}
