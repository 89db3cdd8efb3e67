#pragma once
// One error channel for all of Vellum: a `status` is a stable machine-readable
// code (a boost::system::error_code in one module's category: crypto, ledger,
// server, files…) plus the reason a person reads ("data directory was created
// with origin A; --origin B was given"). Every fallible function returns a
// `result<T>` = boost::system::result<T, status>; the reason travels unchanged
// from the place that knows it (LMDB, a parser, a file) to the edge (the HTTP
// answer's `message`, the CLI's error line). Codes are compared, reasons are
// shown: equality and tests look at the code only.
//
// A status built from a bare code has no reason; message() then falls back on
// the category's description of the code. with_reason() adds context while the
// error climbs, never changing the code.

#include <boost/assert/source_location.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace vellum {

using bytes = std::vector<std::uint8_t>;
using byte_view = std::span<const std::uint8_t>;

class status {
 public:
  status() = default;  // success
  status(boost::system::error_code code) : code_(code) {}  // NOLINT: implicit by design
  template <class E>
    requires boost::system::is_error_code_enum<E>::value
  status(E e) : code_(make_error_code(e)) {}  // NOLINT: implicit, so `return errc::x;` works
  status(boost::system::error_code code, std::string reason)
      : code_(code), reason_(std::move(reason)) {}
  template <class E>
    requires boost::system::is_error_code_enum<E>::value
  status(E e, std::string reason) : code_(make_error_code(e)), reason_(std::move(reason)) {}

  [[nodiscard]] bool failed() const noexcept { return code_.failed(); }
  // As error_code: true when failed. (So result<bool> cannot take a status
  // implicitly; construct it with boost::system::in_place_error.)
  explicit operator bool() const noexcept { return code_.failed(); }
  [[nodiscard]] const boost::system::error_code& code() const noexcept { return code_; }
  [[nodiscard]] int value() const noexcept { return code_.value(); }
  [[nodiscard]] const boost::system::error_category& category() const noexcept {
    return code_.category();
  }
  // The context given where the error arose (empty if none).
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }
  // What a person reads: the reason if there is one, else the code's description.
  [[nodiscard]] std::string message() const {
    return reason_.empty() ? code_.message() : reason_;
  }
  // The same code with a reason: `context` alone if there was none yet, else
  // "context: old reason".
  [[nodiscard]] status with_reason(std::string_view context) const {
    if (reason_.empty()) return {code_, std::string(context)};
    return {code_, std::string(context) + ": " + reason_};
  }

  friend bool operator==(const status& a, const status& b) noexcept { return a.code_ == b.code_; }
  friend bool operator==(const status& a, const boost::system::error_code& b) noexcept {
    return a.code_ == b;
  }
  template <class E>
    requires boost::system::is_error_code_enum<E>::value
  friend bool operator==(const status& a, E b) noexcept {
    return a.code_ == make_error_code(b);
  }
  friend bool operator==(const status& a, boost::system::errc::errc_t b) noexcept {
    return a.code_ == boost::system::errc::make_error_code(b);
  }
  // Category name, code and message, e.g. "vellum.ledger:6 (stored data is corrupt: …)".
  friend std::ostream& operator<<(std::ostream& os, const status& s);

 private:
  boost::system::error_code code_;
  std::string reason_;
};

template <class T>
using result = boost::system::result<T, status>;

// result<T>::value() on an error throws boost::system::system_error carrying the
// code and the reason (found by boost::system::result through ADL).
[[noreturn]] void throw_exception_from_error(const status& s, const boost::source_location& loc);

}  // namespace vellum
