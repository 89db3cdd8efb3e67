#include "verifier/selection.hpp"

#include "crypto/error.hpp"
#include "crypto/leaf_entry.hpp"
#include "verifier/line_fields.hpp"

#include <iterator>
#include <string_view>

namespace vellum::verifier {

using crypto::errc;

std::string export_selection::describe() const {
  if (stream) return "stream " + *stream + " (every event)";
  if (prefix) return "every stream whose name starts with \"" + *prefix + "\"";
  if (from_seq && to_seq)
    return "seq " + std::to_string(*from_seq) + " up to " + std::to_string(*to_seq) + " (exclusive)";
  if (from_time_us && to_time_us)
    return "recorded from " + crypto::format_time_us(*from_time_us) + " until " +
           crypto::format_time_us(*to_time_us) + " (exclusive)";
  return "(none)";
}

namespace {

// A time bound of the selection: RFC 3339 in exactly the form format_time_us writes.
std::optional<std::uint64_t> canonical_time(const boost::json::value& v) {
  if (!v.is_string()) return std::nullopt;
  auto us = crypto::parse_rfc3339_us(v.get_string());
  if (!us || crypto::format_time_us(*us) != std::string_view(v.get_string())) return std::nullopt;
  return us;
}

}  // namespace

status parse_selection(const boost::json::object& o, export_selection& sel) {
  // Members in the order §8 lists; exactly one kind of selection.
  static constexpr std::string_view order[] = {"stream", "prefix", "from_seq", "to_seq", "from_time", "to_time"};
  std::size_t next = 0;
  for (const auto& m : o) {
    while (next < std::size(order) && order[next] != m.key()) ++next;
    if (next == std::size(order))
      return {errc::malformed_entry, "selection member \"" + std::string(m.key()) + "\" is unknown or out of order"};
    const auto& v = m.value();
    const std::string_view k = m.key();
    bool ok = true;
    if (k == "stream" || k == "prefix") {
      ok = v.is_string() && !v.get_string().empty();
      if (ok) (k == "stream" ? sel.stream : sel.prefix) = std::string(v.get_string());
    } else if (k == "from_seq" || k == "to_seq") {
      auto n = as_u64(v);
      ok = n.has_value();
      (k == "from_seq" ? sel.from_seq : sel.to_seq) = n;
    } else {
      auto t = canonical_time(v);
      ok = t.has_value();
      (k == "from_time" ? sel.from_time_us : sel.to_time_us) = t;
    }
    if (!ok) return {errc::malformed_entry, "selection member \"" + std::string(k) + "\" has a bad value"};
  }
  const int kinds = (sel.stream ? 1 : 0) + (sel.prefix ? 1 : 0) + (sel.from_seq || sel.to_seq ? 1 : 0) +
                    (sel.from_time_us || sel.to_time_us ? 1 : 0);
  if (kinds != 1 || sel.from_seq.has_value() != sel.to_seq.has_value() ||
      sel.from_time_us.has_value() != sel.to_time_us.has_value())
    return {errc::malformed_entry,
            "the selection must be exactly one of: stream; prefix; from_seq + to_seq; from_time + to_time"};
  if ((sel.from_seq && *sel.from_seq > *sel.to_seq) || (sel.from_time_us && *sel.from_time_us > *sel.to_time_us))
    return {errc::malformed_entry, "the selection's range ends before it begins"};
  return {};
}

}  // namespace vellum::verifier
