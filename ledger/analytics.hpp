#pragma once
// The analytics export (GET /v1/analytics, docs/api.md): the log's events as
// rows for a spreadsheet or a data pipeline, CSV (RFC 4180) or NDJSON, with
// exactly the columns of the contract, filtered as GET /v1/query filters
// (type, author, stream or prefix, a time range), written through a byte_sink with constant memory
// whatever the log's size. A snapshot: events appended meanwhile are not
// included. Erased events have no content and give no row.

#include "base/sink.hpp"
#include "ledger/ledger.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vellum::ledger {

// The column names, in order (the CSV header).
inline constexpr std::string_view analytics_columns =
    "seq,stream,revision,event_id,type,occurred_at,recorded_at,author_id,author_name,author_role,"
    "meaning,kid,amends,voids,reason,data";

struct analytics_request {
  enum class format { csv, ndjson };
  format fmt = format::csv;
  event_filter filter;  // ledger.hpp; the events come from ledger::query
};

struct analytics_summary {
  std::uint64_t tree_size = 0;  // events looked at: [0, tree_size)
  std::uint64_t rows = 0;
  std::uint64_t bytes = 0;
};

// Writes the header (CSV) and one row per matching event in seq order to
// `sink`, in chunks of about 64 KiB. CSV fields are quoted when they hold a
// comma, a quote or a line break, quotes doubled, lines ended by CRLF; `data`
// is compact JSON. NDJSON lines carry the same members, `data` as an object.
// The rows come from ledger::query page by page (one short read transaction
// each, so a slow reader never holds the writer back), with a full scan
// allowed where no index narrows the filter: an export reads what it writes.
// Errors: invalid_argument (validate_filter; before the first chunk),
// operation_canceled (the sink returned false), the ledger's read errors.
[[nodiscard]] result<analytics_summary> write_analytics(const ledger& l, const analytics_request& req,
                                                        const byte_sink& sink);

// One CSV field as RFC 4180 writes it.
std::string csv_field(std::string_view text);

}  // namespace vellum::ledger
