#pragma once
// A throwaway PostgreSQL 15 cluster for a test: initdb and pg_ctl on a
// temporary directory, listening on 127.0.0.1 at a free port, trust
// authentication, stopped (immediate) and removed at the end, pass or fail.
// As root the server runs as the `postgres` user (it refuses root), which
// the postgresql-15 package creates; scripts/test installs it.

#include "test_util.hpp"

#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace vellum::test {

// A port nothing listens on now (the kernel's choice for port 0).
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  BOOST_REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE_EQUAL(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

class pg_cluster {
 public:
  pg_cluster() {
    const std::string bin = "/usr/lib/postgresql/15/bin";
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(bin + "/initdb"),
                          "PostgreSQL 15 is not installed (scripts/test installs postgresql-15)");
    as_pg_ = ::geteuid() == 0 ? "runuser -u postgres -- " : "";
    if (::geteuid() == 0) run_command("chown postgres: " + dir_.str() + " && chmod 0755 " + dir_.str());
    port_ = free_loopback_port();
    data_ = dir_.str() + "/data";
    auto init = run_command(as_pg_ + bin + "/initdb -D " + data_ + " -U postgres -A trust -E UTF8 --locale=C.UTF-8 " +
                            "--no-instructions > " + dir_.str() + "/initdb.log 2>&1; echo $?");
    BOOST_REQUIRE_MESSAGE(init.out == "0\n", "initdb failed: " << read_text(dir_.str() + "/initdb.log"));
    auto start = run_command(as_pg_ + bin + "/pg_ctl -D " + data_ + " -l " + dir_.str() + "/server.log -w -t 60 -o \"" +
                             "-c listen_addresses=127.0.0.1 -p " + std::to_string(port_) + " -k " + dir_.str() +
                             " -c fsync=off\" start > /dev/null 2>&1; echo $?");
    BOOST_REQUIRE_MESSAGE(start.out == "0\n", "pg_ctl start failed: " << read_text(dir_.str() + "/server.log"));
    started_ = true;
    stop_cmd_ = as_pg_ + bin + "/pg_ctl -D " + data_ + " -m immediate -w stop > /dev/null 2>&1";
  }
  ~pg_cluster() {
    if (started_) run_command(stop_cmd_);
  }
  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  // A new, empty database and its libpq URI.
  std::string create_database(const std::string& name) {
    sql("postgres", "CREATE DATABASE " + name);
    return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

  // Runs one statement (no single quotes in it) in database `db`; its output.
  std::string sql(const std::string& db, const std::string& statement) {
    auto r = run_command(as_pg_ + "/usr/lib/postgresql/15/bin/psql -X -q -At -h 127.0.0.1 -p " + std::to_string(port_) +
                         " -U postgres -d " + db + " -c '" + statement + "' 2>&1; echo \"exit $?\"");
    BOOST_REQUIRE_MESSAGE(r.out.ends_with("exit 0\n"), statement << ": " << r.out);
    return r.out.substr(0, r.out.size() - 7);
  }

 private:
  temp_dir dir_;
  std::string as_pg_, data_, stop_cmd_;
  int port_ = 0;
  bool started_ = false;
};

}  // namespace vellum::test
