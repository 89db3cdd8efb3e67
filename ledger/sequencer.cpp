// Group commit: many submitters, one thread that batches their statements
// into ledger::append calls (one write transaction and one fsync each).

#include "ledger/ledger.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vellum::ledger {

struct sequencer::impl {
  struct job {
    statement s;
    completion done;
  };

  impl(ledger& l, std::size_t max_queue, std::size_t max_batch)
      : ledger_(l), max_queue_(max_queue == 0 ? 1 : max_queue),
        max_batch_(max_batch == 0 ? 1 : max_batch) {
    thread_ = std::thread([this] { run(); });
  }

  // The sequencer thread: take up to max_batch jobs, append, complete, notify.
  void run() {
    std::vector<job> jobs;
    std::vector<statement> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping and drained
        const std::size_t n = std::min(max_batch_, queue_.size());
        jobs.clear();
        jobs.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          jobs.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      batch.clear();
      batch.reserve(jobs.size());
      for (job& j : jobs) batch.push_back(std::move(j.s));
      std::vector<append_outcome> outcomes = ledger_.append(batch);
      bool committed = false;
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        committed = committed || (!outcomes[i].error && !outcomes[i].duplicate);
        if (jobs[i].done) jobs[i].done(std::move(outcomes[i]));
      }
      if (committed) {
        std::function<void(std::uint64_t)> listener;
        {
          std::lock_guard lock(mu_);
          listener = on_commit_;
        }
        if (listener) listener(ledger_.tree_size());
      }
    }
  }

  ledger& ledger_;
  const std::size_t max_queue_;
  const std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<job> queue_;
  bool stopping_ = false;
  std::function<void(std::uint64_t)> on_commit_;
  std::thread thread_;
};

sequencer::sequencer(ledger& l, std::size_t max_queue, std::size_t max_batch)
    : impl_(std::make_unique<impl>(l, max_queue, max_batch)) {}

sequencer::~sequencer() { stop(); }

result<void> sequencer::submit(statement s, completion done) {
  {
    std::lock_guard lock(impl_->mu_);
    if (impl_->stopping_) return errc::shutting_down;
    if (impl_->queue_.size() >= impl_->max_queue_) return errc::overloaded;
    impl_->queue_.push_back({std::move(s), std::move(done)});
  }
  impl_->ready_.notify_one();
  return {};
}

void sequencer::on_commit(std::function<void(std::uint64_t)> f) {
  std::lock_guard lock(impl_->mu_);
  impl_->on_commit_ = std::move(f);
}

std::size_t sequencer::queue_depth() const {
  std::lock_guard lock(impl_->mu_);
  return impl_->queue_.size();
}

void sequencer::stop() {
  {
    std::lock_guard lock(impl_->mu_);
    impl_->stopping_ = true;
  }
  impl_->ready_.notify_all();
  // From a completion (the sequencer thread itself) only refuse new work;
  // the owner's stop() or destructor joins.
  if (impl_->thread_.joinable() && impl_->thread_.get_id() != std::this_thread::get_id()) {
    impl_->thread_.join();
  }
}

}  // namespace vellum::ledger
