#pragma once
// One fuzz target, two builds (docs/reliability.md "Fuzzing"):
//  - with -DVELLUM_FUZZ=ON (clang, -fsanitize=fuzzer,address,undefined)
//    each tests/fuzz/fuzz_NAME.cpp is its own libFuzzer program, the body
//    below being LLVMFuzzerTestOneInput;
//  - in the ordinary build every target is compiled into vellum_fuzz_replay,
//    which runs each file of tests/fuzz/corpus/NAME/ through it as a
//    regression test (scripts/test, CTest "fuzz_replay").
//
// A target returns 0 and must not crash, leak, hang or trip a sanitizer on
// any input; where the parser promises something (a round trip, a bound)
// the target checks it with VELLUM_FUZZ_CHECK, which aborts under libFuzzer
// (a finding) and throws in the replay (a failed test that names the file).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vellum::fuzz {

using target_fn = int (*)(const std::uint8_t*, std::size_t);

// Records a target for the replay (defined there); returns true.
bool register_target(const char* name, target_fn fn);

// A broken promise: aborts under libFuzzer (check_abort.cpp), throws in the
// replay (replay_test.cpp).
[[noreturn]] void check_failed(const char* what, const char* file, int line);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace vellum::fuzz

#define VELLUM_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::vellum::fuzz::check_failed(#cond, __FILE__, __LINE__))

#ifdef VELLUM_LIBFUZZER
#define VELLUM_FUZZ_TARGET(name) \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#else
#define VELLUM_FUZZ_TARGET(name)                                                               \
  static int vellum_fuzz_##name(const std::uint8_t* data, std::size_t size);                   \
  [[maybe_unused]] static const bool vellum_fuzz_registered_##name =                           \
      ::vellum::fuzz::register_target(#name, &vellum_fuzz_##name);                             \
  static int vellum_fuzz_##name(const std::uint8_t* data, std::size_t size)
#endif
