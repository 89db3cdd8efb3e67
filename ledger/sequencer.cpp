// Group commit in two stages: many submitters; one thread that takes up to
// max_batch statements at a time and prepares them (ledger::prepare:
// sequencing, records, hashes, the signed checkpoint, receipts); one thread
// that commits prepared batches in order (one write transaction and one
// fsync each) and runs the completions. While batch N is being written and
// synced, batch N+1 is being built.

#include "ledger/ledger.hpp"

#include <chrono>
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
  struct prepared {
    std::vector<completion> done;
    std::unique_ptr<prepared_batch> batch;
  };
  // Prepared batches waiting for the committing thread. One ready behind
  // the one being written keeps both threads busy; preparing further ahead
  // would only cut what arrives during a commit into smaller batches (more
  // commits, more dirty pages per event).
  static constexpr std::size_t max_prepared = 1;
  // How long nothing must arrive before an idle-time index merge.
  static constexpr std::chrono::milliseconds idle_quiet{50};

  impl(ledger& l, std::size_t max_queue, std::size_t max_batch, std::uint64_t idle_merge)
      : ledger_(l), max_queue_(max_queue == 0 ? 1 : max_queue),
        max_batch_(max_batch == 0 ? 1 : max_batch), idle_merge_(idle_merge) {
    committer_ = std::thread([this] { commit_loop(); });
    preparer_ = std::thread([this] { prepare_loop(); });
  }

  // Takes up to max_batch jobs, prepares them, hands them on.
  void prepare_loop() {
    std::vector<statement> batch;
    for (;;) {
      prepared p;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) {  // stopping and drained
          prepare_done_ = true;
          lock.unlock();
          prepared_ready_.notify_all();
          return;
        }
        const std::size_t n = std::min(max_batch_, queue_.size());
        batch.clear();
        batch.reserve(n);
        p.done.reserve(n);
        for (std::size_t i = 0; i < n; ++i) {
          batch.push_back(std::move(queue_.front().s));
          p.done.push_back(std::move(queue_.front().done));
          queue_.pop_front();
        }
      }
      p.batch = ledger_.prepare(batch);
      std::unique_lock lock(mu_);
      prepared_room_.wait(lock, [&] { return prepared_.size() < max_prepared; });
      prepared_.push_back(std::move(p));
      lock.unlock();
      prepared_ready_.notify_one();
    }
  }

  // Commits prepared batches in order and completes their statements.
  void commit_loop() {
    for (;;) {
      prepared p;
      {
        std::unique_lock lock(mu_);
        auto has_work = [&] { return !prepared_.empty() || prepare_done_; };
        // Quiet for a moment with a backlog of unmerged index entries: merge
        // them now rather than in a busy moment (a failure is left to the
        // next commit, which reports it). Between the bursts of a busy load
        // the queue empties for far less than idle_quiet.
        if (!has_work() && idle_merge_ != 0 && ledger_.unmerged_events() >= idle_merge_ &&
            !prepared_ready_.wait_for(lock, idle_quiet, has_work) && in_flight_ == 0) {
          lock.unlock();
          (void)ledger_.merge_index(idle_merge_);
          continue;
        }
        prepared_ready_.wait(lock, has_work);
        if (prepared_.empty()) return;  // the preparer has finished
        p = std::move(prepared_.front());
        prepared_.pop_front();
      }
      prepared_room_.notify_one();
      std::vector<append_outcome> outcomes = ledger_.commit(std::move(p.batch));
      bool committed = false;
      for (std::size_t i = 0; i < p.done.size(); ++i) {
        append_outcome o = i < outcomes.size()
                               ? std::move(outcomes[i])
                               : append_outcome{errc::shutting_down, false, std::nullopt, {}};
        committed = committed || (!o.error && !o.duplicate);
        {
          std::lock_guard lock(mu_);
          --in_flight_;
        }
        if (p.done[i]) p.done[i](std::move(o));
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

  bool on_own_thread() const {
    const auto me = std::this_thread::get_id();
    return me == preparer_.get_id() || me == committer_.get_id();
  }

  ledger& ledger_;
  const std::size_t max_queue_;
  const std::size_t max_batch_;
  const std::uint64_t idle_merge_;
  mutable std::mutex mu_;
  std::condition_variable ready_;           // queue_ not empty, or stopping_
  std::condition_variable prepared_room_;   // prepared_ below max_prepared
  std::condition_variable prepared_ready_;  // prepared_ not empty, or prepare_done_
  std::deque<job> queue_;
  std::deque<prepared> prepared_;
  std::size_t in_flight_ = 0;  // accepted, not yet handed to its completion
  bool stopping_ = false;
  bool prepare_done_ = false;
  std::function<void(std::uint64_t)> on_commit_;
  std::thread committer_;
  std::thread preparer_;
};

sequencer::sequencer(ledger& l, std::size_t max_queue, std::size_t max_batch,
                     std::uint64_t idle_merge)
    : impl_(std::make_unique<impl>(l, max_queue, max_batch, idle_merge)) {}

sequencer::~sequencer() { stop(); }

result<void> sequencer::submit(statement s, completion done) {
  {
    std::lock_guard lock(impl_->mu_);
    if (impl_->stopping_) return errc::shutting_down;
    if (impl_->in_flight_ >= impl_->max_queue_) return errc::overloaded;
    impl_->queue_.push_back({std::move(s), std::move(done)});
    ++impl_->in_flight_;
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
  return impl_->in_flight_;
}

void sequencer::stop() {
  {
    std::lock_guard lock(impl_->mu_);
    impl_->stopping_ = true;
  }
  impl_->ready_.notify_all();
  // From a completion (a sequencer thread itself) only refuse new work; the
  // owner's stop() or destructor joins.
  if (impl_->on_own_thread()) return;
  if (impl_->preparer_.joinable()) impl_->preparer_.join();
  if (impl_->committer_.joinable()) impl_->committer_.join();
}

}  // namespace vellum::ledger
