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

// One event's row, or nullopt if the filters leave it out.
std::optional<json::object> row_of(const stored_event& e, const analytics_request& req) {
  if (e.erased) return std::nullopt;
  if (req.stream && e.stream != *req.stream) return std::nullopt;
  if (req.prefix && !e.stream.starts_with(*req.prefix)) return std::nullopt;
  if (!req.by_occurred_at && ((req.from_us && e.recorded_at_us < *req.from_us) ||
                              (req.to_us && e.recorded_at_us >= *req.to_us)))
    return std::nullopt;
  auto parsed = crypto::jws_payload_object(e.jws);
  if (!parsed) return std::nullopt;
  const auto& p = *parsed;
  const std::string type = text_of(p, "type");
  if (req.type && type != *req.type) return std::nullopt;
  std::string author_id, author_name, author_role;
  if (const auto* a = p.if_contains("author")) {
    if (a->is_string()) author_id = std::string(a->get_string());
    if (a->is_object()) {
      author_id = text_of(a->get_object(), "id");
      author_name = text_of(a->get_object(), "name");
      author_role = text_of(a->get_object(), "role");
    }
  }
  if (req.author && author_id != *req.author) return std::nullopt;
  const std::string occurred_at = text_of(p, "occurred_at");
  if (req.by_occurred_at) {
    const auto at = crypto::parse_rfc3339_us(occurred_at);
    if (!at || (req.from_us && *at < *req.from_us) || (req.to_us && *at >= *req.to_us)) return std::nullopt;
  }
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

result<void> validate_analytics(const analytics_request& req) {
  if (req.stream && req.prefix) return status(errc::invalid_argument, "give stream or prefix, not both");
  if (req.prefix && req.prefix->empty()) return status(errc::invalid_argument, "prefix: must not be empty");
  if (req.from_us && req.to_us && *req.from_us >= *req.to_us)
    return status(errc::invalid_argument, "from_time must be before to_time");
  return {};
}

result<analytics_summary> write_analytics(const ledger& l, const analytics_request& req, const byte_sink& sink) {
  if (auto v = validate_analytics(req); !v) return v.error();
  analytics_summary out;
  out.tree_size = l.tree_size();
  std::string buf;
  auto flush = [&]() -> bool {
    if (buf.empty()) return true;
    out.bytes += buf.size();
    const bool more = sink(buf);
    buf.clear();
    return more;
  };
  if (req.fmt == analytics_request::format::csv) buf.append(analytics_columns).append("\r\n");
  for (std::uint64_t seq = 0; seq < out.tree_size;) {
    auto page = l.read_all(seq, static_cast<std::size_t>(std::min<std::uint64_t>(512, out.tree_size - seq)));
    if (!page) return page.error();
    if (page->empty()) break;
    for (const auto& e : *page) {
      if (e.seq >= out.tree_size) break;
      auto row = row_of(e, req);
      if (!row) continue;
      ++out.rows;
      if (req.fmt == analytics_request::format::csv) {
        append_csv(buf, *row);
      } else {
        buf += json::serialize(*row);
        buf += '\n';
      }
      if (buf.size() >= (std::size_t{64} << 10) && !flush())
        return status(boost::system::errc::make_error_code(boost::system::errc::operation_canceled));
    }
    seq = page->back().seq + 1;
  }
  if (!flush()) return status(boost::system::errc::make_error_code(boost::system::errc::operation_canceled));
  return out;
}

}  // namespace vellum::ledger
