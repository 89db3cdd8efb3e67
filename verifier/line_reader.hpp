#pragma once
// Reads an NDJSON bundle (docs/formats.md §8) one '\n'-terminated line at a
// time with bounded memory: input goes through a fixed buffer, and a line
// longer than the limit is refused as soon as the limit is passed, before the
// rest of it is read. Lines are numbered from 1 so that failures can name
// them. Not thread-safe; one reader per stream.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace vellum::verifier {

// The longest line a bundle may have (a record with its JWS is far smaller).
inline constexpr std::size_t default_max_line_bytes = std::size_t{64} << 20;

class line_reader {
 public:
  enum class read_status {
    line,          // text() is the next line, without its '\n'
    end,           // the input ended after a '\n' (or was empty)
    unterminated,  // the input ended inside a line: text() is that partial line
    too_long,      // the line passed max_line_bytes; text() holds a prefix
    io_error,      // the stream reported a read error
  };

  // `in` must outlive the reader. Memory: buffer_bytes plus at most
  // max_line_bytes + buffer_bytes for the current line.
  explicit line_reader(std::istream& in, std::size_t max_line_bytes = default_max_line_bytes,
                       std::size_t buffer_bytes = std::size_t{1} << 16);

  // Reads the next line. After end, unterminated, too_long or io_error the
  // caller stops (calling again is allowed but reads on where it stopped).
  [[nodiscard]] read_status next();

  // The line last read; valid until the next call of next().
  [[nodiscard]] const std::string& text() const { return line_; }
  // 1-based number of the line last returned as line, unterminated or
  // too_long; 0 before the first. end and io_error do not count a line.
  [[nodiscard]] std::uint64_t line_number() const { return line_number_; }
  // Bytes consumed so far: every returned line with its '\n'.
  [[nodiscard]] std::uint64_t bytes() const { return bytes_; }
  [[nodiscard]] std::size_t max_line_bytes() const { return max_line_bytes_; }

 private:
  std::istream& in_;
  std::size_t max_line_bytes_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t end_ = 0;
  std::string line_;
  std::uint64_t line_number_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace vellum::verifier
