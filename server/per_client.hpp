#pragma once
// How many expensive requests (exports and analytics exports, each a worker
// thread reading the whole selection) one client address may have running at
// once (limits.max_expensive_per_ip): a request past it is answered 429 at
// once, so one client cannot keep every worker busy. Thread-safe; a ticket gives its place back when the last copy
// of it goes (a streamed body holds it until the body is written).

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace vellum::server {

class per_client_limit {
 public:
  explicit per_client_limit(std::size_t max) : state_(std::make_shared<state>()) { state_->max = max; }

  using ticket = std::shared_ptr<void>;
  // A ticket for `address`, or nullptr when it has `max` running already.
  ticket enter(const std::string& address) {
    std::lock_guard lock(state_->mu);
    auto& n = state_->running[address];
    if (n >= state_->max) {
      if (n == 0) state_->running.erase(address);
      return nullptr;
    }
    ++n;
    auto s = state_;
    // Points at the state (a ticket must test true); the deleter gives the place back.
    return ticket(static_cast<void*>(s.get()), [s, address](void*) {
      std::lock_guard l(s->mu);
      if (auto it = s->running.find(address); it != s->running.end() && --it->second == 0) s->running.erase(it);
    });
  }
  std::size_t max() const { return state_->max; }

 private:
  struct state {
    std::mutex mu;
    std::size_t max = 0;
    std::unordered_map<std::string, std::size_t> running;
  };
  std::shared_ptr<state> state_;
};

}  // namespace vellum::server
