#pragma once
// The event store: streams of signed events anchored in an RFC 9162 Merkle
// tree, on one LMDB environment (schema: ledger/schema.hpp, docs/formats.md).
//
// Threading: every read function may be called from any thread at any time
// and uses its own LMDB read transaction (readers never wait for the writer).
// append() (or prepare() + commit()) is the single writer; concurrent calls
// are serialised internally, commits in the order batches were prepared.
// Use `sequencer` (below) to batch appends from many threads (group commit).

#include "crypto/checkpoint.hpp"
#include "crypto/error.hpp"
#include "crypto/keys.hpp"
#include "crypto/merkle.hpp"
#include "crypto/tile.hpp"

#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vellum::ledger {

enum class errc {
  ok = 0,
  not_found = 1,        // no such seq / event id / stream / checkpoint
  revision_conflict,    // expected_revision does not match the stream
  event_id_conflict,    // event_id already used by a different statement
  storage_full,         // the disk (not the map) is full; nothing was written
  io_error,             // the environment failed (open, read, fsync)
  corrupt,              // stored bytes fail their checked decoder
  invalid_argument,     // e.g. tree size beyond the current one, limit 0
  overloaded,           // the sequencer queue is full
  shutting_down,        // the sequencer is stopping
  key_error,            // log key file unreadable or malformed
  reference_not_found,  // amends/voids names no event of the same stream
};

const boost::system::error_category& ledger_category() noexcept;
inline boost::system::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), ledger_category()};
}
inline std::ostream& operator<<(std::ostream& os, errc e) { return os << make_error_code(e).message(); }

using crypto::hash;

// The clock the sequencer assigns recorded_at from: microseconds since the
// Unix epoch. Injected so tests control time.
using clock_fn = std::function<std::uint64_t()>;
std::uint64_t system_clock_us();

struct options {
  std::string data_dir;                    // created if missing
  std::string origin = "vellum.localhost/log";  // checkpoint origin + log key name; fixed at creation
  std::string key_file;                    // empty: <data_dir>/log-key.pem (generated, 0600)
  std::size_t initial_map_size = std::size_t{1} << 30;  // grows by itself when full
  bool sync = true;                        // fsync every commit (tests may turn off)
  // The event-id and stream indexes are merged into LMDB in bulk once this
  // many events are unmerged (kept in memory until then, rebuilt from the
  // records at open); 0 merges with every batch. See docs/architecture.md.
  std::uint64_t index_merge_events = 65536;
  clock_fn clock = system_clock_us;
};

struct expected_revision {
  enum class kind { any, no_stream, exact };
  kind k = kind::any;
  std::uint64_t value = 0;  // for exact
  static expected_revision any() { return {}; }
  static expected_revision no_stream() { return {kind::no_stream, 0}; }
  static expected_revision exact(std::uint64_t v) { return {kind::exact, v}; }
};

// A statement whose JWS has already been parsed and verified by the caller.
struct statement {
  std::string jws;       // compact serialization, as received
  std::string kid;       // submitter key id (from the protected header)
  std::string event_id;  // canonical lower-case UUID (idempotency key)
  std::string stream;
  std::string type;
  std::string author_id;  // query_terms_of(payload).author_id (the by_author index)
  std::uint64_t occurred_at_us = 0;  // query_terms_of(payload).occurred_at_us (by_occurred)
  std::string amends;    // event_id this one corrects, or empty
  std::string voids;     // event_id this one withdraws, or empty (never with amends)
  expected_revision expected;
};

// Everything needed to verify an appended event offline (docs/formats.md, "receipt").
struct receipt {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t revision = 0;
  std::uint64_t recorded_at_us = 0;
  std::string event_id;
  std::string kid;
  bytes leaf_entry;        // crypto::leaf_entry bytes
  std::string record;      // event record JSON bytes (crypto::event_record)
  bytes salt;              // 32 bytes
  std::string checkpoint;  // signed note: checkpoint of tree_size, signed by the log key
  std::uint64_t tree_size = 0;
  std::vector<hash> inclusion_proof;  // leaf seq in tree_size

  // JSON form, documented in docs/formats.md ("receipt"): base64 for bytes.
  boost::json::object to_json() const;
};
[[nodiscard]] result<receipt> receipt_from_json(const boost::json::object& o);

struct append_outcome {
  status error;  // success unless failed
  bool duplicate = false;           // idempotent repeat: receipt is the original's event
  // revision_conflict: the stream's current revision (nullopt if no stream).
  std::optional<std::uint64_t> current_revision;
  receipt rcpt;                     // valid when !error
};

// A stored event as readers get it.
struct stored_event {
  std::uint64_t seq = 0;
  std::string stream;
  std::uint64_t revision = 0;
  std::uint64_t recorded_at_us = 0;
  std::string event_id;
  std::string kid;
  std::string jws;
  std::string record;  // exact record bytes
  bytes salt;
  bytes leaf_entry;
  bool erased = false;  // reserved for logged erasure: record and salt gone
};

// What the query indexes key an event by, read from its signed payload:
// the one definition for the commit (through the statement), the upgrade of
// an older store, fsck and the checks of every query candidate.
struct query_terms {
  std::string type;
  std::string author_id;  // author.id, or the author itself when it is a string
  std::uint64_t occurred_at_us = 0;  // 0 if occurred_at is missing or not RFC 3339
};
[[nodiscard]] query_terms query_terms_of(const boost::json::object& payload);

// The filters of GET /v1/query and GET /v1/analytics (docs/api.md). Every
// given filter must hold; the time range is [from_us, to_us) on recorded_at,
// or on occurred_at when by_occurred_at.
struct event_filter {
  std::optional<std::string> type = {};    // exact event type
  std::optional<std::string> author = {};  // exact author id
  std::optional<std::string> stream = {};  // exact stream
  std::optional<std::string> prefix = {};  // stream prefix (not with stream)
  std::optional<std::uint64_t> from_us = {};
  std::optional<std::uint64_t> to_us = {};
  bool by_occurred_at = false;
};
// stream and prefix not both, a non-empty prefix, from < to. Errors:
// invalid_argument with the reason.
[[nodiscard]] result<void> validate_filter(const event_filter& f);

// How a query ended (ledger::query).
struct query_outcome {
  std::uint64_t tree_size = 0;  // of the snapshot it read
  std::uint64_t examined = 0;   // index candidates whose event was read
  // Where to go on (a cursor): the seq after the last event handed out when
  // `each` said stop, or the next candidate when max_examined was reached;
  // nullopt when nothing in the snapshot is left to match.
  std::optional<std::uint64_t> resume;
};

struct signed_checkpoint {
  crypto::checkpoint body;
  std::string note;  // the full signed note text
};

enum class direction { forward, backward };

// A batch sequenced and built by ledger::prepare, waiting for its commit.
// Destroying one that was never committed fails it and every batch prepared
// on top of it (their commits then report shutting_down).
class prepared_batch {
 public:
  struct state;  // ledger/ledger_impl.hpp
  explicit prepared_batch(std::unique_ptr<state> s);
  ~prepared_batch();
  prepared_batch(const prepared_batch&) = delete;
  prepared_batch& operator=(const prepared_batch&) = delete;
  std::size_t statements() const;

 private:
  friend class ledger;
  std::unique_ptr<state> state_;
};

class ledger {
 public:
  // Opens or creates the data directory. Creates the log key on first open
  // (or loads options.key_file). The origin is stored at creation; opening
  // with a different non-default origin fails with invalid_argument.
  // Throws nothing; errors: io_error, key_error, corrupt, invalid_argument,
  // each with a reason that names what is wrong (both origins, the key file…).
  [[nodiscard]] static result<std::unique_ptr<ledger>> open(const options& opts);
  ~ledger();
  ledger(const ledger&) = delete;
  ledger& operator=(const ledger&) = delete;

  const std::string& origin() const;
  std::string verifier_key() const;  // C2SP vkey of the log key

  // Appends a batch in one LMDB write transaction (one fsync) and signs one
  // checkpoint covering it. Per statement, in order: idempotency (same
  // event_id + same JWS signing input → duplicate with the original receipt,
  // whatever the signature bytes: an ECDSA (r, n - s) twin is the same
  // statement; a different signing input → event_id_conflict), then
  // expected_revision (revision_conflict).
  // A rejected statement never disturbs the others. If the whole commit
  // fails (storage_full, io_error), every outcome carries that error and
  // nothing was stored. Serialised internally.
  std::vector<append_outcome> append(std::span<const statement> batch);

  // append() in two stages, so that one thread can sequence and build batch
  // N+1 while another commits batch N (the sequencer does this).
  // prepare() sequences the batch after every batch prepared before it,
  // committed or not, and builds every byte of it: records, salts, leaves,
  // tree nodes, the signed checkpoint and the receipts. commit() stores one
  // prepared batch in one write transaction; batches are committed in the
  // order they were prepared (a commit waits for the batches before it), and
  // every prepared batch must be committed (dropping one fails it and the
  // batches prepared on top of it). When a commit fails, that batch and
  // every batch prepared on top of it fail with the same error and nothing
  // of them is stored; the next prepare() starts again from what is stored.
  // Nothing is visible to readers before its commit. append(b) is
  // commit(prepare(b)).
  [[nodiscard]] std::unique_ptr<prepared_batch> prepare(
      std::span<const statement> batch);
  std::vector<append_outcome> commit(std::unique_ptr<prepared_batch> batch);
  // Merges the in-memory index entries into LMDB now (one write transaction
  // and fsync, in turn with commits) if at least `at_least` events are
  // unmerged; returns how many were merged. Commits merge by themselves
  // once options::index_merge_events are unmerged; the sequencer calls this
  // when it is idle, so that under ordinary load merges are small and rarely
  // make an append wait.
  [[nodiscard]] result<std::uint64_t> merge_index(std::uint64_t at_least);
  // Committed events whose index entries are in memory only (a gauge for
  // /metrics).
  std::uint64_t unmerged_events() const;
  // Whether an append can be stored now, as readiness probes ask: the latest
  // commit did not fail (a full disk, an I/O error; it clears when one
  // succeeds again) and the data directory's file system has at least
  // `min_free_bytes` free for the next batches and map growth. The error
  // says which (storage_full, or the commit's own code).
  [[nodiscard]] result<void> ready_to_write(std::uint64_t min_free_bytes = std::uint64_t{16} << 20) const;

  // Reads (any thread, never block the writer).
  std::uint64_t tree_size() const;
  [[nodiscard]] result<signed_checkpoint> latest_checkpoint() const;
  // The checkpoint signed at exactly this tree size (every batch signs one).
  [[nodiscard]] result<signed_checkpoint> checkpoint_at(std::uint64_t size) const;
  [[nodiscard]] result<stored_event> event_by_seq(std::uint64_t seq) const;
  [[nodiscard]] result<stored_event> event_by_id(std::string_view event_id) const;
  // The corrections of this event: the seqs of the events that amend or void
  // it (statement amends / voids), in seq order.
  [[nodiscard]] result<std::vector<std::uint64_t>> corrections_of(std::string_view event_id) const;
  // Current revision of a stream (not_found if it has no events).
  [[nodiscard]] result<std::uint64_t> stream_revision(std::string_view stream) const;
  // Up to `limit` events of a stream starting at `from_revision` (inclusive),
  // forwards or backwards. Empty vector past the end.
  [[nodiscard]] result<std::vector<stored_event>> read_stream(
      std::string_view stream, std::uint64_t from_revision, direction dir,
      std::size_t limit) const;
  // Up to `limit` events from global seq `from_seq` (inclusive).
  [[nodiscard]] result<std::vector<stored_event>> read_all(std::uint64_t from_seq,
                                                           std::size_t limit) const;
  // Every event matching `f` with seq >= from_seq, in seq order, from one
  // snapshot, handed to `each` until it returns false or `max_examined`
  // candidates were read (0: no bound). Candidates come from the indexes,
  // never from a walk of the log: type and author (by_type, by_author) and
  // stream (stream_index) are intersected by seeking each to the next seq
  // they share; a recorded_at range narrows the seqs (by_recorded); a prefix
  // alone merges the streams it names, an occurred_at range alone reads
  // by_occurred. Each candidate's own payload is then checked against every
  // filter. Without any filter the candidates are the seqs themselves.
  // Errors: invalid_argument (validate_filter; a prefix naming more than
  // 4096 streams or an occurred_at range holding more than 1 000 000 events
  // with nothing else to narrow it, unless `allow_scan`: then candidates are
  // every seq of the range), the ledger's read errors.
  [[nodiscard]] result<query_outcome> query(const event_filter& f, std::uint64_t from_seq,
                                            std::uint64_t max_examined,
                                            const std::function<bool(const stored_event&)>& each,
                                            bool allow_scan = false) const;

  // Proofs. invalid_argument when sizes exceed the current tree.
  [[nodiscard]] result<std::vector<hash>> inclusion_proof(std::uint64_t seq,
                                                          std::uint64_t tree_size) const;
  [[nodiscard]] result<std::vector<hash>> consistency_proof(std::uint64_t from,
                                                            std::uint64_t to) const;
  // C2SP tiles: hash tiles and entry bundles, exactly as served at
  // GET /tile/... (not_found if the tile, or that partial width, does not
  // exist at the current tree size).
  [[nodiscard]] result<bytes> read_tile(const crypto::tile& t) const;
  // The hash source over this ledger's stored nodes (for proofs in tests).
  const crypto::hash_source& hashes() const;
  // The receipt of stored event `seq`, as append returned it: the first
  // checkpoint that includes the event and the inclusion proof to it.
  // not_found past the tree.
  [[nodiscard]] result<receipt> receipt_for(std::uint64_t seq) const;
  // Only the leaf entry of `seq` (public bytes; no record is read or parsed,
  // which makes proof answers cheap). not_found past the tree.
  [[nodiscard]] result<bytes> leaf_entry(std::uint64_t seq) const;

  struct impl;  // ledger/ledger_impl.hpp

 private:
  explicit ledger(std::unique_ptr<impl> i);
  std::unique_ptr<impl> impl_;
};

// Group commit in a two-stage pipeline: a bounded queue drained by a
// preparing thread (ledger::prepare with up to max_batch statements at a
// time) and a committing thread (ledger::commit, then the completions), so
// that building batch N+1 overlaps writing and fsyncing batch N.
class sequencer {
 public:
  using completion = std::function<void(append_outcome)>;

  // When nothing has arrived for 50 ms, the committing thread merges the
  // ledger's index if at least `idle_merge` events are unmerged (0: never).
  sequencer(ledger& l, std::size_t max_queue = 65536, std::size_t max_batch = 1024,
            std::uint64_t idle_merge = 4096);
  ~sequencer();  // stop()
  sequencer(const sequencer&) = delete;
  sequencer& operator=(const sequencer&) = delete;

  // Enqueues; `done` runs later on the committing thread with the outcome.
  // Returns overloaded when max_queue statements are already accepted and
  // not yet completed, and shutting_down after stop() began; `done` is then
  // not called.
  [[nodiscard]] result<void> submit(statement s, completion done);

  // Called on the committing thread after each committed batch with the new
  // tree size (subscriptions wake up from here). Set before the first submit.
  void on_commit(std::function<void(std::uint64_t tree_size)> f);

  // Statements accepted and not yet handed to their completion.
  std::size_t queue_depth() const;
  // Refuses new work, finishes everything already queued, joins the threads.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// Consistency check of a data directory (vellum fsck). Re-derives every leaf
// from the stored records, every tile hash and the root, and compares them
// with the latest signed checkpoint and the indexes.
struct fsck_problem {
  std::uint64_t seq = 0;     // first seq that disagrees (or tree size for root problems)
  std::string what;          // "record", "leaf", "tile 0/x001/002", "index stream", ...
  std::string detail;
};
struct fsck_report {
  std::uint64_t tree_size = 0;
  std::uint64_t events_checked = 0;
  std::vector<fsck_problem> problems;  // empty: clean
  bool ok() const { return problems.empty(); }
};
// progress(done, total) is called now and then. Opens the data directory
// read-only (safe while vellumd runs).
[[nodiscard]] result<fsck_report> fsck(const std::string& data_dir,
                                       std::function<void(std::uint64_t, std::uint64_t)> progress = {});

// A consistent copy of a live data directory (vellum backup) into the
// existing empty directory dest_dir: LMDB's compacting copy in one read
// transaction (data.mdb, mode 0600, fsynced), then the files beside it (the
// log key) with their permissions, then an fsync of dest_dir. Safe while
// vellumd runs. progress(copied, at_most) gets bytes now and then. A failed
// copy leaves no data.mdb behind.
using backup_progress = std::function<void(std::uint64_t copied, std::uint64_t at_most)>;
[[nodiscard]] result<void> backup(const std::string& data_dir, const std::string& dest_dir,
                                  const backup_progress& progress = {});

}  // namespace vellum::ledger

template <>
struct boost::system::is_error_code_enum<vellum::ledger::errc> : std::true_type {};
