#pragma once
// The three forms of a bundle verification report (vellum-verify bundle):
// a human summary for the terminal, JSON for machines, and a self-contained
// HTML page a compliance officer can print (inline CSS, no scripts, nothing
// loaded from elsewhere, every text HTML-escaped).

#include "verifier/bundle.hpp"

#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace vellum::verifier {

// Lines of text ending in '\n': verdict, anchor, selection, counts, time
// span, streams (the first 50), keys, failures (the first 100 stored).
std::string render_text(const bundle_report& r);

// Every field of the report; "verified" says the verdict. Rows are not included.
boost::json::object render_json(const bundle_report& r);

// A printable page: verdict, log origin, tree size, root, keys, and per
// stream a timeline table of its events with a verdict per event. Uses
// r.rows (verify with bundle_options::keep_rows).
std::string render_html(const bundle_report& r);

// &, <, >, " and ' as character references.
std::string html_escape(std::string_view text);

}  // namespace vellum::verifier
