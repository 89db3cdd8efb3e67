#include "base/status.hpp"

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace vellum {

std::ostream& operator<<(std::ostream& os, const status& s) {
  os << s.code_.category().name() << ':' << s.code_.value() << " (" << s.code_.message();
  if (!s.reason_.empty()) os << ": " << s.reason_;
  return os << ')';
}

void throw_exception_from_error(const status& s, const boost::source_location& loc) {
  boost::throw_exception(boost::system::system_error(s.code(), s.reason()), loc);
}

}  // namespace vellum
