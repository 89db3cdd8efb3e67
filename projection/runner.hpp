#pragma once
// Applies a log's events to a view (docs/projections.md). The caller reads
// the events (vellum project reads them from vellumd over HTTP, in pages) and
// hands each page to apply(), which checks every event against its own leaf
// entry, runs the spec's matching handlers and records the new position, the
// whole page in one database transaction: a kill at any moment leaves the
// view and its position consistent, so nothing is applied twice or skipped.

#include "base/status.hpp"
#include "projection/spec.hpp"
#include "projection/view_db.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <span>
#include <string>

namespace vellum::projection {

// An event field's value for a handler parameter ("seq", "data.dose", …),
// from an event as GET /v1/log/events gives it with `payload` the decoded
// JWS payload. A missing field is NULL; integers and reals bind as numbers,
// true/false as 1/0, objects and arrays as canonical JSON text (RFC 8785).
value field_value(const boost::json::object& event, const boost::json::object& payload, std::string_view field);

class runner {
 public:
  struct options {
    bool skip_on_error = false;  // park a failing event in vellum_projection_errors and go on
  };
  runner(view_db& db, spec s, options o);

  // Creates the view (bookkeeping tables, the spec's schema, its row at
  // position 0) if it has no row yet, in one transaction; checks that an
  // existing one has this spec's version. Returns the row.
  // Errors: invalid_argument for another version (naming both).
  [[nodiscard]] result<position_row> open();

  // What apply() did with a page.
  struct outcome {
    std::uint64_t applied = 0;  // events whose handlers ran
    std::uint64_t parked = 0;   // events put in vellum_projection_errors
    std::uint64_t position = 0; // the new position
  };
  // Applies `events` (consecutive seqs from the current position; earlier
  // ones are skipped, a gap is an error) and records the position with the
  // checkpoint (tree_size, root hash hex) the caller last verified.
  // A handler error stops at that event: the events before it are committed
  // (position = its seq) and the error names the seq, the event id and the
  // SQL error — unless skip_on_error parks it instead.
  // Errors: invalid_argument (a gap, an event that fails its leaf entry's
  // commitment), the handler's error, the database's errors.
  [[nodiscard]] result<outcome> apply(std::span<const boost::json::object> events, std::uint64_t tree_size,
                                      const std::string& root_hex);

  const spec& the_spec() const { return spec_; }
  std::uint64_t position() const { return position_; }

 private:
  struct compiled {
    std::string on;
    translated sql;
  };
  view_db& db_;
  spec spec_;
  options opts_;
  std::vector<compiled> handlers_;
  std::uint64_t position_ = 0;
};

}  // namespace vellum::projection
