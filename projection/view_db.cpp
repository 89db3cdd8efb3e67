// Opening a view database by its URL (view_db.hpp).

#include "projection/view_db.hpp"

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

}  // namespace vellum::projection
