#pragma once
// Where a projection's rows live: a SQL database behind one small interface,
// so the same spec runs on SQLite (the embedded default) and, later,
// PostgreSQL. Not thread-safe: one runner owns one connection.

#include "base/status.hpp"
#include "projection/spec.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vellum::projection {

// A bound parameter: NULL, an integer, a real, text.
using value = std::variant<std::monostate, std::int64_t, double, std::string>;

// The vellum_projection row of one view (docs/projections.md).
struct position_row {
  std::string name;
  std::uint64_t version = 0;
  std::uint64_t position = 0;   // events [0, position) are applied
  std::uint64_t tree_size = 0;  // the signed checkpoint seen when the row was written
  std::string root_hash;        // its root, lower-case hex
};

class view_db {
 public:
  virtual ~view_db() = default;
  // "sqlite:PATH" (created if missing, WAL mode) or a libpq connection URI
  // "postgresql://USER@HOST:PORT/DB" (the database must exist). Errors:
  // invalid_argument for another scheme (naming what is supported),
  // io_error from the database (its own message).
  [[nodiscard]] static result<std::unique_ptr<view_db>> open(std::string_view url);

  virtual dialect kind() const = 0;
  // One or more statements without parameters.
  [[nodiscard]] virtual result<void> exec(std::string_view sql) = 0;
  // One statement with its parameters (prepared once per distinct SQL text).
  [[nodiscard]] virtual result<void> run(const translated& t, const std::vector<value>& values) = 0;
  // One statement's result rows (each column as a value; blobs as text).
  [[nodiscard]] virtual result<std::vector<std::vector<value>>> query(const translated& t,
                                                                      const std::vector<value>& values) = 0;
  // The vellum_projection row of `name` (nullopt: the view was never created).
  [[nodiscard]] virtual result<std::optional<position_row>> position(std::string_view name) = 0;
  // How many rows vellum_projection_errors holds for `name`.
  [[nodiscard]] virtual result<std::uint64_t> error_count(std::string_view name) = 0;
  // SHA-256 (hex) of a canonical dump of every table not named vellum_*:
  // tables by name, each with its column names, rows ordered by primary key
  // (all columns without one), values as JSON (text as strings, integers and
  // reals as numbers, NULL as null, blobs as base64 strings).
  [[nodiscard]] virtual result<std::string> digest() = 0;
};

// Swaps a rebuilt SQLite view file into place: `live` must not be open
// elsewhere (it is switched out of WAL mode, which needs sole access), then
// hard-linked to `previous` and replaced by `built` with one atomic rename
// (the directory fsynced). Errors: io_error naming the step ("the live view
// is in use…").
[[nodiscard]] result<void> swap_sqlite_file(const std::string& live, const std::string& built,
                                            const std::string& previous);

// Swaps a view rebuilt in schema `built` into schema `live` on PostgreSQL,
// in one transaction (readers see the old view or the new one, never a
// mix): `previous` (dropped first if there) becomes the old schema's name,
// then `built` takes `live`'s name.
[[nodiscard]] result<void> swap_postgres_schema(view_db& db, const std::string& live, const std::string& built,
                                                const std::string& previous);
// An SQL identifier, double-quoted (both dialects).
std::string quote_identifier(std::string_view id);

namespace detail {
// The canonical dump that digest() hashes, one line at a time, the same for
// every database: a table's name and column names, then each row's values
// as a JSON array (integers and reals as numbers, text as strings, NULL as
// null; a database passes blobs as text it chose).
std::string dump_table_line(const std::string& table, const std::vector<std::string>& columns);
std::string dump_row_line(const std::vector<value>& row);
[[nodiscard]] result<std::unique_ptr<view_db>> open_sqlite(const std::string& path);
[[nodiscard]] result<std::unique_ptr<view_db>> open_postgres(std::string_view url);
}  // namespace detail

// The bookkeeping tables, created with the view (both dialects).
inline constexpr std::string_view bookkeeping_schema =
    "CREATE TABLE IF NOT EXISTS vellum_projection (name TEXT PRIMARY KEY, version BIGINT NOT NULL, "
    "position BIGINT NOT NULL, tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS vellum_projection_errors (name TEXT NOT NULL, seq BIGINT NOT NULL, "
    "event_id TEXT NOT NULL, error TEXT NOT NULL, PRIMARY KEY (name, seq));";

}  // namespace vellum::projection
