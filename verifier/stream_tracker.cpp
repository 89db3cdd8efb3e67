#include "verifier/stream_tracker.hpp"

#include "crypto/error.hpp"

namespace vellum::verifier {

using crypto::errc;

status stream_tracker::add(std::uint64_t seq, std::uint64_t erased_before, const crypto::event_record& rec) {
  auto [it, fresh] = streams_.try_emplace(rec.stream);
  auto& st = it->second;
  if (fresh) {
    st.first_revision = st.last_revision = rec.revision;
    st.first_seq = st.last_seq = seq;
    st.events = 1;
    st.erased_seen = erased_before;
    // Revisions before the first can only be erased events.
    if (complete_streams_ && rec.revision > erased_before)
      return {errc::malformed_entry, "stream \"" + rec.stream + "\" begins at revision " +
                                         std::to_string(rec.revision) + ": earlier revisions are missing"};
    return {};
  }
  status problem;
  if (complete_streams_) {
    if (rec.revision <= st.last_revision)
      problem = {errc::malformed_entry, "revision " + std::to_string(rec.revision) + " of stream \"" + rec.stream +
                                            "\" follows revision " + std::to_string(st.last_revision)};
    else if (rec.revision - st.last_revision - 1 > erased_before - st.erased_seen)
      problem = {errc::malformed_entry, "revisions " + std::to_string(st.last_revision + 1) + " to " +
                                            std::to_string(rec.revision - 1) + " of stream \"" + rec.stream +
                                            "\" are missing"};
  }
  st.last_revision = rec.revision;
  st.last_seq = seq;
  st.erased_seen = erased_before;
  ++st.events;
  return problem;
}

std::vector<stream_summary> stream_tracker::summaries() const {
  std::vector<stream_summary> out;
  for (const auto& [name, st] : streams_)
    out.push_back({name, st.events, st.first_revision, st.last_revision, st.first_seq, st.last_seq});
  return out;
}

}  // namespace vellum::verifier
