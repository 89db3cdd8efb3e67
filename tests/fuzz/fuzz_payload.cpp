// The statement payload rules (server/validation.hpp, validate_payload):
// what the payload of a correctly signed JWS must be. The first byte picks
// whether the log binding is required; the rest is the payload. Promises:
// an accepted payload has a canonical event id and a valid stream name, and
// is accepted again the same way (the check is a pure function).

#include "fuzz/fuzz_target.hpp"
#include "server/validation.hpp"

VELLUM_FUZZ_TARGET(payload) {
  using namespace vellum;
  if (size == 0) return 0;
  const bool require_log = (data[0] & 1) != 0;
  const std::string_view payload = fuzz::as_text(data + 1, size - 1);
  constexpr std::string_view origin = "vellum.localhost/log";
  auto st = server::validate_payload(payload, origin, require_log);
  if (st) {
    VELLUM_FUZZ_CHECK(server::is_canonical_uuid(st->event_id));
    VELLUM_FUZZ_CHECK(server::is_valid_stream(st->stream));
    auto again = server::validate_payload(payload, origin, require_log);
    VELLUM_FUZZ_CHECK(again && again->event_id == st->event_id && again->stream == st->stream);
    // Without the requirement, a payload accepted with it is still accepted.
    if (require_log) VELLUM_FUZZ_CHECK(server::validate_payload(payload, origin, false).has_value());
  }
  return 0;
}
