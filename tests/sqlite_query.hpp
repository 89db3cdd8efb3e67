#pragma once
// Reading a SQLite view file in tests: the first column of the first row of
// a query, opened read-only (with a busy timeout, for a file a runner writes).

#include <boost/test/unit_test.hpp>

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace vellum::test {

inline std::int64_t sqlite_scalar(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE_EQUAL(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt* st = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK, sqlite3_errmsg(db));
  BOOST_REQUIRE_EQUAL(sqlite3_step(st), SQLITE_ROW);
  const auto v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return v;
}

}  // namespace vellum::test
