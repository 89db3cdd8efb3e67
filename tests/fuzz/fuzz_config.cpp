// The configuration loader (server/config.hpp): vellumd's file, and the
// credentials a SIGHUP reload reads from it. Promises: bad input is a
// config_error naming a key path, never another exception or a crash; a
// reload accepts exactly the credentials a full load accepts.

#include "fuzz/fuzz_target.hpp"
#include "server/config.hpp"

VELLUM_FUZZ_TARGET(config) {
  using namespace vellum;
  const std::string_view text = fuzz::as_text(data, size);
  bool loaded = false;
  try {
    server::config cfg;
    server::apply_config_json(text, cfg);
    loaded = true;
  } catch (const server::config_error& e) {
    VELLUM_FUZZ_CHECK(std::string_view(e.what()).size() > 0);
  }
  bool reloaded = false;
  try {
    auto creds = server::credentials_from_json(text);
    VELLUM_FUZZ_CHECK(creds != nullptr);
    reloaded = true;
  } catch (const server::config_error& e) {
    VELLUM_FUZZ_CHECK(std::string_view(e.what()).size() > 0);
  }
  // Whatever a full load takes, a reload takes too (its credentials part).
  if (loaded) VELLUM_FUZZ_CHECK(reloaded);
  return 0;
}
