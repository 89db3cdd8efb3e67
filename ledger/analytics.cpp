// The analytics export (see analytics.hpp).

#include "ledger/analytics.hpp"

#include "crypto/encoding.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

namespace vellum::ledger {
namespace {

namespace json = boost::json;

std::string text_of(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// One event's row (nullopt for an erased event or an unreadable payload;
// ledger::query applied the filters).
std::optional<json::object> row_of(const stored_event& e) {
  if (e.erased) return std::nullopt;
  auto parsed = crypto::jws_payload_object(e.jws);
  if (!parsed) return std::nullopt;
  const auto& p = *parsed;
  const query_terms terms = query_terms_of(p);
  const std::string& type = terms.type;
  const std::string& author_id = terms.author_id;
  std::string author_name, author_role;
  if (const auto* a = p.if_contains("author"); a && a->is_object()) {
    author_name = text_of(a->get_object(), "name");
    author_role = text_of(a->get_object(), "role");
  }
  const std::string occurred_at = text_of(p, "occurred_at");
  json::object row;
  row["seq"] = e.seq;
  row["stream"] = e.stream;
  row["revision"] = e.revision;
  row["event_id"] = e.event_id;
  row["type"] = type;
  row["occurred_at"] = occurred_at;
  row["recorded_at"] = crypto::format_time_us(e.recorded_at_us);
  row["author_id"] = author_id;
  row["author_name"] = author_name;
  row["author_role"] = author_role;
  row["meaning"] = text_of(p, "meaning");
  row["kid"] = e.kid;
  row["amends"] = text_of(p, "amends");
  row["voids"] = text_of(p, "voids");
  row["reason"] = text_of(p, "reason");
  const auto* data = p.if_contains("data");
  row["data"] = data ? *data : json::value(json::object{});
  return row;
}

void append_csv(std::string& out, const json::object& row) {
  bool first = true;
  for (const auto& kv : row) {
    if (!first) out += ',';
    first = false;
    const auto& v = kv.value();
    if (v.is_string()) out += csv_field(v.get_string());
    else if (kv.key() == "data") out += csv_field(json::serialize(v));
    else out += json::serialize(v);  // seq, revision
  }
  out += "\r\n";
}

}  // namespace

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

result<analytics_summary> write_analytics(const ledger& l, const analytics_request& req, const byte_sink& sink) {
  if (auto v = validate_filter(req.filter); !v) return v.error();
  analytics_summary out;
  out.tree_size = l.tree_size();
  std::string buf;
  bool canceled = false;
  auto flush = [&]() -> bool {
    if (buf.empty()) return true;
    out.bytes += buf.size();
    const bool more = sink(buf);
    buf.clear();
    return more;
  };
  if (req.fmt == analytics_request::format::csv) buf.append(analytics_columns).append("\r\n");
  auto each = [&](const stored_event& e) {
    if (e.seq >= out.tree_size) return false;  // appended after the export began
    auto row = row_of(e);
    if (!row) return true;
    ++out.rows;
    if (req.fmt == analytics_request::format::csv) {
      append_csv(buf, *row);
    } else {
      buf += json::serialize(*row);
      buf += '\n';
    }
    if (buf.size() >= (std::size_t{64} << 10) && !flush()) {
      canceled = true;
      return false;
    }
    return true;
  };
  constexpr std::uint64_t page = 4096;  // candidates per read transaction
  for (std::optional<std::uint64_t> from = 0; from && *from < out.tree_size;) {
    auto q = l.query(req.filter, *from, page, each, true);
    if (!q) return q.error();
    if (canceled) break;
    from = q->resume;
  }
  if (canceled || !flush())
    return status(boost::system::errc::make_error_code(boost::system::errc::operation_canceled));
  return out;
}

}  // namespace vellum::ledger
