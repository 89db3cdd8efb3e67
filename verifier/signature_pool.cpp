#include "verifier/signature_pool.hpp"

#include "crypto/encoding.hpp"
#include "crypto/error.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace vellum::verifier {

using crypto::errc;

namespace {

// "name (role)" from an author object, or the author string itself.
std::string author_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (!v.is_object()) return {};
  const auto& o = v.get_object();
  std::string who;
  if (auto* n = o.if_contains("name"); n && n->is_string()) who = n->get_string();
  if (who.empty())
    if (auto* id = o.if_contains("id"); id && id->is_string()) who = id->get_string();
  if (auto* r = o.if_contains("role"); r && r->is_string())
    who += (who.empty() ? "" : " ") + std::string("(") + std::string(r->get_string()) + ")";
  return who;
}

}  // namespace

checked_event check_event(const pending_event& p, const key_map& keys) {
  checked_event out;
  auto fail = [&](errc e, std::string what) { out.problems.emplace_back(e, std::move(what)); };
  if (p.erased || !p.entry) return out;  // nothing to check / reported by the reading thread
  auto rec = crypto::check_record(*p.entry, p.salt, p.record);
  if (!rec) {
    if (rec.error() == errc::commitment_mismatch)
      fail(errc::commitment_mismatch,
           "record and salt do not match the leaf entry (commitment, seq, kid or recorded_at differ): "
           "the record, the salt or the leaf entry was altered");
    else
      fail(errc::malformed_entry, "record is not a canonical v1 event record, or the salt is not 32 bytes");
    return out;
  }
  out.record = std::move(*rec);
  const auto& r = *out.record;

  auto token = crypto::jws_parse(r.jws);
  if (!token) {
    fail(static_cast<errc>(token.error().value()), "the record's JWS is malformed: " +
                                                       token.error().message());
    return out;
  }
  // What the event says, for the report, whether or not its signature holds.
  auto payload = crypto::parse_ijson(crypto::as_chars(token->payload));
  if (!payload || !payload->is_object()) {
    fail(errc::malformed_json, "the JWS payload is not an I-JSON object");
  } else {
    const auto& o = payload->get_object();
    auto text = [&](const char* name) {
      auto* v = o.if_contains(name);
      return v && v->is_string() ? std::string(v->get_string()) : std::string();
    };
    out.type = text("type");
    out.meaning = text("meaning");
    out.occurred_at = text("occurred_at");
    out.amends = text("amends");
    if (auto* a = o.if_contains("author")) out.author = author_text(*a);
    auto* id = o.if_contains("event_id");
    if (!id || !id->is_string() || id->get_string() != r.event_id)
      fail(errc::commitment_mismatch, "the signed payload's event_id differs from the record's");
    auto* s = o.if_contains("stream");
    if (!s || !s->is_string() || s->get_string() != r.stream)
      fail(errc::commitment_mismatch, "the signed payload's stream differs from the record's");
  }

  if (token->kid != r.kid) {
    fail(errc::unknown_key, "the JWS header's kid \"" + token->kid + "\" differs from the record's kid \"" +
                                r.kid + "\"");
    return out;
  }
  auto key = keys.find(r.kid);
  if (key == keys.end()) {
    fail(errc::unknown_key, "no key line for kid \"" + r.kid + "\"");
    return out;
  }
  if (auto v = crypto::jws_verify(*token, key->second); !v) {
    if (v.error() == errc::algorithm_mismatch)
      fail(errc::algorithm_mismatch, "JWS alg \"" + token->alg + "\" does not fit the " +
                                         std::string(crypto::to_string(key->second.type())) + " key \"" +
                                         r.kid + "\"");
    else
      fail(static_cast<errc>(v.error().value()), "the JWS signature does not verify with the key \"" + r.kid + "\"");
  }
  return out;
}

// ---------------------------------------------------------------------------
// The pool: chunks go to a queue the workers take from; the calling thread
// keeps the chunks in flight in add order and hands back the oldest first.

namespace {

// A batch of events checked together on one worker.
struct chunk {
  std::vector<pending_event> in;
  std::vector<checked_event> out;
  bool done = false;  // guarded by the pool's mutex
};

void check_chunk(chunk& c, const key_map& keys) {
  c.out.reserve(c.in.size());
  for (const auto& p : c.in) c.out.push_back(check_event(p, keys));
}

}  // namespace

class signature_pool::impl {
 public:
  impl(unsigned threads, std::size_t chunk_events, const key_map& keys, sink on_checked)
      : keys_(keys),
        sink_(std::move(on_checked)),
        chunk_events_(std::max<std::size_t>(1, chunk_events)),
        max_in_flight_(2 * static_cast<std::size_t>(std::max(1u, threads))) {
    if (threads > 1)
      for (unsigned i = 0; i < threads; ++i) threads_.emplace_back([this] { run(); });
  }
  ~impl() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    work_cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void add(pending_event p) {
    if (!current_) current_ = std::make_unique<chunk>();
    current_->in.push_back(std::move(p));
    if (current_->in.size() >= chunk_events_) flush();
  }

  void finish() {
    flush();
    while (!in_flight_.empty()) hand_back_oldest();
  }

 private:
  // Sends the current chunk off (or, without threads, checks it here).
  void flush() {
    if (!current_ || current_->in.empty()) return;
    if (threads_.empty()) {
      check_chunk(*current_, keys_);
      hand_back(*current_);
      current_.reset();
      return;
    }
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(current_.get());
    }
    work_cv_.notify_one();
    in_flight_.push_back(std::move(current_));
    // Bound memory: at most two chunks per worker in flight.
    while (in_flight_.size() > max_in_flight_) hand_back_oldest();
  }

  void hand_back_oldest() {
    chunk* c = in_flight_.front().get();
    {
      std::unique_lock lock(mutex_);
      done_cv_.wait(lock, [c] { return c->done; });
    }
    hand_back(*c);
    in_flight_.pop_front();
  }

  void hand_back(chunk& c) {
    for (std::size_t i = 0; i < c.in.size(); ++i) sink_(c.in[i], c.out[i]);
  }

  // A worker: takes chunks until stopped and the queue is empty.
  void run() {
    for (;;) {
      chunk* c = nullptr;
      {
        std::unique_lock lock(mutex_);
        work_cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        c = jobs_.front();
        jobs_.pop_front();
      }
      check_chunk(*c, keys_);
      {
        std::lock_guard lock(mutex_);
        c->done = true;
      }
      done_cv_.notify_all();
    }
  }

  const key_map& keys_;
  sink sink_;
  const std::size_t chunk_events_;
  const std::size_t max_in_flight_;

  std::unique_ptr<chunk> current_;                // filling, on the calling thread
  std::deque<std::unique_ptr<chunk>> in_flight_;  // submitted, oldest first

  std::mutex mutex_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<chunk*> jobs_;  // submitted, not yet taken by a worker
  bool stop_ = false;
  std::vector<std::thread> threads_;  // joined by ~impl before any member is destroyed
};

signature_pool::signature_pool(unsigned threads, std::size_t chunk_events, const key_map& keys, sink on_checked)
    : impl_(std::make_unique<impl>(threads, chunk_events, keys, std::move(on_checked))) {}

signature_pool::~signature_pool() = default;

void signature_pool::add(pending_event p) { impl_->add(std::move(p)); }

void signature_pool::finish() { impl_->finish(); }

}  // namespace vellum::verifier
