#pragma once
// How the server reaches its live sessions from other threads: the commit
// callback wakes SSE subscribers, a stop tells every connection to close.
// Sessions register weak references, so the registry never keeps one alive.

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

namespace vellum::server {

// What the server can ask of a live session from another thread. Both calls
// only post work onto the session's strand.
class session_handle {
 public:
  virtual ~session_handle() = default;
  virtual void wake() = 0;      // new commits (SSE live mode)
  virtual void stop_now() = 0;  // server stopping: close unless a response is pending
  // The credentials were reloaded: a subscription or streamed body whose
  // credentials no longer grant its role ends at once.
  virtual void credentials_changed() = 0;
};

// Weak references to sessions: SSE subscribers (woken after each commit) and
// all connections (closed on stop). Thread-safe; expired entries are dropped
// on every call.
class session_registry {
 public:
  void add(std::weak_ptr<session_handle> s) {
    std::lock_guard lock(mutex_);
    std::erase_if(items_, [](const auto& w) { return w.expired(); });
    items_.push_back(std::move(s));
  }
  // Calls f on each live session, outside the lock.
  template <class F>
  void for_each(F f) {
    std::vector<std::shared_ptr<session_handle>> live;
    {
      std::lock_guard lock(mutex_);
      std::erase_if(items_, [](const auto& w) { return w.expired(); });
      for (auto& w : items_)
        if (auto s = w.lock()) live.push_back(std::move(s));
    }
    for (auto& s : live) f(*s);
  }

 private:
  std::mutex mutex_;
  std::vector<std::weak_ptr<session_handle>> items_;
};

}  // namespace vellum::server
