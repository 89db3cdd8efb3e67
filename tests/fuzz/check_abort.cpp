// VELLUM_FUZZ_CHECK under libFuzzer: a broken promise is a finding, so say
// which and abort (libFuzzer then saves the input as crash-*).

#include "fuzz/fuzz_target.hpp"

#include <cstdio>
#include <cstdlib>

[[noreturn]] void vellum::fuzz::check_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: VELLUM_FUZZ_CHECK(%s) failed\n", file, line, what);
  std::abort();
}
