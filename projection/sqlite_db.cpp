// The SQLite view database (view_db.hpp): one file, WAL mode, prepared
// statements cached by their SQL text.

#include "projection/view_db.hpp"

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

#include <boost/json.hpp>

#include <sqlite3.h>

#include "base/file.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <map>

namespace vellum::projection {
namespace {

namespace json = boost::json;
using boost::system::errc::make_error_code;

status db_error(sqlite3* db, std::string_view what) {
  return status(make_error_code(boost::system::errc::io_error),
                std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "cannot allocate a connection"));
}

class sqlite_db final : public view_db {
 public:
  explicit sqlite_db(sqlite3* db) : db_(db) {}
  ~sqlite_db() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }
  sqlite_db(const sqlite_db&) = delete;
  sqlite_db& operator=(const sqlite_db&) = delete;

  dialect kind() const override { return dialect::sqlite; }

  result<void> exec(std::string_view sql) override {
    char* err = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string message = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      return status(make_error_code(boost::system::errc::io_error), message);
    }
    return {};
  }

  result<void> run(const translated& t, const std::vector<value>& values) override {
    return execute(t, values, nullptr);
  }

  result<std::vector<std::vector<value>>> query(const translated& t, const std::vector<value>& values) override {
    std::vector<std::vector<value>> rows;
    if (auto r = execute(t, values, &rows); !r) return r.error();
    return rows;
  }

  result<void> execute(const translated& t, const std::vector<value>& values, std::vector<std::vector<value>>* rows) {
    auto st = prepared(t.sql);
    if (!st) return st.error();
    sqlite3_stmt* s = *st;
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    for (std::size_t i = 0; i < values.size(); ++i) {
      const int n = static_cast<int>(i) + 1;
      int rc = SQLITE_OK;
      if (const auto* v = std::get_if<std::int64_t>(&values[i])) rc = sqlite3_bind_int64(s, n, *v);
      else if (const auto* d = std::get_if<double>(&values[i])) rc = sqlite3_bind_double(s, n, *d);
      else if (const auto* text = std::get_if<std::string>(&values[i]))
        rc = sqlite3_bind_text(s, n, text->data(), static_cast<int>(text->size()), SQLITE_TRANSIENT);
      else rc = sqlite3_bind_null(s, n);
      if (rc != SQLITE_OK) return db_error(db_, "bind");
    }
    for (;;) {
      const int rc = sqlite3_step(s);
      if (rc == SQLITE_DONE) break;
      if (rc == SQLITE_ROW && rows) {
        auto& row = rows->emplace_back();
        for (int i = 0; i < sqlite3_column_count(s); ++i) {
          switch (sqlite3_column_type(s, i)) {
            case SQLITE_INTEGER: row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(s, i))); break;
            case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(s, i)); break;
            case SQLITE_NULL: row.emplace_back(std::monostate{}); break;
            default: {
              const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(s, i));
              const auto n = static_cast<std::size_t>(sqlite3_column_bytes(s, i));
              row.emplace_back(p && n ? std::string(p, n) : std::string());
            }
          }
        }
        continue;
      }
      if (rc != SQLITE_ROW) {
        status e = db_error(db_, "SQL");
        sqlite3_reset(s);
        return e;
      }
    }
    sqlite3_reset(s);
    return {};
  }

  result<std::optional<position_row>> position(std::string_view name) override {
    auto st = prepared("SELECT version, position, tree_size, root_hash FROM vellum_projection WHERE name = ?1");
    if (!st) return st.error();
    sqlite3_stmt* s = *st;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
      sqlite3_reset(s);
      return std::optional<position_row>{};
    }
    if (rc != SQLITE_ROW) return db_error(db_, "read vellum_projection");
    position_row r;
    r.name = name;
    r.version = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    r.position = static_cast<std::uint64_t>(sqlite3_column_int64(s, 1));
    r.tree_size = static_cast<std::uint64_t>(sqlite3_column_int64(s, 2));
    const auto* root = sqlite3_column_text(s, 3);
    r.root_hash = root ? reinterpret_cast<const char*>(root) : "";
    sqlite3_reset(s);
    return std::optional<position_row>{std::move(r)};
  }

  result<std::uint64_t> error_count(std::string_view name) override {
    auto st = prepared("SELECT count(*) FROM vellum_projection_errors WHERE name = ?1");
    if (!st) return st.error();
    sqlite3_stmt* s = *st;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, name.data(), static_cast<int>(name.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_ROW) return db_error(db_, "read vellum_projection_errors");
    const auto n = static_cast<std::uint64_t>(sqlite3_column_int64(s, 0));
    sqlite3_reset(s);
    return n;
  }

  result<std::string> digest() override {
    std::vector<std::string> tables;
    {
      auto st = prepared(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
          "AND name NOT LIKE 'vellum\\_%' ESCAPE '\\' ORDER BY name");
      if (!st) return st.error();
      sqlite3_reset(*st);
      while (sqlite3_step(*st) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(*st, 0)));
      sqlite3_reset(*st);
    }
    crypto::sha256_hasher h;
    for (const auto& table : tables) {
      // Columns in order, and the primary key's columns in key order.
      std::vector<std::string> columns;
      std::vector<std::pair<int, std::string>> key;
      sqlite3_stmt* info = nullptr;
      const std::string pragma = "PRAGMA table_info(" + quote_identifier(table) + ")";
      if (sqlite3_prepare_v2(db_, pragma.c_str(), -1, &info, nullptr) != SQLITE_OK) return db_error(db_, "table_info");
      while (sqlite3_step(info) == SQLITE_ROW) {
        const std::string col = reinterpret_cast<const char*>(sqlite3_column_text(info, 1));
        columns.push_back(col);
        if (const int pk = sqlite3_column_int(info, 5); pk > 0) key.emplace_back(pk, col);
      }
      sqlite3_finalize(info);
      std::sort(key.begin(), key.end());
      std::string order;
      for (const auto& k : key) order += (order.empty() ? "" : ", ") + quote_identifier(k.second);
      if (order.empty())
        for (const auto& c : columns) order += (order.empty() ? "" : ", ") + quote_identifier(c);
      h.update(detail::dump_table_line(table, columns));
      const std::string select = "SELECT * FROM " + quote_identifier(table) + " ORDER BY " + order;
      sqlite3_stmt* rows = nullptr;
      if (sqlite3_prepare_v2(db_, select.c_str(), -1, &rows, nullptr) != SQLITE_OK) return db_error(db_, "digest");
      int rc = 0;
      while ((rc = sqlite3_step(rows)) == SQLITE_ROW) {
        std::vector<value> row;
        for (int i = 0; i < sqlite3_column_count(rows); ++i) {
          switch (sqlite3_column_type(rows, i)) {
            case SQLITE_INTEGER: row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(rows, i))); break;
            case SQLITE_FLOAT: row.emplace_back(sqlite3_column_double(rows, i)); break;
            case SQLITE_TEXT: row.emplace_back(std::string(reinterpret_cast<const char*>(sqlite3_column_text(rows, i)))); break;
            case SQLITE_BLOB: {
              const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(rows, i));
              row.emplace_back(crypto::base64_encode(byte_view(p, static_cast<std::size_t>(sqlite3_column_bytes(rows, i)))));
              break;
            }
            default: row.emplace_back(std::monostate{});
          }
        }
        h.update(detail::dump_row_line(row));
      }
      sqlite3_finalize(rows);
      if (rc != SQLITE_DONE) return db_error(db_, "digest");
    }
    return crypto::hex_encode(h.finish());
  }

 private:

  result<sqlite3_stmt*> prepared(const std::string& sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK)
      return db_error(db_, "SQL");
    cache_.emplace(sql, st);
    return st;
  }

  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

result<std::unique_ptr<view_db>> detail::open_sqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    status e = db_error(db, "open " + path);
    sqlite3_close(db);
    return e;
  }
  auto out = std::make_unique<sqlite_db>(db);
  // WAL: readers of the view never block the runner, and a commit is one
  // fsync of the log; synchronous=FULL so a committed batch survives power loss.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=10000"}) {
    if (auto r = out->exec(pragma); !r) return r.error().with_reason("open " + path);
  }
  return std::unique_ptr<view_db>(std::move(out));
}

result<void> swap_sqlite_file(const std::string& live, const std::string& built, const std::string& previous) {
  auto io = [](std::string m) { return status(make_error_code(boost::system::errc::io_error), std::move(m)); };
  // Each file on its own, with no -wal beside it: a WAL file belongs to the
  // database that wrote it, so none may be left for the other to read.
  for (const auto* file : {&live, &built}) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(file->c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
      status e = db_error(db, "open " + *file);
      sqlite3_close(db);
      return e;
    }
    sqlite3_stmt* st = nullptr;
    std::string mode;
    if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=DELETE", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      mode = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (mode != "delete")
      return io(*file + " is in use (another connection has it open: stop vellum project run on it and retry)");
  }
  std::error_code ec;
  std::filesystem::remove(previous, ec);
  if (::link(live.c_str(), previous.c_str()) != 0) return io("cannot keep the previous version as " + previous);
  if (::rename(built.c_str(), live.c_str()) != 0) return io("cannot rename " + built + " to " + live);
  const auto dir = std::filesystem::path(live).parent_path();
  if (auto d = vellum::fsync_directory(dir.empty() ? "." : dir.string()); !d) return d.error();
  return {};
}

}  // namespace vellum::projection
