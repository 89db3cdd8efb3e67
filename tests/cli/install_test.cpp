// Installing: `cmake --install` puts the three programs, the example
// configuration, a systemd unit and the docs where an operator looks for
// them, and `cpack -G DEB` makes a Debian package of the same.

#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>

using namespace vellum;

BOOST_AUTO_TEST_SUITE(install)

BOOST_AUTO_TEST_CASE(cmake_install_places_programs_config_unit_and_docs) {
  test::temp_dir dir;
  const auto prefix = dir.path() / "prefix";
  auto r = test::run_command("cmake --install " + std::string(VELLUM_BINARY_DIR) + " --prefix " + prefix.string() +
                             " 2>&1");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  for (const char* f : {"bin/vellumd", "bin/vellum", "bin/vellum-verify", "share/vellum/vellumd.example.json",
                        "lib/systemd/system/vellumd.service", "share/doc/vellum/operations.md",
                        "share/doc/vellum/cli.md", "share/doc/vellum/openapi.yaml"})
    BOOST_TEST(std::filesystem::exists(prefix / f), f);
  BOOST_TEST(test::run_command((prefix / "bin/vellum").string() + " --version").out.starts_with("vellum "));
  const auto unit = test::read_text((prefix / "lib/systemd/system/vellumd.service").string());
  BOOST_TEST(unit.find("/vellumd --config /etc/vellum/vellumd.json") != std::string::npos, unit);
  BOOST_TEST(unit.find("ExecReload=/bin/kill -HUP $MAINPID") != std::string::npos, unit);
  BOOST_TEST(unit.find('@') == std::string::npos, unit);  // every placeholder substituted
}

BOOST_AUTO_TEST_CASE(cpack_makes_a_debian_package) {
  if (test::run_command("command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null && command -v cpack >/dev/null").exit_code != 0) {
    BOOST_TEST_MESSAGE("skipped: dpkg-deb, dpkg-shlibdeps (dpkg-dev) or cpack is not installed (scripts/deps installs them)");
    return;
  }
  test::temp_dir dir;
  auto r = test::run_command("cd " + std::string(VELLUM_BINARY_DIR) + " && cpack -G DEB -B " + dir.str() + " 2>&1");
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.out);
  std::string deb;
  for (const auto& e : std::filesystem::directory_iterator(dir.path()))
    if (e.path().extension() == ".deb") deb = e.path().string();
  BOOST_TEST_REQUIRE(!deb.empty(), r.out);
  auto contents = test::run_command("dpkg-deb -c " + deb);
  BOOST_TEST(contents.out.find("/bin/vellumd") != std::string::npos, contents.out);
  BOOST_TEST(contents.out.find("/lib/systemd/system/vellumd.service") != std::string::npos, contents.out);
  auto info = test::run_command("dpkg-deb -f " + deb + " Package Depends");
  BOOST_TEST(info.out.find("Package: vellum") != std::string::npos, info.out);
  BOOST_TEST(info.out.find("libssl3") != std::string::npos, info.out);  // shlibdeps found the libraries
}

BOOST_AUTO_TEST_SUITE_END()
