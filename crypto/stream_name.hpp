#pragma once
// Stream names and stream prefixes (docs/formats.md §3, "Streams"): the one
// place that says what a stream name is and which streams a prefix selects,
// for the payload check, the read filters (query, subscribe, analytics), the
// export and its offline verifier, and the submitters' `streams` grants.

#include <string_view>

namespace vellum::crypto {

// 1 to 256 characters of [A-Za-z0-9-_.:@], the first alphanumeric.
bool is_valid_stream(std::string_view s);

// The characters that may end one part of a stream name: - _ . : @
bool is_stream_separator(char c);

// Whether `prefix` selects `stream`: the empty prefix selects every stream;
// otherwise the stream is the prefix itself, or begins with it where a part
// of the name ends — the prefix ends with a separator, or the stream's next
// character is one. So "patient-1" selects "patient-1" and "patient-1.notes"
// but not "patient-10", and "patient-" selects every "patient-…" stream.
bool stream_in_prefix(std::string_view stream, std::string_view prefix);

}  // namespace vellum::crypto
