// Prometheus text rendering (see metrics.hpp).

#include "server/metrics.hpp"

#include <sstream>

namespace vellum::server {
namespace {

template <std::size_t N, std::size_t M>
void observe(const std::array<double, N>& bounds, std::array<std::uint64_t, M>& buckets, double v) {
  std::size_t i = 0;
  while (i < N && v > bounds[i]) ++i;
  ++buckets[i];
}

template <std::size_t N, std::size_t M>
void render_histogram(std::ostringstream& out, const char* name, const char* help,
                      const std::array<double, N>& bounds, const std::array<std::uint64_t, M>& buckets,
                      double sum, std::uint64_t count) {
  out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += buckets[i];
    out << name << "_bucket{le=\"" << bounds[i] << "\"} " << cumulative << '\n';
  }
  out << name << "_bucket{le=\"+Inf\"} " << count << '\n';
  out << name << "_sum " << sum << '\n' << name << "_count " << count << '\n';
}

}  // namespace

void metrics::count_request(const std::string& route, unsigned status) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
}

void metrics::observe_append_latency(double seconds) {
  std::lock_guard lock(mutex_);
  observe(latency_bounds, latency_buckets_, seconds);
  latency_sum_ += seconds;
  ++latency_count_;
}

void metrics::observe_batch(std::uint64_t events) {
  std::lock_guard lock(mutex_);
  observe(batch_bounds, batch_buckets_, static_cast<double>(events));
  batch_sum_ += events;
  ++batch_count_;
}

std::string metrics::render(std::size_t queue_depth) const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP vellum_http_requests_total HTTP requests answered, by route and status.\n"
         "# TYPE vellum_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "vellum_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << '\n';
  render_histogram(out, "vellum_append_latency_seconds", "Time from receiving an append to its answer.",
                   latency_bounds, latency_buckets_, latency_sum_, latency_count_);
  render_histogram(out, "vellum_commit_batch_events", "New leaves per committed sequencer batch.",
                   batch_bounds, batch_buckets_, static_cast<double>(batch_sum_), batch_count_);
  out << "# HELP vellum_tree_size Leaves in the log.\n# TYPE vellum_tree_size gauge\nvellum_tree_size "
      << tree_size_.load(std::memory_order_relaxed) << '\n';
  out << "# HELP vellum_index_unmerged_events Committed events whose event-id and stream index "
         "entries are still in memory (merged into LMDB in bulk).\n"
         "# TYPE vellum_index_unmerged_events gauge\nvellum_index_unmerged_events "
      << unmerged_.load(std::memory_order_relaxed) << '\n';
  out << "# HELP vellum_sequencer_queue_depth Statements accepted by the sequencer and not yet answered.\n"
         "# TYPE vellum_sequencer_queue_depth gauge\nvellum_sequencer_queue_depth " << queue_depth << '\n';
  out << "# HELP vellum_open_connections Open client connections.\n"
         "# TYPE vellum_open_connections gauge\nvellum_open_connections "
      << connections_.load(std::memory_order_relaxed) << '\n';
  return out.str();
}

}  // namespace vellum::server
