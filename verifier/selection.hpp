#pragma once
// What a sealed export's header says it selects (docs/formats.md §8,
// "selection"), and the strict reading of that member.

#include "base/status.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace vellum::verifier {

// Exactly one kind is set: stream; prefix; from_seq + to_seq (to exclusive);
// from_time + to_time (µs since the epoch, to exclusive).
struct export_selection {
  std::optional<std::string> stream;
  std::optional<std::string> prefix;
  std::optional<std::uint64_t> from_seq;
  std::optional<std::uint64_t> to_seq;
  std::optional<std::uint64_t> from_time_us;
  std::optional<std::uint64_t> to_time_us;

  // "stream therapy-4711", "seq 10 to 20 (exclusive)", ...
  std::string describe() const;
};

// Reads the header's "selection" object into `sel`, member by member: names
// in the order §8 lists them, no others; stream and prefix non-empty
// strings, seqs non-negative integers, times RFC 3339 exactly as
// crypto::format_time_us writes them; exactly one kind; a range that does not
// end before it begins. Fails with crypto::errc::malformed_entry and a reason
// naming the member. On failure `sel` keeps the members read before the bad
// one (the report shows what the header claimed as far as it could be read).
[[nodiscard]] status parse_selection(const boost::json::object& o, export_selection& sel);

}  // namespace vellum::verifier
