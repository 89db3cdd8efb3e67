// Opening a view database by its URL (view_db.hpp).

#include "projection/view_db.hpp"

#include <boost/json.hpp>

namespace vellum::projection {

result<std::unique_ptr<view_db>> view_db::open(std::string_view url) {
  using boost::system::errc::make_error_code;
  if (url.starts_with("sqlite:")) {
    const std::string path(url.substr(7));
    if (path.empty()) return status(make_error_code(boost::system::errc::invalid_argument), "--db sqlite:PATH: no path");
    return detail::open_sqlite(path);
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) return detail::open_postgres(url);
  return status(make_error_code(boost::system::errc::invalid_argument),
                "--db: \"" + std::string(url) + "\" is neither sqlite:PATH nor postgresql://USER@HOST:PORT/DB");
}

std::string quote_identifier(std::string_view id) {
  std::string out = "\"";
  for (char c : id) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string detail::dump_table_line(const std::string& table, const std::vector<std::string>& columns) {
  boost::json::array header;
  for (const auto& c : columns) header.emplace_back(c);
  return "table " + table + " " + boost::json::serialize(header) + "\n";
}

std::string detail::dump_row_line(const std::vector<value>& row) {
  boost::json::array out;
  for (const auto& v : row) {
    if (const auto* i = std::get_if<std::int64_t>(&v)) out.emplace_back(*i);
    else if (const auto* d = std::get_if<double>(&v)) out.emplace_back(*d);
    else if (const auto* t = std::get_if<std::string>(&v)) out.emplace_back(*t);
    else out.emplace_back(nullptr);
  }
  return boost::json::serialize(out) + "\n";
}

}  // namespace vellum::projection
