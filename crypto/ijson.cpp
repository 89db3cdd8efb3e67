// I-JSON (RFC 7493) parser: Boost.JSON's basic_parser driving a handler that
// builds the value on a value_stack and refuses, while parsing, what RFC 7493
// forbids and plain JSON allows: duplicate member names (§2.3) and numbers
// that do not fit an IEEE double (§2.2). Invalid UTF-8 and lone surrogate
// escapes (§2.1) are already refused by basic_parser itself.

#include "crypto/ijson.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <cmath>
#include <exception>
#include <string>
#include <unordered_set>
#include <vector>

namespace vellum::crypto {
namespace {

namespace json = boost::json;

constexpr std::size_t max_nesting_depth = 64;

class ijson_handler {
 public:
  static constexpr std::size_t max_object_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_array_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_key_size = static_cast<std::size_t>(-1);
  static constexpr std::size_t max_string_size = static_cast<std::size_t>(-1);

  json::value_stack stack;
  std::string why;          // set when the handler itself refuses the input
  std::string number_text;  // the current number's text, while it arrives in parts

  bool on_document_begin(boost::system::error_code&) {
    stack.reset();
    return true;
  }
  bool on_document_end(boost::system::error_code&) { return true; }

  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    stack.push_array(n);
    return true;
  }

  bool on_object_begin(boost::system::error_code&) {
    // Sets are reused across sibling objects at the same depth.
    if (open_objects_ == names_.size()) names_.emplace_back();
    names_[open_objects_].clear();
    ++open_objects_;
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    --open_objects_;
    stack.push_object(n);
    return true;
  }

  bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
    key_.append(s.data(), s.size());
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
    key_.append(s.data(), s.size());
    auto [it, inserted] = names_[open_objects_ - 1].insert(std::move(key_));
    key_.clear();
    if (!inserted) {
      why = "duplicate member name \"" + *it + "\"";
      return refuse(ec);
    }
    stack.push_key(s);
    return true;
  }

  bool on_string_part(json::string_view s, std::size_t, boost::system::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, boost::system::error_code&) {
    stack.push_string(s);
    return true;
  }

  // A number's text may arrive in parts; doubles are re-read from the whole
  // text (below), so collect it.
  bool on_number_part(json::string_view s, boost::system::error_code&) {
    number_text.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, boost::system::error_code&) {
    number_text.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, boost::system::error_code&) {
    number_text.clear();
    stack.push_uint64(u);
    return true;
  }
  // Boost 1.81's fast conversion can miss the nearest double by one unit in
  // the last place (333333333.33333329 becomes ...325), and every other
  // implementation of I-JSON or JCS reads the nearest: the text is read again
  // with std::from_chars, which is correctly rounded. Boost turns overflowing
  // literals (1e400, integers with hundreds of digits) into infinity; RFC
  // 7493 §2.2 wants them refused.
  bool on_double(double, json::string_view s, boost::system::error_code& ec) {
    number_text.append(s.data(), s.size());
    double d = 0;
    const auto* first = number_text.data();
    const auto* last = first + number_text.size();
    const auto r = std::from_chars(first, last, d);
    const bool read = r.ec == std::errc{} && r.ptr == last;
    number_text.clear();
    if (!read || !std::isfinite(d)) {
      why = "number does not fit an IEEE double";
      return refuse(ec);
    }
    stack.push_double(d);
    return true;
  }

  bool on_bool(bool b, boost::system::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    stack.push_null();
    return true;
  }

  // Comments are disabled in the parse options; these never run.
  bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
  bool on_comment(json::string_view, boost::system::error_code&) { return true; }

 private:
  static bool refuse(boost::system::error_code& ec) {
    ec = make_error_code(errc::malformed_json);
    return false;
  }

  std::vector<std::unordered_set<std::string>> names_;  // one set per open object
  std::size_t open_objects_ = 0;
  std::string key_;
};

json::parse_options ijson_options() {
  json::parse_options opt;
  opt.max_depth = max_nesting_depth;
  opt.allow_comments = false;
  opt.allow_trailing_commas = false;
  opt.allow_invalid_utf8 = false;
  return opt;
}

}  // namespace

result<json::value> parse_ijson(std::string_view text) {
  auto fail = [](std::string reason) -> result<json::value> {
    return status(errc::malformed_json, std::move(reason));
  };
  try {
    json::basic_parser<ijson_handler> parser(ijson_options());
    boost::system::error_code ec;
    const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
    if (ec) {
      if (!parser.handler().why.empty()) return fail(parser.handler().why);
      return fail(ec.message() + " at offset " + std::to_string(used));
    }
    if (used != text.size()) return fail("extra data after the JSON value");
    return parser.handler().stack.release();
  } catch (const std::bad_alloc&) {
    throw;  // environment trouble, not bad input
  } catch (const std::exception& e) {
    // value_stack throws for sizes beyond Boost.JSON's limits.
    return fail(std::string("JSON value too large: ") + e.what());
  }
}

}  // namespace vellum::crypto
