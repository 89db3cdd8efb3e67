#include "verifier/bundle_report.hpp"

#include "verifier/verify.hpp"

#include "crypto/encoding.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

namespace vellum::verifier {

namespace {

std::string b64(const crypto::hash& h) { return crypto::base64_encode(h); }

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string revisions(const stream_summary& s) {
  return s.first_revision == s.last_revision
             ? "revision " + std::to_string(s.first_revision)
             : "revisions " + std::to_string(s.first_revision) + " to " + std::to_string(s.last_revision);
}

std::string verdict_line(const bundle_report& r) {
  if (!r.read_error.empty()) return "bundle could not be read: " + r.read_error;
  if (r.verified()) return "bundle verified";
  return "bundle does NOT verify: " + plural(r.failure_count, "failure", "failures");
}

std::string time_span(const bundle_report& r) {
  if (!r.first_recorded_at_us) return "(no events)";
  return crypto::format_time_us(*r.first_recorded_at_us) + " to " + crypto::format_time_us(*r.last_recorded_at_us);
}

std::string since_text(const consistency_summary& c) {
  return "extends the tree of size " + std::to_string(c.from_size) + " (root " + b64(c.from_root) + ")" +
         (c.trusted ? ", the trusted checkpoint given with --since"
                    : "; no trusted checkpoint was given (--since) to compare it with");
}

}  // namespace

std::vector<check_outcome> checks_run(const bundle_report& r) {
  using crypto::errc;
  enum { anchor, commitment, signature, root, selection, consistency };
  std::vector<check_outcome> out = {
      {"The checkpoint is signed by the log key", true, r.anchored ? 0u : 1u, {}},
      {"Every record and salt hash to its leaf entry: the record is what was logged", true, 0, {}},
      {"Every event's JWS verifies with its submitter's key, and says what its record says", true, 0, {}},
      {"The leaves and nodes fold into the checkpoint's root hash", true, 0, {}},
      {"The bundle holds exactly what its selection claims, in order, revisions contiguous", true, 0, {}},
      {"The log grew from the trusted checkpoint without rewriting history", r.consistency.has_value(), 0,
       r.consistency ? std::string{} : "not run: no trusted checkpoint was given (--since)"},
  };
  if (r.consistency && !r.consistency->trusted) {
    out[consistency].ran = false;
    out[consistency].note = "the bundle carries a consistency proof, but no trusted checkpoint was given (--since)";
  }
  auto is = [](const bundle_failure& f, errc e) { return f.code == crypto::make_error_code(e); };
  for (const auto& f : r.failures) {
    if (is(f, errc::inconsistent_trees)) ++out[consistency].failures;
    else if (is(f, errc::proof_mismatch) || (is(f, errc::malformed_proof) && !f.seq)) ++out[root].failures;
    else if (f.seq && is(f, errc::commitment_mismatch)) ++out[commitment].failures;
    else if (f.seq && (is(f, errc::bad_signature) || is(f, errc::unknown_key) || is(f, errc::algorithm_mismatch) ||
                       is(f, errc::malformed_jws) || is(f, errc::malformed_json) || is(f, errc::bad_encoding)))
      ++out[signature].failures;
    else if (f.seq && is(f, errc::malformed_entry)) ++out[commitment].failures;
    else if (!is(f, errc::malformed_checkpoint)) ++out[selection].failures;
  }
  if (!r.complete) out[selection].note = "the bundle ended before its end line: not every check could finish";
  return out;
}

std::string render_text(const bundle_report& r) {
  std::string s = verdict_line(r) + "\n";
  if (!r.origin.empty()) s += "  log:          " + r.origin + "\n";
  if (r.anchored)
    s += "  anchored at:  tree size " + std::to_string(r.tree_size) + ", root " + b64(r.root) +
         " (checkpoint signed by the log key)\n";
  if (r.consistency) s += "  consistency:  " + since_text(*r.consistency) + "\n";
  if (!r.format.empty()) {
    s += "  selection:    " + r.selection.describe() + "\n";
    s += std::string("  completeness: ") +
         (r.complete_streams ? "claims every event of each selected stream (revisions checked contiguous)"
                             : "the selected range (checked by seq or by fences)") +
         "\n";
  }
  s += "  events:       " + std::to_string(r.events) + " (" + std::to_string(r.erased) + " erased), " +
       plural(r.fences, "fence", "fences") + ", " + plural(r.nodes, "node", "nodes") + ", " +
       std::to_string(r.lines) + " lines, " + std::to_string(r.bytes) + " bytes\n";
  s += "  recorded:     " + time_span(r) + "\n";
  s += "  streams:      " + std::to_string(r.streams.size()) + "\n";
  constexpr std::size_t max_streams = 50;
  for (std::size_t i = 0; i < r.streams.size() && i < max_streams; ++i) {
    const auto& st = r.streams[i];
    s += "    " + st.stream + ": " + plural(st.events, "event", "events") + ", " + revisions(st) + "\n";
  }
  if (r.streams.size() > max_streams) s += "    ... and " + std::to_string(r.streams.size() - max_streams) + " more\n";
  if (!r.keys.empty()) s += "  submitter keys (compare the thumbprints with the key registry):\n";
  for (const auto& k : r.keys)
    s += "    " + k.kid + "  " + k.type + "  " + k.thumbprint + "  " + plural(k.events, "event", "events") + "\n";
  if (r.failure_count) {
    s += "  failures:\n";
    constexpr std::size_t max_failures = 100;
    for (std::size_t i = 0; i < r.failures.size() && i < max_failures; ++i)
      s += "    " + r.failures[i].describe() + "\n";
    if (r.failure_count > std::min<std::uint64_t>(r.failures.size(), max_failures))
      s += "    ... " + std::to_string(r.failure_count - std::min<std::uint64_t>(r.failures.size(), max_failures)) +
           " more (--json lists the first " + std::to_string(r.failures.size()) + ")\n";
  }
  return s;
}

boost::json::object render_json(const bundle_report& r) {
  boost::json::object o;
  o["verified"] = r.verified();
  o["complete"] = r.complete;
  if (!r.read_error.empty()) o["read_error"] = r.read_error;
  o["format"] = r.format;
  o["origin"] = r.origin;
  o["log_key"] = r.log_key;
  boost::json::object sel;
  const auto& s = r.selection;
  if (s.stream) sel["stream"] = *s.stream;
  if (s.prefix) sel["prefix"] = *s.prefix;
  if (s.from_seq) sel["from_seq"] = *s.from_seq;
  if (s.to_seq) sel["to_seq"] = *s.to_seq;
  if (s.from_time_us) sel["from_time"] = crypto::format_time_us(*s.from_time_us);
  if (s.to_time_us) sel["to_time"] = crypto::format_time_us(*s.to_time_us);
  o["selection"] = std::move(sel);
  o["complete_streams"] = r.complete_streams;
  o["anchored"] = r.anchored;
  o["tree_size"] = r.tree_size;
  o["root"] = b64(r.root);
  o["root_hex"] = crypto::hex_encode(r.root);
  if (r.consistency)
    o["consistency"] = {{"from_size", r.consistency->from_size},
                        {"from_root", b64(r.consistency->from_root)},
                        {"trusted", r.consistency->trusted}};
  o["events"] = r.events;
  o["erased"] = r.erased;
  o["fences"] = r.fences;
  o["nodes"] = r.nodes;
  o["lines"] = r.lines;
  o["bytes"] = r.bytes;
  if (r.first_recorded_at_us)
    o["recorded"] = {{"first", crypto::format_time_us(*r.first_recorded_at_us)},
                     {"last", crypto::format_time_us(*r.last_recorded_at_us)}};
  boost::json::array streams;
  for (const auto& st : r.streams)
    streams.push_back({{"stream", st.stream},
                       {"events", st.events},
                       {"first_revision", st.first_revision},
                       {"last_revision", st.last_revision},
                       {"first_seq", st.first_seq},
                       {"last_seq", st.last_seq}});
  o["streams"] = std::move(streams);
  boost::json::array keys;
  for (const auto& k : r.keys)
    keys.push_back({{"kid", k.kid}, {"type", k.type}, {"jwk_thumbprint", k.thumbprint}, {"events", k.events}});
  o["keys"] = std::move(keys);
  boost::json::array failures;
  for (const auto& f : r.failures) {
    boost::json::object fo;
    if (f.line) fo["line"] = f.line;
    if (f.seq) fo["seq"] = *f.seq;
    if (!f.event_id.empty()) fo["event_id"] = f.event_id;
    fo["code"] = failure_code(f.code);
    fo["what"] = f.what;
    failures.push_back(std::move(fo));
  }
  o["failures"] = std::move(failures);
  o["failure_count"] = r.failure_count;
  return o;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

const char* page_style = R"(body{font:11pt/1.4 "Helvetica Neue",Arial,sans-serif;color:#111;margin:2em}
h1{font-size:16pt;margin:0 0 .3em}h2{font-size:13pt;margin:1.5em 0 .4em;page-break-after:avoid}
.verdict{font-size:14pt;font-weight:bold;padding:.4em .6em;border:2px solid}
.ok{color:#0a5c1f;border-color:#0a5c1f}.bad{color:#9b1111;border-color:#9b1111}
table{border-collapse:collapse;width:100%;font-size:9pt;margin:.3em 0}
th,td{border:1px solid #999;padding:2px 4px;text-align:left;vertical-align:top}
th{background:#eee}tr{page-break-inside:avoid}td.f{color:#9b1111;font-weight:bold}
code{font:9pt monospace;word-break:break-all}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dt{font-weight:bold}dd{margin:0}@media print{body{margin:1cm}}
)";

void add_row(std::string& h, const event_row& e) {
  auto cell = [&](const std::string& text) { h += "<td>" + html_escape(text) + "</td>"; };
  h += "<tr>";
  cell(e.revision ? std::to_string(*e.revision) : "");
  cell(std::to_string(e.seq));
  cell(e.erased ? "(erased)" : e.type);
  cell(e.author);
  cell(e.meaning);
  cell(e.occurred_at);
  cell(crypto::format_time_us(e.recorded_at_us));
  cell(e.amends.empty() ? e.event_id : e.event_id + " (amends " + e.amends + ")");
  if (e.verdict.empty())
    h += "<td>verified</td>";
  else
    h += "<td class=\"f\">FAILED: " + html_escape(e.verdict) + "</td>";
  h += "</tr>\n";
}

const char* table_head =
    "<table><thead><tr><th>rev.</th><th>seq</th><th>type</th><th>author</th><th>meaning</th>"
    "<th>occurred at</th><th>recorded at</th><th>event id</th><th>verdict</th></tr></thead><tbody>\n";

}  // namespace

std::string render_html(const bundle_report& r, const report_provenance& p) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>";
  h += html_escape("Sealed export verification: " + r.origin) + "</title>\n<style>" + page_style +
       "</style></head><body>\n";
  h += "<h1>Sealed export verification report</h1>\n";
  h += std::string("<p class=\"verdict ") + (r.verified() ? "ok" : "bad") + "\">" +
       html_escape(verdict_line(r)) + "</p>\n<dl>\n";
  auto item = [&](const std::string& term, const std::string& text, bool code = false) {
    h += "<dt>" + html_escape(term) + "</dt><dd>" + (code ? "<code>" : "") + html_escape(text) +
         (code ? "</code>" : "") + "</dd>\n";
  };
  if (!p.bundle_name.empty()) item("Bundle", p.bundle_name, true);
  if (p.bundle_sha256) item("Bundle SHA-256", crypto::hex_encode(*p.bundle_sha256), true);
  if (p.made_at_us) item("Checked at", crypto::format_time_us(p.made_at_us));
  if (!p.verifier.empty()) item("Checked by", p.verifier);
  item("Log (origin)", r.origin);
  item("Log verifier key", r.log_key, true);
  item("Anchored at tree size", r.anchored ? std::to_string(r.tree_size) : "(checkpoint not verified)");
  item("Root hash", b64(r.root), true);
  if (r.consistency) item("Consistency", since_text(*r.consistency));
  item("Selection", r.selection.describe());
  item("Completeness", r.complete_streams ? "every event of each selected stream is claimed; revisions checked"
                                          : "the selected range, checked by seq or by fences");
  item("Events", std::to_string(r.events) + " (" + std::to_string(r.erased) + " erased)");
  item("Recorded", time_span(r));
  h += "</dl>\n<h2>Checks run</h2>\n<table><thead><tr><th>check</th><th>result</th></tr></thead><tbody>\n";
  for (const auto& c : checks_run(r)) {
    std::string result = !c.ran ? "not run" : c.failures == 0 ? "passed" : "FAILED (" + std::to_string(c.failures) + ")";
    if (!c.note.empty()) result += ": " + c.note;
    h += "<tr><td>" + html_escape(c.what) + "</td><td" + (c.ran && c.failures ? " class=\"f\"" : "") + ">" +
         html_escape(result) + "</td></tr>\n";
  }
  h += "</tbody></table>\n<h2>Submitter keys</h2>\n"
       "<p><strong>Compare each thumbprint with the key registry out of band</strong> (the hospital's "
       "registration records, not this file): a verified signature proves only that the key listed here "
       "signed.</p>\n<table><thead><tr><th>kid</th><th>type</th>"
       "<th>JWK thumbprint (RFC 7638)</th><th>events</th></tr></thead><tbody>\n";
  for (const auto& k : r.keys)
    h += "<tr><td>" + html_escape(k.kid) + "</td><td>" + html_escape(k.type) + "</td><td><code>" +
         html_escape(k.thumbprint) + "</code></td><td>" + std::to_string(k.events) + "</td></tr>\n";
  h += "</tbody></table>\n";

  // Failures that no event row carries (the bundle's structure, its end).
  std::vector<const bundle_failure*> general;
  for (const auto& f : r.failures)
    if (!f.seq) general.push_back(&f);
  if (!general.empty() || !r.read_error.empty()) {
    h += "<h2>Problems with the bundle as a whole</h2>\n<ul>\n";
    if (!r.read_error.empty()) h += "<li>" + html_escape(r.read_error) + "</li>\n";
    for (const auto* f : general) h += "<li>" + html_escape(f->describe()) + "</li>\n";
    h += "</ul>\n";
  }

  // Events that failed (tampered, or not what their signature says) apart
  // from events that were erased (content removed, leaf kept: not a failure).
  std::vector<const event_row*> failed, erased;
  for (const auto& e : r.rows) {
    if (!e.verdict.empty()) failed.push_back(&e);
    else if (e.erased) erased.push_back(&e);
  }
  if (!failed.empty()) {
    h += "<h2>Events that FAILED verification (" + std::to_string(failed.size()) + ")</h2>\n" +
         std::string(table_head);
    for (const auto* e : failed) add_row(h, *e);
    h += "</tbody></table>\n";
  }
  h += "<h2>Erased events (" + std::to_string(erased.size()) + ")</h2>\n";
  if (erased.empty()) {
    h += "<p>None.</p>\n";
  } else {
    h += "<p>Their record, signature and salt were deleted; their leaf stays in the tree, so the log "
         "still verifies. An erasure is not a failure.</p>\n" + std::string(table_head);
    for (const auto* e : erased) add_row(h, *e);
    h += "</tbody></table>\n";
  }

  // Per stream, its events in seq order.
  std::map<std::string, std::vector<const event_row*>> by_stream;
  for (const auto& e : r.rows) {
    if (!e.stream.empty()) by_stream[e.stream].push_back(&e);
    else if (!e.erased && e.verdict.empty()) by_stream["(stream unknown)"].push_back(&e);
  }
  for (const auto& [stream, rows] : by_stream) {
    h += "<h2>Stream " + html_escape(stream) + "</h2>\n" + table_head;
    for (const auto* e : rows) add_row(h, *e);
    h += "</tbody></table>\n";
  }
  h += "<p>Checked offline with vellum-verify against the log's verifier key only. A verified bundle proves "
       "that these records were in the log's Merkle tree at the anchored size, unaltered, signed by the keys "
       "listed.</p>\n</body></html>\n";
  return h;
}

}  // namespace vellum::verifier
