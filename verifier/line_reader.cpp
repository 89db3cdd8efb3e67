#include "verifier/line_reader.hpp"

#include <algorithm>
#include <istream>

namespace vellum::verifier {

line_reader::line_reader(std::istream& in, std::size_t max_line_bytes, std::size_t buffer_bytes)
    : in_(in), max_line_bytes_(max_line_bytes), buf_(std::max<std::size_t>(1, buffer_bytes)) {}

line_reader::read_status line_reader::next() {
  line_.clear();
  for (;;) {
    // Take what the buffer holds up to the next '\n' (or all of it).
    const char* begin = buf_.data() + pos_;
    const char* end = buf_.data() + end_;
    const char* nl = std::find(begin, end, '\n');
    line_.append(begin, nl);
    if (line_.size() > max_line_bytes_) {
      ++line_number_;
      return read_status::too_long;
    }
    if (nl != end) {
      pos_ = static_cast<std::size_t>(nl - buf_.data()) + 1;
      bytes_ += line_.size() + 1;
      ++line_number_;
      return read_status::line;
    }
    // The buffer is used up without a '\n': refill it.
    pos_ = end_ = 0;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    end_ = static_cast<std::size_t>(in_.gcount());
    if (end_ == 0) {
      if (in_.bad()) return read_status::io_error;
      bytes_ += line_.size();
      if (line_.empty()) return read_status::end;
      ++line_number_;
      return read_status::unterminated;
    }
  }
}

}  // namespace vellum::verifier
