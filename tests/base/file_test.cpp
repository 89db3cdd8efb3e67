// Whole-file reads and crash-safe writes (base/file.hpp).

#include "base/file.hpp"

#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

#include <sys/stat.h>

using namespace vellum;

BOOST_AUTO_TEST_SUITE(files)

BOOST_AUTO_TEST_CASE(writes_files_atomically_with_the_given_mode) {
  test::temp_dir dir;
  const std::string path = dir.str() + "/log.key";
  BOOST_TEST(write_file_atomic(path, "first", 0600).has_value());
  BOOST_TEST(write_file_atomic(path, "second", 0600).has_value());
  auto text = read_file(path);
  BOOST_TEST_REQUIRE(text.has_value());
  BOOST_TEST(*text == "second");
  struct stat st {};
  BOOST_TEST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(write_file_atomic(dir.str() + "/pub.pem", "k", 0644).has_value());
  BOOST_TEST_REQUIRE(::stat((dir.str() + "/pub.pem").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0644u);
  // No temporary files are left behind.
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  BOOST_TEST(files == 2u);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_named_and_said_to_be_missing) {
  test::temp_dir dir;
  const std::string missing = dir.str() + "/missing.json";
  auto r = read_file(missing);
  BOOST_TEST_REQUIRE(r.has_error());
  BOOST_TEST((r.error() == boost::system::errc::no_such_file_or_directory));
  BOOST_TEST(r.error().message().find(missing) != std::string::npos);
  BOOST_TEST(r.error().message().find("No such file or directory") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_write_into_a_missing_directory_fails_and_leaves_nothing) {
  test::temp_dir dir;
  auto w = write_file_atomic(dir.str() + "/no/such/dir/file", "x", 0600);
  BOOST_TEST_REQUIRE(w.has_error());
  BOOST_TEST((w.error() == boost::system::errc::no_such_file_or_directory));
  BOOST_TEST(w.error().message().find("/no/such/dir/file") != std::string::npos);
  BOOST_TEST(std::filesystem::is_empty(dir.path()));
}

BOOST_AUTO_TEST_CASE(fsyncs_an_existing_directory_and_names_a_missing_one) {
  test::temp_dir dir;
  BOOST_TEST(fsync_directory(dir.str()).has_value());
  auto r = fsync_directory(dir.str() + "/gone");
  BOOST_TEST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().message().find("/gone") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
