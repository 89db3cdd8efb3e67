// vellum fsck: re-derives everything derivable in a data directory, in one
// read-only snapshot, and names the first seq and field that disagree.
//
// Per seq, in order: the leaf entry decodes and carries its seq; the record
// and salt match the entry's commitment (so any changed byte of a record or
// its salt is caught) and carry the same seq/kid/recorded_at; recorded_at
// never decreases; the leaf hash and every complete subtree hash it
// completes equal the stored nodes (re-derived, never read back, so one bad
// node does not spread); every checkpoint whose size is reached has that root,
// the stored origin and a valid signature by the stored verifier key; the
// indexes point back at the seq. At the end: the index, stream and node
// counts, and the meta records.

#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"
#include "ledger/schema.hpp"
#include "ledger/recent_index.hpp"
#include "ledger/store.hpp"

#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/jws.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/note.hpp"
#include "crypto/tile.hpp"

#include <array>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace vellum::ledger {
namespace {

using schema::db;

constexpr std::size_t max_problems = 1000;
constexpr std::uint64_t progress_every = 4096;

class checker {
 public:
  checker(const lmdb::txn& t, const store::dbs& d, fsck_report& report)
      : txn_(t), d_(d), report_(report) {}

  void problem(std::uint64_t seq, std::string what, std::string detail) {
    if (report_.problems.size() < max_problems) {
      report_.problems.push_back({seq, std::move(what), std::move(detail)});
    }
  }

  // Returns false if the log cannot be walked at all.
  bool check_meta() {
    auto version = txn_.get(d_[db::meta], schema::view(schema::meta_key::schema_version));
    const auto v_num = version && *version ? schema::decode_u32(**version)
                                           : result<std::uint32_t>(errc::corrupt);
    if (!v_num || *v_num < schema::oldest_readable_version || *v_num > schema::version) {
      problem(0, "meta", "schema_version missing or not " +
                             std::to_string(schema::oldest_readable_version) + " to " +
                             std::to_string(schema::version));
      return false;
    }
    auto origin = txn_.get(d_[db::meta], schema::view(schema::meta_key::origin));
    if (!origin || !*origin) {
      problem(0, "meta", "origin missing");
      return false;
    }
    origin_ = std::string(schema::chars(**origin));
    auto vkey = txn_.get(d_[db::meta], schema::view(schema::meta_key::verifier_key));
    if (!vkey || !*vkey) {
      problem(0, "meta", "verifier_key missing");
      return false;
    }
    auto v = crypto::note_verifier::from_vkey(schema::chars(**vkey));
    if (!v || v->name() != origin_) {
      problem(0, "meta", "verifier_key does not parse or does not name the origin");
      return false;
    }
    verifier_.emplace(std::move(*v));
    auto size = store::meta_u64(txn_, d_, schema::meta_key::tree_size);
    auto last = store::meta_u64(txn_, d_, schema::meta_key::recorded_at);
    if (!size || !last) {
      problem(0, "meta", "tree_size or recorded_at missing or malformed");
      return false;
    }
    size_ = *size;
    meta_recorded_at_ = *last;
    // Version 1 had no "indexed": everything was indexed at once.
    indexed_ = size_;
    if (*v_num >= 2) {
      auto indexed = store::meta_u64(txn_, d_, schema::meta_key::indexed);
      if (!indexed || *indexed > size_) {
        problem(0, "meta", "indexed missing, malformed or past tree_size");
        return false;
      }
      indexed_ = *indexed;
    }
    // Version 3 on: the query indexes (written when a store is upgraded).
    query_indexes_ = *v_num >= schema::query_indexes_version;
    if (query_indexes_ && !d_.query_indexes) {
      problem(0, "meta", "schema version " + std::to_string(*v_num) + " without the query index databases");
      return false;
    }
    report_.tree_size = size_;
    return true;
  }

  result<void> walk(const std::function<void(std::uint64_t, std::uint64_t)>& progress) {
    auto cps = lmdb::cursor::open(txn_, d_[db::checkpoints]);
    if (!cps) return lmdb::to_ledger_error(cps.error());
    auto next_cp = cps->get(MDB_FIRST);
    if (!next_cp) return lmdb::to_ledger_error(next_cp.error());
    // Checkpoint 0 (the empty tree) exists from creation.
    check_checkpoints(*cps, next_cp, 0);
    if (progress) progress(0, size_);

    for (std::uint64_t seq = 0; seq < size_; ++seq) {
      if (!check_seq(seq)) return {};  // cannot derive further
      check_checkpoints(*cps, next_cp, seq + 1);
      ++report_.events_checked;
      if (progress && (seq + 1) % progress_every == 0) progress(seq + 1, size_);
    }
    if (!next_cp) return lmdb::to_ledger_error(next_cp.error());
    if (*next_cp) {
      auto extra = schema::decode_u64((*next_cp)->first);
      problem(size_, "checkpoint",
              "checkpoint beyond the tree size" +
                  (extra ? " (size " + std::to_string(*extra) + ")" : std::string()));
    }
    if (progress) progress(size_, size_);
    return check_totals();
  }

 private:
  // Compares the checkpoints stored for size `n` (the cursor walks them in
  // order) with the derived root of n leaves.
  void check_checkpoints(lmdb::cursor& c,
                         result<std::optional<lmdb::cursor::entry>>& next, std::uint64_t n) {
    while (next && *next) {
      auto size = schema::decode_u64((*next)->first);
      if (!size) {
        problem(n, "checkpoint", "malformed key");
      } else if (*size > n) {
        return;
      } else if (*size < n) {
        problem(*size, "checkpoint", "key out of order");
      } else {
        check_checkpoint(n, schema::chars((*next)->second));
      }
      next = c.get(MDB_NEXT);
    }
  }

  void check_checkpoint(std::uint64_t n, std::string_view note) {
    const std::span<const crypto::note_verifier> known(&*verifier_, 1);
    auto opened = crypto::open_note(note, known);
    if (!opened) {
      problem(n, "checkpoint", "signature: " + opened.error().message());
      return;
    }
    auto body = crypto::parse_checkpoint(opened->text);
    if (!body) {
      problem(n, "checkpoint", "body: " + body.error().message());
      return;
    }
    if (body->origin != origin_) problem(n, "checkpoint", "origin differs from meta");
    if (body->size != n) problem(n, "checkpoint", "size differs from its key");
    if (body->root != root(n)) problem(n, "checkpoint", "root differs from the re-derived tree");
    if (n == size_) latest_seen_ = true;
  }

  // Root of the first n leaves from the pending left nodes (n = leaves seen).
  crypto::hash root(std::uint64_t n) const {
    if (n == 0) return crypto::empty_root();
    std::optional<crypto::hash> h;
    for (unsigned level = 0; level < 64; ++level) {
      if (((n >> level) & 1) == 0) continue;
      h = h ? crypto::node_hash(pending_[level], *h) : pending_[level];
    }
    return *h;
  }

  // The stored hash of node `id` (nullopt if missing or malformed).
  std::optional<crypto::hash> stored_node(const crypto::node_id& id) {
    ++nodes_expected_;
    auto v = txn_.get(d_[db::nodes], schema::node_key(id));
    if (!v || !*v) return std::nullopt;
    auto h = schema::decode_hash(**v);
    if (!h) return std::nullopt;
    return *h;
  }

  void node_problem(const crypto::node_id& id, bool present) {
    const std::uint64_t first_leaf = id.index << id.level;
    std::string what;
    if (id.level % crypto::tile_height == 0) {
      const std::string path = crypto::tile_path(crypto::tile_for_node(id, size_));
      what = "tile " + path.substr(std::string_view("tile/").size());
    } else {
      what = "node " + std::to_string(id.level) + "/" + std::to_string(id.index);
    }
    problem(first_leaf, what,
            std::string(present ? "stored hash differs from the re-derived one"
                                : "stored hash missing or malformed") +
                " (level " + std::to_string(id.level) + ", index " + std::to_string(id.index) +
                ")");
  }

  bool check_seq(std::uint64_t seq) {
    const auto key = schema::encode_u64(seq);
    auto lv = txn_.get(d_[db::leaves], key);
    if (!lv || !*lv) {
      problem(seq, "leaf", "leaf entry missing");
      return false;
    }
    const byte_view leaf_bytes = **lv;

    // Record and salt against the leaf entry.
    auto entry = crypto::decode_leaf_entry(leaf_bytes);
    std::optional<crypto::event_record> rec;
    std::string record_problem;
    auto rv = txn_.get(d_[db::records], key);
    auto value = rv && *rv ? schema::decode_record_value(**rv)
                           : result<schema::record_value>(errc::not_found);
    if (!value) {
      record_problem = rv && *rv ? "record value too short" : "record missing";
    } else if (entry) {
      auto checked = crypto::check_record(*entry, value->salt, value->record);
      if (checked) {
        rec = std::move(*checked);
      } else {
        record_problem = checked.error() == crypto::errc::commitment_mismatch
                             ? "record or salt does not match the leaf's commitment"
                             : "record does not decode";
      }
    }

    // The leaf hash against the stored one. When both disagree with the
    // leaf entry, the entry is what changed; the stored hash carries on.
    const crypto::hash derived = crypto::leaf_hash(leaf_bytes);
    const crypto::node_id leaf_id{0, seq};
    const auto stored = stored_node(leaf_id);
    crypto::hash h = derived;
    if (!entry) {
      problem(seq, "leaf", "leaf entry does not decode");
      if (stored) h = *stored;
    } else if (stored != derived && !record_problem.empty()) {
      problem(seq, "leaf", "leaf entry matches neither its stored hash nor its record");
      if (stored) h = *stored;
    } else {
      if (stored != derived) node_problem(leaf_id, stored.has_value());
      if (!record_problem.empty()) problem(seq, "record", record_problem);
    }
    if (entry) {
      if (entry->seq != seq) problem(seq, "leaf", "seq field is " + std::to_string(entry->seq));
      if (entry->recorded_at_us < last_recorded_) problem(seq, "leaf", "recorded_at decreases");
      last_recorded_ = std::max(last_recorded_, entry->recorded_at_us);
    }

    // Every parent the leaf completes, from re-derived children.
    crypto::node_id id = leaf_id;
    while (id.index & 1) {
      h = crypto::node_hash(pending_[id.level], h);
      id = {static_cast<std::uint8_t>(id.level + 1), id.index >> 1};
      const auto s = stored_node(id);
      if (s != h) node_problem(id, s.has_value());
    }
    pending_[id.level] = h;

    // Indexes, from the record (even a damaged one that still decodes, so
    // one bad record does not make every later revision look wrong).
    if (!rec && value) {
      auto decoded = crypto::decode_event_record(value->record);
      if (decoded && decoded->seq == seq) rec = std::move(*decoded);
    }
    if (seq == indexed_) merged_next_revision_ = next_revision_;  // streams' reference
    if (rec) check_indexes(seq, *rec);
    return true;
  }

  void check_indexes(std::uint64_t seq, const crypto::event_record& rec) {
    auto& next_revision = next_revision_[rec.stream];
    if (rec.revision != next_revision) {
      problem(seq, "record", "revision " + std::to_string(rec.revision) + " of stream \"" +
                                 rec.stream + "\", expected " + std::to_string(next_revision));
    }
    next_revision = rec.revision + 1;

    const auto index_key = schema::stream_index_key(rec.stream, rec.revision);
    auto si = store::get_u64(txn_, d_[db::stream_index], schema::view(index_key));
    if (seq < indexed_ && (!si || !*si || **si != seq)) {
      problem(seq, "index stream", "stream_index entry for \"" + rec.stream + "\" revision " +
                                       std::to_string(rec.revision) + " is missing or wrong");
    }
    if (seq >= indexed_ && (!si || *si)) {
      problem(seq, "index stream", "stream_index has an entry for \"" + rec.stream +
                                       "\" revision " + std::to_string(rec.revision) +
                                       ", past indexed " + std::to_string(indexed_));
    }

    auto id = schema::parse_uuid(rec.event_id);
    if (!id) {
      problem(seq, "record", "event_id is not a canonical UUID");
    } else {
      auto e = store::get_u64(txn_, d_[db::event_ids], *id);
      if (seq < indexed_ && (!e || !*e || **e != seq)) {
        problem(seq, "index event_id", "event_ids entry for " + rec.event_id +
                                           " is missing or wrong");
      }
      // Past indexed only memory may know the id, and only once.
      if (seq >= indexed_ && (!e || *e)) {
        problem(seq, "index event_id", "event_ids has an entry for " + rec.event_id +
                                           ", past indexed " + std::to_string(indexed_));
      } else if (seq >= indexed_ && !unmerged_ids_.insert(*id).second) {
        problem(seq, "index event_id", "event id " + rec.event_id + " is stored twice");
      }
    }

    // amends, voids and the query terms live inside the signed payload.
    auto token = crypto::jws_parse(rec.jws);
    std::optional<boost::json::value> payload;
    if (!token) {
      problem(seq, "record", "jws does not parse");
    } else if (auto p = crypto::parse_ijson(schema::chars(token->payload)); !p || !p->is_object()) {
      problem(seq, "record", "jws payload is not a JSON object");
    } else {
      payload = std::move(*p);
    }
    // An unreadable payload was indexed with empty terms (indexes.cpp).
    check_query_keys(seq, rec, payload ? query_terms_of(payload->as_object()) : query_terms{});
    if (!payload) return;
    // One corrections entry: what amends or voids names (never both).
    for (const char* member : {"amends", "voids"}) {
      const auto* target = payload->as_object().if_contains(member);
      if (target == nullptr || !target->is_string() || target->get_string().empty()) continue;
      ++amends_expected_;
      auto amended = schema::parse_uuid(target->get_string());
      auto found = amended ? txn_.get(d_[db::amends], schema::amends_key(*amended, seq))
                           : result<std::optional<byte_view>>(std::optional<byte_view>{});
      if (!found || !*found || !(*found)->empty()) {
        problem(seq, "index amends", "amends entry for " + std::string(target->get_string()) + " (" + member +
                                         ") is missing");
      }
    }
  }

  // The four query index entries of `seq` (version 3 on).
  void check_query_keys(std::uint64_t seq, const crypto::event_record& rec, const query_terms& terms) {
    if (!query_indexes_) return;
    ++query_expected_;
    auto present = [&](db which, byte_view key) {
      auto v = txn_.get(d_[which], key);
      return v && *v && (*v)->empty();
    };
    if (!present(db::by_type, schema::term_key(schema::term_of(terms.type), seq)))
      problem(seq, "index type", "by_type entry for \"" + terms.type + "\" is missing");
    if (!present(db::by_author, schema::term_key(schema::term_of(terms.author_id), seq)))
      problem(seq, "index author", "by_author entry for \"" + terms.author_id + "\" is missing");
    if (!present(db::by_recorded, schema::time_key(rec.recorded_at_us, seq)))
      problem(seq, "index recorded_at", "by_recorded entry is missing");
    if (!present(db::by_occurred, schema::time_key(terms.occurred_at_us, seq)))
      problem(seq, "index occurred_at", "by_occurred entry is missing");
  }

  result<void> check_totals() {
    if (!latest_seen_) problem(size_, "checkpoint", "no checkpoint at the tree size");
    if (last_recorded_ != meta_recorded_at_) {
      problem(size_, "meta", "recorded_at differs from the last leaf's");
    }
    auto count = [&](db which) -> std::uint64_t {
      auto n = txn_.entries(d_[which]);
      return n ? *n : 0;
    };
    if (count(db::leaves) != size_) problem(size_, "leaf", "entries beyond the tree size");
    if (count(db::records) != size_) problem(size_, "record", "records beyond the tree size");
    if (count(db::nodes) != nodes_expected_) {
      problem(size_, "node", "stored nodes: " + std::to_string(count(db::nodes)) +
                                 ", expected " + std::to_string(nodes_expected_));
    }
    if (count(db::stream_index) != indexed_) {
      problem(size_, "index stream", "stream_index has entries that point nowhere");
    }
    if (count(db::event_ids) != indexed_) {
      problem(size_, "index event_id", "event_ids has entries that point nowhere");
    }
    if (count(db::amends) != amends_expected_) {
      problem(size_, "index amends", "amends has entries that no record names");
    }
    if (query_indexes_) {
      for (auto [which, what] : {std::pair{db::by_type, "index type"}, std::pair{db::by_author, "index author"},
                                 std::pair{db::by_recorded, "index recorded_at"},
                                 std::pair{db::by_occurred, "index occurred_at"}}) {
        if (count(which) != query_expected_) problem(size_, what, "has entries that point nowhere");
      }
    }
    // streams: each stream's newest revision below indexed.
    const auto& merged = indexed_ == size_ ? next_revision_ : merged_next_revision_;
    if (count(db::streams) != merged.size()) {
      problem(size_, "index streams", "streams has entries without events");
    }
    auto c = lmdb::cursor::open(txn_, d_[db::streams]);
    if (!c) return lmdb::to_ledger_error(c.error());
    for (auto e = c->get(MDB_FIRST);; e = c->get(MDB_NEXT)) {
      if (!e) return lmdb::to_ledger_error(e.error());
      if (!*e) break;
      const std::string stream(schema::chars((*e)->first));
      auto rev = schema::decode_u64((*e)->second);
      auto it = merged.find(stream);
      if (!rev || it == merged.end() || *rev + 1 != it->second) {
        problem(size_, "index streams", "current revision of \"" + stream + "\" is wrong");
      }
    }
    return {};
  }

  const lmdb::txn& txn_;
  const store::dbs& d_;
  fsck_report& report_;
  std::string origin_;
  std::optional<crypto::note_verifier> verifier_;
  std::uint64_t size_ = 0;
  std::uint64_t meta_recorded_at_ = 0;
  std::uint64_t last_recorded_ = 0;
  std::array<crypto::hash, 64> pending_{};  // last complete left node per level
  std::uint64_t nodes_expected_ = 0;
  std::uint64_t amends_expected_ = 0;
  bool latest_seen_ = false;
  std::uint64_t indexed_ = 0;  // meta indexed
  bool query_indexes_ = false;
  std::uint64_t query_expected_ = 0;
  std::unordered_set<schema::uuid, store::uuid_hash> unmerged_ids_;  // seq >= indexed_
  std::unordered_map<std::string, std::uint64_t> next_revision_;
  std::unordered_map<std::string, std::uint64_t> merged_next_revision_;  // at indexed_
};

}  // namespace

result<fsck_report> fsck(const std::string& data_dir,
                         std::function<void(std::uint64_t, std::uint64_t)> progress) {
  auto e = lmdb::env::open(data_dir, MDB_RDONLY | MDB_NOTLS, 0, schema::db_count + 2);
  if (!e) return lmdb::to_ledger_error(e.error());
  auto t = lmdb::txn::begin(e->get(), MDB_RDONLY);
  if (!t && t.error() == lmdb::make_error(MDB_MAP_RESIZED)) {
    // The server grew the map since we opened: adopt its size and retry.
    if (auto r = e->set_map_size(0); !r) return lmdb::to_ledger_error(r.error());
    t = lmdb::txn::begin(e->get(), MDB_RDONLY);
  }
  if (!t) return lmdb::to_ledger_error(t.error());
  auto d = store::open_dbs(*t, 0);
  if (!d) return lmdb::to_ledger_error(d.error());

  fsck_report report;
  checker c(*t, *d, report);
  if (!c.check_meta()) return report;
  if (auto r = c.walk(progress); !r) return r.error();
  return report;
}

}  // namespace vellum::ledger
