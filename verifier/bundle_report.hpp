#pragma once
// The three forms of a bundle verification report (vellum-verify bundle):
// a human summary for the terminal, JSON for machines, and a self-contained
// HTML page a compliance officer can print (inline CSS, no scripts, nothing
// loaded from elsewhere, every text HTML-escaped).

#include "verifier/bundle.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vellum::verifier {

// Lines of text ending in '\n': verdict, anchor, selection, counts, time
// span, streams (the first 50), keys, failures (the first 100 stored).
std::string render_text(const bundle_report& r);

// Every field of the report; "verified" says the verdict. Rows are not included.
boost::json::object render_json(const bundle_report& r);

// Where a report came from, for a reader who finds the page years later.
struct report_provenance {
  std::uint64_t made_at_us = 0;           // when the check ran (µs since the epoch; 0: not stated)
  std::string verifier;                   // e.g. "vellum-verify 0.1.0"
  std::string bundle_name;                // the file checked
  std::optional<crypto::hash> bundle_sha256;  // of every byte read
};

// One check the verification ran, and how it came out.
struct check_outcome {
  std::string what;              // "Every submitter signature verifies"
  bool ran = true;               // false: not asked for (e.g. consistency without --since)
  std::uint64_t failures = 0;    // failures attributed to it (of those stored)
  std::string note;              // why not run, or what it covered
};
// The checks of docs/formats.md §8 in the order they matter to a reader.
std::vector<check_outcome> checks_run(const bundle_report& r);

// A printable page: verdict, when and by what it was made, the bundle's
// SHA-256, the checks run, log origin, tree size, root, the submitter keys
// (with a warning to compare their thumbprints out of band), the events that
// failed apart from those erased, and per stream a timeline table of its
// events with a verdict per event. Uses r.rows (verify with
// bundle_options::keep_rows).
std::string render_html(const bundle_report& r, const report_provenance& p = {});

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

}  // namespace vellum::verifier
