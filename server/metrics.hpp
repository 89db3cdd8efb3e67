#pragma once
// Prometheus metrics of vellumd (text exposition format 0.0.4). Thread-safe;
// one instance per server, passed in (no global state).

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace vellum::server {

class metrics {
 public:
  // Counts one answered request: route is the route template ("GET /v1/events/{seq}").
  void count_request(const std::string& route, unsigned status);
  // Observes the time from receiving an append to its answer.
  void observe_append_latency(double seconds);
  // Observes one committed batch of `events` new leaves.
  void observe_batch(std::uint64_t events);
  void set_tree_size(std::uint64_t n) { tree_size_.store(n, std::memory_order_relaxed); }
  void set_unmerged(std::uint64_t n) { unmerged_.store(n, std::memory_order_relaxed); }
  void connection_opened() { connections_.fetch_add(1, std::memory_order_relaxed); }
  void connection_closed() { connections_.fetch_sub(1, std::memory_order_relaxed); }
  std::int64_t connections() const { return connections_.load(std::memory_order_relaxed); }

  // The exposition text; queue_depth is sampled by the caller.
  std::string render(std::size_t queue_depth) const;

 private:
  static constexpr std::array<double, 12> latency_bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05, 0.1, 0.25, 0.5, 1, 2.5};
  static constexpr std::array<double, 9> batch_bounds{1, 2, 5, 10, 25, 50, 100, 250, 1000};

  mutable std::mutex mutex_;
  std::map<std::pair<std::string, unsigned>, std::uint64_t> requests_;
  std::array<std::uint64_t, latency_bounds.size() + 1> latency_buckets_{};
  double latency_sum_ = 0;
  std::uint64_t latency_count_ = 0;
  std::array<std::uint64_t, batch_bounds.size() + 1> batch_buckets_{};
  std::uint64_t batch_sum_ = 0;
  std::uint64_t batch_count_ = 0;
  std::atomic<std::uint64_t> tree_size_{0};
  std::atomic<std::uint64_t> unmerged_{0};
  std::atomic<std::int64_t> connections_{0};
};

}  // namespace vellum::server
