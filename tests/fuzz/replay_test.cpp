// Replays every seed and every saved finding of tests/fuzz/corpus/NAME/
// through the fuzz target NAME (tests/fuzz/fuzz_NAME.cpp), so that a crash
// found once stays fixed and each target keeps running in the ordinary build.
// Under the sanitizer build (VELLUM_SANITIZE) this is the ASan/UBSan replay.

#include "fuzz/fuzz_target.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace vellum::fuzz {
namespace {

std::map<std::string, target_fn>& targets() {
  static std::map<std::string, target_fn> t;
  return t;
}

struct broken_promise : std::logic_error {
  using std::logic_error::logic_error;
};

}  // namespace

bool register_target(const char* name, target_fn fn) {
  targets().emplace(name, fn);
  return true;
}

[[noreturn]] void check_failed(const char* what, const char* file, int line) {
  throw broken_promise(std::string(file) + ":" + std::to_string(line) + ": VELLUM_FUZZ_CHECK(" + what +
                       ") failed");
}

}  // namespace vellum::fuzz

namespace {

const fs::path corpus_root = fs::path(VELLUM_SOURCE_DIR) / "tests" / "fuzz" / "corpus";

std::vector<std::uint8_t> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fuzz_replay)

// Every target has a corpus of its own, and every corpus a target: a new
// target without seeds, or seeds left behind by a renamed target, fail here.
BOOST_AUTO_TEST_CASE(each_target_has_a_seed_corpus) {
  const auto& t = vellum::fuzz::targets();
  BOOST_TEST(t.size() >= 7u);
  for (const auto& [name, fn] : t) {
    const fs::path dir = corpus_root / name;
    BOOST_TEST_CONTEXT("target " << name) {
      BOOST_TEST_REQUIRE(fs::is_directory(dir));
      BOOST_TEST(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) > 0);
    }
  }
  for (const auto& e : fs::directory_iterator(corpus_root)) {
    BOOST_TEST_CONTEXT("corpus " << e.path().filename()) {
      BOOST_TEST(t.count(e.path().filename().string()) == 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_corpus_file_runs_clean) {
  std::size_t files = 0;
  for (const auto& [name, fn] : vellum::fuzz::targets()) {
    const fs::path dir = corpus_root / name;
    if (!fs::is_directory(dir)) continue;
    std::vector<fs::path> inputs;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) inputs.push_back(e.path());
    std::sort(inputs.begin(), inputs.end());
    for (const auto& p : inputs) {
      const auto data = read_file(p);
      BOOST_TEST_CONTEXT(name << ": " << p.filename()) {
        BOOST_CHECK_NO_THROW(fn(data.data(), data.size()));
      }
      ++files;
    }
  }
  BOOST_TEST_MESSAGE("replayed " << files << " corpus files");
  BOOST_TEST(files > 0u);
}

// The harness itself: a broken promise is reported, not swallowed.
BOOST_AUTO_TEST_CASE(a_failed_check_is_reported) {
  BOOST_CHECK_THROW(VELLUM_FUZZ_CHECK(1 + 1 == 3), std::logic_error);
  BOOST_CHECK_NO_THROW(VELLUM_FUZZ_CHECK(1 + 1 == 2));
}

BOOST_AUTO_TEST_SUITE_END()
