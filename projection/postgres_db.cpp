// The PostgreSQL view database (view_db.hpp), through libpq: for a view
// that outgrows one SQLite file. Parameters are sent as text with
// PQexecParams; results come back as text and are typed by column OID. The
// digest matches SQLite's for the same rows: tables and rows in byte order
// (COLLATE "C"), NULLs first, integers and reals as JSON numbers.

#include "projection/view_db.hpp"

#include "crypto/encoding.hpp"
#include "crypto/sha256.hpp"

#include <boost/json.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace vellum::projection {

namespace {

namespace json = boost::json;
using boost::system::errc::make_error_code;

// OIDs of the built-in types (pg_type.h, stable across versions).
constexpr Oid bool_oid = 16, int8_oid = 20, int2_oid = 21, int4_oid = 23, float4_oid = 700, float8_oid = 701,
              numeric_oid = 1700;

status pg_error(PGconn* c, std::string_view what) {
  std::string m = c ? PQerrorMessage(c) : "cannot allocate a connection";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return status(make_error_code(boost::system::errc::io_error), std::string(what) + ": " + m);
}

struct result_guard {
  PGresult* r;
  ~result_guard() { PQclear(r); }
};

value typed(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col)) return std::monostate{};
  const char* text = PQgetvalue(r, row, col);
  const std::string_view s(text, static_cast<std::size_t>(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case int8_oid:
    case int2_oid:
    case int4_oid: {
      std::int64_t v = 0;
      std::from_chars(s.data(), s.data() + s.size(), v);
      return v;
    }
    case float4_oid:
    case float8_oid:
    case numeric_oid: return std::strtod(std::string(s).c_str(), nullptr);
    case bool_oid: return std::int64_t{s == "t" ? 1 : 0};
    default: return std::string(s);
  }
}

class postgres_db final : public view_db {
 public:
  explicit postgres_db(PGconn* c) : c_(c) {}
  ~postgres_db() override { PQfinish(c_); }
  postgres_db(const postgres_db&) = delete;
  postgres_db& operator=(const postgres_db&) = delete;

  dialect kind() const override { return dialect::postgresql; }

  result<void> exec(std::string_view sql) override {
    result_guard g{PQexec(c_, std::string(sql).c_str())};
    const auto st = PQresultStatus(g.r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return pg_error(c_, "SQL");
    return {};
  }

  result<void> run(const translated& t, const std::vector<value>& values) override {
    auto rows = query(t, values);
    if (!rows) return rows.error();
    return {};
  }

  result<std::vector<std::vector<value>>> query(const translated& t, const std::vector<value>& values) override {
    std::vector<std::string> text(values.size());
    std::vector<const char*> params(values.size(), nullptr);
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (const auto* v = std::get_if<std::int64_t>(&values[i])) text[i] = std::to_string(*v);
      else if (const auto* d = std::get_if<double>(&values[i])) {
        char buf[40];
        std::snprintf(buf, sizeof buf, "%.17g", *d);
        text[i] = buf;
      } else if (const auto* s = std::get_if<std::string>(&values[i])) text[i] = *s;
      else continue;  // NULL
      params[i] = text[i].c_str();
    }
    result_guard g{PQexecParams(c_, t.sql.c_str(), static_cast<int>(values.size()), nullptr, params.data(), nullptr,
                                nullptr, 0)};
    const auto st = PQresultStatus(g.r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) return pg_error(c_, "SQL");
    std::vector<std::vector<value>> rows;
    for (int r = 0; r < PQntuples(g.r); ++r) {
      auto& row = rows.emplace_back();
      for (int col = 0; col < PQnfields(g.r); ++col) row.push_back(typed(g.r, r, col));
    }
    return rows;
  }

  result<std::optional<position_row>> position(std::string_view name) override {
    auto rows = query({"SELECT version, position, tree_size, root_hash FROM vellum_projection WHERE name = $1", {}},
                      {std::string(name)});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<position_row>{};
    const auto& r = rows->front();
    auto num = [&](std::size_t i) { return static_cast<std::uint64_t>(std::get<std::int64_t>(r[i])); };
    return std::optional<position_row>{position_row{std::string(name), num(0), num(1), num(2), std::get<std::string>(r[3])}};
  }

  result<std::uint64_t> error_count(std::string_view name) override {
    auto rows = query({"SELECT count(*) FROM vellum_projection_errors WHERE name = $1", {}}, {std::string(name)});
    if (!rows) return rows.error();
    return static_cast<std::uint64_t>(std::get<std::int64_t>(rows->front().front()));
  }

  result<std::string> digest() override {
    auto tables = query({"SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                         "AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'vellum\\_%' "
                         "ORDER BY table_name COLLATE \"C\"",
                         {}},
                        {});
    if (!tables) return tables.error();
    crypto::sha256_hasher h;
    for (const auto& t : *tables) {
      const std::string table = std::get<std::string>(t[0]);
      auto cols = query({"SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = "
                         "current_schema() AND table_name = $1 ORDER BY ordinal_position",
                         {}},
                        {table});
      if (!cols) return cols.error();
      auto key = query({"SELECT k.column_name FROM information_schema.table_constraints c JOIN "
                        "information_schema.key_column_usage k ON k.constraint_name = c.constraint_name AND "
                        "k.table_schema = c.table_schema AND k.table_name = c.table_name WHERE c.constraint_type = "
                        "'PRIMARY KEY' AND c.table_schema = current_schema() AND c.table_name = $1 ORDER BY "
                        "k.ordinal_position",
                        {}},
                       {table});
      if (!key) return key.error();
      std::vector<std::string> order_cols;
      for (const auto& k : *key) order_cols.push_back(std::get<std::string>(k[0]));
      if (order_cols.empty())
        for (const auto& c : *cols) order_cols.push_back(std::get<std::string>(c[0]));
      std::string order;
      for (const auto& c : order_cols) {
        std::string type;
        for (const auto& col : *cols)
          if (std::get<std::string>(col[0]) == c) type = std::get<std::string>(col[1]);
        const bool textual = type == "text" || type.starts_with("character");
        order += (order.empty() ? "" : ", ") + quote_identifier(c) + (textual ? " COLLATE \"C\"" : "") + " NULLS FIRST";
      }
      std::vector<std::string> names;
      for (const auto& c : *cols) names.push_back(std::get<std::string>(c[0]));
      h.update(detail::dump_table_line(table, names));
      // In pages, so a large view is never held in memory at once.
      result_guard begin{PQexec(c_, ("DECLARE vellum_digest NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM " + quote_identifier(table) +
                                     " ORDER BY " + order)
                                        .c_str())};
      if (PQresultStatus(begin.r) != PGRES_COMMAND_OK) return pg_error(c_, "digest");
      for (;;) {
        result_guard page{PQexec(c_, "FETCH 1000 FROM vellum_digest")};
        if (PQresultStatus(page.r) != PGRES_TUPLES_OK) {
          (void)exec("CLOSE vellum_digest");
          return pg_error(c_, "digest");
        }
        const int n = PQntuples(page.r);
        for (int r = 0; r < n; ++r) {
          std::vector<value> row;
          for (int col = 0; col < PQnfields(page.r); ++col) row.push_back(typed(page.r, r, col));
          h.update(detail::dump_row_line(row));
        }
        if (n == 0) break;
      }
      if (auto c = exec("CLOSE vellum_digest"); !c) return c.error();
    }
    return crypto::hex_encode(h.finish());
  }

 private:
  PGconn* c_;
};

}  // namespace

result<void> swap_postgres_schema(view_db& db, const std::string& live, const std::string& built,
                                  const std::string& previous) {
  const std::string sql = "BEGIN; DROP SCHEMA IF EXISTS " + quote_identifier(previous) + " CASCADE; ALTER SCHEMA " +
                          quote_identifier(live) + " RENAME TO " + quote_identifier(previous) + "; ALTER SCHEMA " +
                          quote_identifier(built) + " RENAME TO " + quote_identifier(live) + "; COMMIT";
  if (auto r = db.exec(sql); !r) {
    (void)db.exec("ROLLBACK");
    return r.error().with_reason("swap schema " + built + " into " + live);
  }
  return {};
}

result<std::unique_ptr<view_db>> detail::open_postgres(std::string_view url) {
  PGconn* c = PQconnectdb(std::string(url).c_str());
  if (!c || PQstatus(c) != CONNECTION_OK) {
    status e = pg_error(c, "connect to " + std::string(url));
    PQfinish(c);
    return e;
  }
  auto db = std::make_unique<postgres_db>(c);
  // Plain warnings (e.g. "relation already exists, skipping") are not errors: keep them off stderr.
  if (auto r = db->exec("SET client_min_messages = warning"); !r) return r.error();
  auto schema = db->query({"SELECT current_schema()", {}}, {});
  if (!schema) return schema.error();
  if (schema->empty() || std::holds_alternative<std::monostate>(schema->front().front()))
    return status(make_error_code(boost::system::errc::invalid_argument),
                  "connect to " + std::string(url) + ": its search_path names no existing schema (CREATE SCHEMA it first)");
  return std::unique_ptr<view_db>(std::move(db));
}

}  // namespace vellum::projection
