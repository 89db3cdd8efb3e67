// Streaming verifier for sealed exports (docs/formats.md §8).
//
// The reading thread does everything that depends on order: the canonical
// form of each line, the line order, leaf positions, the compact-range fold
// to the checkpoint's root, recorded_at monotonicity, fences and node
// minimality. Everything that concerns one event alone (record + salt
// commitment, JWS parse and signature, payload fields) is the signature
// pool's job (signature_pool.hpp); its verdicts come back in seq order, where
// the per-stream checks (selection, revision contiguity) complete them. The
// lines themselves come from line_reader.hpp.

#include "verifier/bundle.hpp"

#include "crypto/checkpoint.hpp"
#include "crypto/encoding.hpp"
#include "crypto/ijson.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"
#include "crypto/merkle.hpp"
#include "crypto/stream_name.hpp"
#include "verifier/compact_range.hpp"
#include "verifier/line_fields.hpp"
#include "verifier/line_reader.hpp"
#include "verifier/signature_pool.hpp"
#include "verifier/stream_tracker.hpp"
#include "verifier/verify.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <istream>
#include <map>
#include <thread>

namespace vellum::verifier {

using crypto::errc;

std::string bundle_failure::describe() const {
  std::string s;
  if (line) s += "line " + std::to_string(line);
  if (seq) s += (s.empty() ? "" : ", ") + std::string("seq ") + std::to_string(*seq);
  if (!event_id.empty()) s += (s.empty() ? "" : ", ") + std::string("event ") + event_id;
  return s.empty() ? what : s + ": " + what;
}

std::string jwk_thumbprint(const crypto::public_key& key) {
  // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
  const boost::json::object jwk = key.to_jwk();
  boost::json::object canonical;
  for (const char* name : {"crv", "kty", "x", "y"})
    if (auto* v = jwk.if_contains(name)) canonical[name] = *v;
  return crypto::base64url_encode(crypto::sha256(boost::json::serialize(canonical)));
}

namespace {

// One pass over one bundle: reads lines, checks them in order, feeds events
// to the signature pool and writes everything it finds into `report`.
class bundle_checker {
 public:
  bundle_checker(const crypto::note_verifier& log_key, const bundle_options& opts, bundle_report& report)
      : log_key_(log_key), opts_(opts), report_(report) {
    threads_ = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
    chunk_events_ = std::max<std::size_t>(1, opts.chunk_events);
  }

  void run(std::istream& in) {
    if (opts_.since_checkpoint && !check_since()) return;
    line_reader reader(in);
    for (;;) {
      const auto st = reader.next();
      report_.bytes = reader.bytes();
      if (st == line_reader::read_status::end) break;
      if (st == line_reader::read_status::io_error) {
        report_.read_error = "reading the bundle failed after " + std::to_string(reader.bytes()) + " bytes";
        break;
      }
      line_no_ = reader.line_number();
      report_.lines = line_no_;
      if (st == line_reader::read_status::too_long) {
        fatal(errc::malformed_entry, "line is longer than " + std::to_string(reader.max_line_bytes()) + " bytes");
        break;
      }
      if (st == line_reader::read_status::unterminated) {
        fatal(errc::malformed_entry, "the last line does not end in a newline: the bundle is truncated");
        break;
      }
      if (phase_ == phase::after_end) {
        fatal(errc::malformed_entry, "data after the end line");
        break;
      }
      handle_line(reader.text());
      if (stopped_) break;
      if (opts_.progress && (line_no_ % 4096) == 0) opts_.progress(line_no_, reader.bytes());
    }
    finish_chunks();
    if (opts_.progress) opts_.progress(line_no_, reader.bytes());
    if (!stopped_ && report_.read_error.empty() && phase_ != phase::after_end) {
      line_no_ = 0;
      fatal(errc::malformed_entry, "the bundle ends before its end line: it is truncated");
    }
    if (phase_ == phase::after_end && !stopped_) final_checks();
    summarise();
  }

 private:
  enum class phase { header, checkpoint, consistency_or_keys, keys, tree, after_end };
  enum class shown_kind { event, lower_fence, upper_fence };

  // -- failures ---------------------------------------------------------------

  void add_failure(std::uint64_t line, std::optional<std::uint64_t> seq, std::string event_id, const status& s) {
    ++report_.failure_count;
    if (report_.failures.size() < opts_.max_failures)
      report_.failures.push_back({line, seq, std::move(event_id), s.code(), s.message()});
  }
  void add_failure(std::uint64_t line, std::optional<std::uint64_t> seq, std::string event_id, errc e,
                   std::string what) {
    add_failure(line, seq, std::move(event_id), status{e, std::move(what)});
  }
  // A structural problem: the rest of the bundle cannot be interpreted.
  void fatal(const status& s) {
    add_failure(line_no_, std::nullopt, {}, s);
    stopped_ = true;
  }
  void fatal(errc e, std::string what) { fatal(status{e, std::move(what)}); }
  void fail_line(errc e, std::string what) { add_failure(line_no_, std::nullopt, {}, e, std::move(what)); }
  void fail_leaf(std::uint64_t seq, errc e, std::string what) {
    add_failure(line_no_, seq, {}, e, std::move(what));
  }

  // -- the trusted checkpoint (--since) ---------------------------------------

  bool check_since() {
    const crypto::note_verifier keys[] = {log_key_};
    auto cp = verify_checkpoint(*opts_.since_checkpoint, keys, true);
    if (!cp) {
      fatal(cp.error().with_reason("the trusted checkpoint (--since) does not verify with the log key"));
      return false;
    }
    if (cp->body.origin != log_key_.name()) {
      fatal(errc::malformed_checkpoint, "the trusted checkpoint's origin is not the log key's name");
      return false;
    }
    since_ = cp->body;
    return true;
  }

  // -- lines ------------------------------------------------------------------

  void handle_line(const std::string& line) {
    auto parsed = crypto::parse_ijson(line);
    if (!parsed) return fatal(errc::malformed_json, "not I-JSON: " + parsed.error().message());
    if (!parsed->is_object()) return fatal(errc::malformed_json, "not a JSON object");
    // Every byte is significant: the line must be exactly the canonical
    // serialisation of what it parses to (member order as written).
    if (boost::json::serialize(*parsed) != line)
      return fatal(errc::malformed_json,
                   "not in canonical form (whitespace, escapes or number spelling differ from §8)");
    const auto& o = parsed->get_object();
    if (o.empty() || o.begin()->key() != "type" || !o.begin()->value().is_string())
      return fatal(errc::malformed_entry, "the first member must be \"type\", a string");
    const std::string_view type = o.begin()->value().get_string();

    if (phase_ == phase::header) {
      if (type != "header") return fatal(errc::malformed_entry, "the first line must be the header");
      return on_header(o);
    }
    if (phase_ == phase::checkpoint) {
      if (type != "checkpoint") return fatal(errc::malformed_entry, "the second line must be the checkpoint");
      return on_checkpoint(o);
    }
    if (type == "consistency") {
      if (phase_ != phase::consistency_or_keys)
        return fatal(errc::malformed_entry, "the consistency line must follow the checkpoint");
      return on_consistency(o);
    }
    if (phase_ == phase::consistency_or_keys) {
      phase_ = phase::keys;
      if (!check_since_against_bundle()) return;
    }
    if (type == "key") {
      if (phase_ != phase::keys) return fatal(errc::malformed_entry, "key lines must precede the tree lines");
      return on_key(o);
    }
    if (type == "event" || type == "fence" || type == "node") {
      if (phase_ == phase::keys) start_tree();
      if (type == "node") return on_node(o);
      return on_leaf(o, type == "fence");
    }
    if (type == "end") {
      if (phase_ == phase::keys) start_tree();
      return on_end(o);
    }
    if (type == "header" || type == "checkpoint")
      return fatal(errc::malformed_entry, "a second " + std::string(type) + " line");
    fatal(errc::malformed_entry, "unknown line type \"" + std::string(type) + "\"");
  }

  void on_header(const boost::json::object& o) {
    if (!has_members(o, {"type", "format", "origin", "log_key", "selection", "complete_streams"}))
      return fatal(errc::malformed_entry,
                   "header members must be exactly type, format, origin, log_key, selection, complete_streams");
    report_.format = str(o.at("format"));
    if (report_.format != export_format_v1)
      return fatal(errc::malformed_entry, "unsupported format \"" + report_.format + "\" (this verifier reads " +
                                              std::string(export_format_v1) + ")");
    report_.origin = str(o.at("origin"));
    report_.log_key = str(o.at("log_key"));
    if (report_.log_key != log_key_.vkey())
      return fatal(errc::unknown_key, "the bundle names the log key " + report_.log_key + ", not the given " +
                                          log_key_.vkey());
    if (report_.origin != log_key_.name())
      return fatal(errc::malformed_entry, "the header's origin is not the log key's name");
    if (!o.at("complete_streams").is_bool())
      return fatal(errc::malformed_entry, "complete_streams must be true or false");
    report_.complete_streams = o.at("complete_streams").get_bool();
    if (!o.at("selection").is_object()) return fatal(errc::malformed_entry, "selection must be an object");
    if (auto s = parse_selection(o.at("selection").get_object(), report_.selection); s.failed()) return fatal(s);
    const auto& sel = report_.selection;
    if (report_.complete_streams != (sel.stream || sel.prefix))
      return fatal(errc::malformed_entry,
                   "complete_streams must be true exactly when the selection is a stream or a prefix");
    phase_ = phase::checkpoint;
  }

  void on_checkpoint(const boost::json::object& o) {
    if (!has_members(o, {"type", "note"}) || !o.at("note").is_string())
      return fatal(errc::malformed_entry, "checkpoint members must be exactly type, note (a string)");
    report_.checkpoint_note = str(o.at("note"));
    const crypto::note_verifier keys[] = {log_key_};
    auto cp = verify_checkpoint(report_.checkpoint_note, keys, true);
    if (!cp) return fatal(cp.error().with_reason("the checkpoint does not verify"));
    if (cp->body.origin != report_.origin)
      return fatal(errc::malformed_checkpoint, "the checkpoint's origin differs from the header's");
    report_.anchored = true;
    report_.tree_size = cp->body.size;
    report_.root = cp->body.root;
    if (report_.selection.to_seq && *report_.selection.to_seq > report_.tree_size)
      return fatal(errc::malformed_entry, "the selection's to_seq is beyond the checkpoint's tree size");
    phase_ = phase::consistency_or_keys;
  }

  void on_consistency(const boost::json::object& o) {
    if (!has_members(o, {"type", "from_size", "from_root", "proof"}) || !o.at("proof").is_array())
      return fatal(errc::malformed_entry, "consistency members must be exactly type, from_size, from_root, proof");
    auto from_size = as_u64(o.at("from_size"));
    auto from_root = as_hash(o.at("from_root"));
    if (!from_size || !from_root)
      return fatal(errc::malformed_proof, "from_size must be an integer and from_root a base64 hash");
    std::vector<crypto::hash> proof;
    for (const auto& v : o.at("proof").get_array()) {
      auto h = as_hash(v);
      if (!h) return fatal(errc::malformed_proof, "consistency proof node " + std::to_string(proof.size()) +
                                                      " is not a base64 SHA-256 hash");
      proof.push_back(*h);
    }
    if (*from_size > report_.tree_size)
      return fatal(errc::malformed_proof, "the consistency proof starts beyond the checkpoint's tree size");
    if (auto v = crypto::verify_consistency(*from_size, report_.tree_size, *from_root, report_.root, proof); !v)
      return fatal(static_cast<errc>(v.error().value()),
                   "the consistency proof from tree size " + std::to_string(*from_size) +
                       " does not bind its root to the checkpoint's: " + v.error().message());
    report_.consistency = consistency_summary{*from_size, *from_root, false};
    if (since_) {
      if (since_->size != *from_size || since_->root != *from_root)
        return fatal(errc::inconsistent_trees,
                     "the consistency proof starts at tree size " + std::to_string(*from_size) +
                         ", not at the trusted checkpoint (size " + std::to_string(since_->size) + ")");
      report_.consistency->trusted = true;
    }
    phase_ = phase::keys;
  }

  // Without a consistency line, a trusted checkpoint must be the bundle's own.
  bool check_since_against_bundle() {
    if (!since_ || report_.consistency) return true;
    if (since_->size == report_.tree_size && since_->root == report_.root) {
      report_.consistency = consistency_summary{since_->size, since_->root, true};
      return true;
    }
    fatal(errc::inconsistent_trees, "the bundle has no consistency proof from the trusted checkpoint (size " +
                                        std::to_string(since_->size) + ")");
    return false;
  }

  void on_key(const boost::json::object& o) {
    if (!has_members(o, {"type", "kid", "public_key"}) || !o.at("kid").is_string() ||
        !o.at("public_key").is_string())
      return fatal(errc::malformed_entry, "key members must be exactly type, kid, public_key (strings)");
    const std::string kid(o.at("kid").get_string());
    const std::string_view pem = o.at("public_key").get_string();
    if (kid.empty()) return fatal(errc::malformed_key, "empty kid");
    if (!keys_.empty() && !(keys_.rbegin()->first < kid))
      return fatal(errc::malformed_entry, "key lines must be sorted by kid, each kid once (\"" + kid + "\")");
    auto key = crypto::public_key::from_pem(pem);
    if (!key) return fatal(errc::malformed_key, "the public key of \"" + kid + "\" is not an SPKI PEM key");
    if (key->to_pem() != pem)
      return fatal(errc::malformed_key, "the public key of \"" + kid + "\" is not in canonical PEM form");
    keys_.emplace(kid, std::move(*key));
    key_order_.push_back(kid);
  }

  void start_tree() {
    phase_ = phase::tree;
    streams_.emplace(report_.complete_streams);
    pool_.emplace(threads_, chunk_events_, keys_,
                  [this](const pending_event& p, checked_event& r) { complete_event(p, r); });
  }

  // Closes the run of node lines before position pos_ and checks that it is
  // the fewest aligned subtrees.
  void close_gap() {
    if (gap_levels_.empty()) return;
    if (gap_levels_ != minimal_cover_levels(gap_start_, pos_))
      fail_line(errc::malformed_proof, "the node lines covering leaves " + std::to_string(gap_start_) + " to " +
                                           std::to_string(pos_ - 1) + " are not the fewest aligned subtrees");
    gap_levels_.clear();
  }

  void on_node(const boost::json::object& o) {
    if (!has_members(o, {"type", "level", "hash"}))
      return fatal(errc::malformed_entry, "node members must be exactly type, level, hash");
    auto level = as_u64(o.at("level"));
    auto h = as_hash(o.at("hash"));
    if (!level || *level > 63 || !h) return fatal(errc::malformed_proof, "node level or hash is malformed");
    const std::uint64_t size = std::uint64_t{1} << *level;
    if (pos_ % size != 0)
      return fatal(errc::malformed_proof, "node of level " + std::to_string(*level) + " at leaf " +
                                              std::to_string(pos_) + " is not aligned");
    if (size > report_.tree_size - pos_)
      return fatal(errc::malformed_proof, "node of level " + std::to_string(*level) + " at leaf " +
                                              std::to_string(pos_) + " reaches beyond the tree size");
    const auto& sel = report_.selection;
    if (sel.from_seq && *sel.from_seq < *sel.to_seq && pos_ < *sel.to_seq && *sel.from_seq < pos_ + size)
      fail_line(errc::malformed_proof, "node over leaves " + std::to_string(pos_) + " to " +
                                           std::to_string(pos_ + size - 1) + " hides seqs the selection includes");
    if (gap_levels_.empty()) gap_start_ = pos_;
    gap_levels_.push_back(static_cast<unsigned>(*level));
    range_.push(static_cast<unsigned>(*level), *h);
    pos_ += size;
    ++report_.nodes;
  }

  // An event or fence line: its position, its leaf hash into the range, its
  // entry and recorded_at order.
  void on_leaf(const boost::json::object& o, bool fence) {
    const bool erased = !fence && o.size() == 4;
    if (fence ? !has_members(o, {"type", "seq", "leaf_entry"})
              : !(has_members(o, {"type", "seq", "leaf_entry", "record", "salt"}) ||
                  has_members(o, {"type", "seq", "leaf_entry", "erased"})))
      return fatal(errc::malformed_entry, fence ? "fence members must be exactly type, seq, leaf_entry"
                                                : "event members must be type, seq, leaf_entry, then record, salt "
                                                  "or erased");
    if (erased && !(o.at("erased").is_bool() && o.at("erased").get_bool()))
      return fatal(errc::malformed_entry, "erased must be true");
    auto seq = as_u64(o.at("seq"));
    if (!seq) return fatal(errc::malformed_entry, "seq must be a non-negative integer");
    if (*seq != pos_)
      return fatal(errc::malformed_proof, "line for seq " + std::to_string(*seq) + " where leaf " +
                                              std::to_string(pos_) + " comes next: a line is missing, extra or out of order");
    if (pos_ >= report_.tree_size)
      return fatal(errc::malformed_proof, "seq " + std::to_string(*seq) + " is beyond the checkpoint's tree size");
    if (!o.at("leaf_entry").is_string()) return fatal(errc::malformed_entry, "leaf_entry must be a string");
    auto raw = crypto::base64_decode(o.at("leaf_entry").get_string());
    if (!raw) return fatal(errc::bad_encoding, "leaf_entry is not canonical base64");
    close_gap();
    range_.push(0, crypto::leaf_hash(*raw));
    ++pos_;

    std::optional<crypto::leaf_entry> entry;
    if (auto e = crypto::decode_leaf_entry(*raw); !e)
      fail_leaf(*seq, errc::malformed_entry, "the leaf entry does not decode as a v1 leaf entry");
    else if (e->seq != *seq)
      fail_leaf(*seq, errc::malformed_entry, "the leaf entry carries seq " + std::to_string(e->seq));
    else
      entry = std::move(*e);

    if (entry) {
      if (last_recorded_at_ && entry->recorded_at_us < *last_recorded_at_)
        fail_leaf(*seq, errc::malformed_entry, "recorded_at goes backwards along seq (" +
                                                   crypto::format_time_us(entry->recorded_at_us) + " after " +
                                                   crypto::format_time_us(*last_recorded_at_) + ")");
      last_recorded_at_ = entry->recorded_at_us;
    }
    if (fence) return on_fence(*seq, entry);
    on_event(o, *seq, erased, std::move(entry));
  }

  // An event line (its leaf already folded in): erased, or with its record
  // and salt, which go to the signature pool.
  void on_event(const boost::json::object& o, std::uint64_t seq, bool erased,
                std::optional<crypto::leaf_entry> entry) {
    ++report_.events;
    const auto& sel = report_.selection;
    if (sel.from_seq && (seq < *sel.from_seq || seq >= *sel.to_seq))
      fail_leaf(seq, errc::malformed_entry, "an event outside the selected seq range");
    if (entry) {
      if (!report_.first_recorded_at_us) report_.first_recorded_at_us = entry->recorded_at_us;
      report_.last_recorded_at_us = entry->recorded_at_us;
      if (sel.from_time_us && (entry->recorded_at_us < *sel.from_time_us || entry->recorded_at_us >= *sel.to_time_us))
        fail_leaf(seq, errc::malformed_entry, "an event recorded outside the selected time range");
    }
    if (sel.from_time_us) note_shown(seq, shown_kind::event);

    pending_event p;
    p.line = line_no_;
    p.seq = seq;
    p.erased_before = report_.erased;
    p.erased = erased;
    p.entry = std::move(entry);
    if (erased) {
      ++report_.erased;
    } else {
      if (!o.at("record").is_string()) return fatal(errc::malformed_entry, "record must be a string");
      p.record = str(o.at("record"));
      auto salt = o.at("salt").is_string() ? crypto::base64_decode(o.at("salt").get_string())
                                           : result<bytes>(make_error_code(errc::bad_encoding));
      if (!salt) return fatal(errc::bad_encoding, "salt is not canonical base64");
      p.salt = std::move(*salt);
    }
    enqueue(std::move(p));
  }

  void on_fence(std::uint64_t seq, const std::optional<crypto::leaf_entry>& entry) {
    ++report_.fences;
    const auto& sel = report_.selection;
    if (!sel.from_time_us) return fail_leaf(seq, errc::malformed_entry, "a fence in a bundle not selected by time");
    if (!entry) return;
    if (entry->recorded_at_us < *sel.from_time_us) return note_shown(seq, shown_kind::lower_fence);
    if (entry->recorded_at_us >= *sel.to_time_us) return note_shown(seq, shown_kind::upper_fence);
    fail_leaf(seq, errc::malformed_entry,
              "a fence recorded inside the selected time range: that leaf must be an exported event");
  }

  // Time ranges: the shown leaves (fences and events) are one contiguous run
  // that starts at seq 0 or with a fence before the range and ends at the
  // last leaf or with a fence after it.
  void note_shown(std::uint64_t seq, shown_kind k) {
    if (last_shown_) {
      if (seq != last_shown_->first + 1)
        fail_leaf(seq, errc::malformed_proof,
                  "leaves " + std::to_string(last_shown_->first + 1) + " to " + std::to_string(seq - 1) +
                      " are hidden behind nodes inside the time range");
      if (last_shown_->second == shown_kind::upper_fence)
        fail_leaf(seq, errc::malformed_proof, "a leaf after the fence that closes the time range");
      if (k == shown_kind::lower_fence)
        fail_leaf(seq, errc::malformed_proof, "a fence before the time range that is not the first leaf shown");
    } else if (seq != 0 && k != shown_kind::lower_fence) {
      fail_leaf(seq, errc::malformed_proof,
                "the first leaf shown is neither seq 0 nor a fence recorded before the time range");
    }
    last_shown_ = {seq, k};
  }

  void on_end(const boost::json::object& o) {
    if (!has_members(o, {"type", "events", "nodes"}))
      return fatal(errc::malformed_entry, "end members must be exactly type, events, nodes");
    close_gap_at_end();
    auto events = as_u64(o.at("events"));
    auto nodes = as_u64(o.at("nodes"));
    if (!events || !nodes) return fatal(errc::malformed_entry, "events and nodes must be integers");
    if (pos_ != report_.tree_size)
      return fatal(errc::malformed_proof, "the tree lines cover " + std::to_string(pos_) +
                                              " leaves, the checkpoint's tree has " +
                                              std::to_string(report_.tree_size) + ": lines are missing");
    if (*events != report_.events || *nodes != report_.nodes)
      return fatal(errc::malformed_entry, "the end line counts " + std::to_string(*events) + " events and " +
                                              std::to_string(*nodes) + " nodes, the bundle has " +
                                              std::to_string(report_.events) + " and " +
                                              std::to_string(report_.nodes));
    if (range_.root() != report_.root)
      return fatal(errc::proof_mismatch,
                   "the tree lines do not lead to the checkpoint's root: a leaf entry or node hash was altered");
    phase_ = phase::after_end;
  }

  void close_gap_at_end() {
    if (phase_ != phase::tree) return;
    close_gap();
  }

  // -- the worker pipeline ------------------------------------------------------

  void enqueue(pending_event p) { pool_->add(std::move(p)); }

  void finish_chunks() {
    // Events read before a structural failure still get their verdicts.
    if (pool_) pool_->finish();
    pool_.reset();
  }

  // The order-dependent checks of one checked event, called in seq order.
  void complete_event(const pending_event& p, checked_event& r) {
    const std::string event_id = r.record ? r.record->event_id : std::string();
    std::string first_problem;
    auto fail = [&](const status& s) {
      if (first_problem.empty()) first_problem = s.message();
      add_failure(p.line, p.seq, event_id, s);
    };
    for (const auto& pr : r.problems) fail(pr);
    if (r.record) {
      const auto& rec = *r.record;
      ++key_use_[rec.kid];
      const auto& sel = report_.selection;
      if (sel.stream && rec.stream != *sel.stream)
        fail({errc::malformed_entry, "an event of stream \"" + rec.stream + "\", not of the selected stream"});
      if (sel.prefix && !crypto::stream_in_prefix(rec.stream, *sel.prefix))
        fail({errc::malformed_entry, "an event of stream \"" + rec.stream + "\", outside the selected prefix"});
      if (auto s = streams_->add(p.seq, p.erased_before, rec); s.failed()) fail(s);
      if (opts_.fold_stream && rec.stream == *opts_.fold_stream && first_problem.empty()) collect_for_fold(p, rec);
    }
    if (opts_.keep_rows) {
      event_row row;
      row.seq = p.seq;
      row.line = p.line;
      row.erased = p.erased;
      if (p.entry) {
        row.recorded_at_us = p.entry->recorded_at_us;
        row.kid = p.entry->kid;
      }
      if (r.record) {
        row.stream = r.record->stream;
        row.revision = r.record->revision;
        row.event_id = r.record->event_id;
      }
      row.type = std::move(r.type);
      row.author = std::move(r.author);
      row.meaning = std::move(r.meaning);
      row.occurred_at = std::move(r.occurred_at);
      row.amends = std::move(r.amends);
      row.verdict = first_problem;
      if (row.verdict.empty() && !p.entry) row.verdict = "the leaf entry does not decode";
      rows_.push_back(std::move(row));
    }
  }

  // The verified event as the fold reads it (its payload read again from the
  // record's JWS, whose signature has just been checked).
  void collect_for_fold(const pending_event& p, const crypto::event_record& rec) {
    if (auto f = crypto::fold_event_of(p.seq, rec.revision, rec.recorded_at_us, rec.event_id, rec.kid, rec.jws, false))
      report_.fold_events.push_back(std::move(*f));
  }

  // -- after the end line -------------------------------------------------------

  void final_checks() {
    line_no_ = 0;
    const auto& sel = report_.selection;
    if (sel.from_seq && report_.events != *sel.to_seq - *sel.from_seq)
      fatal(errc::malformed_entry, "the seq range selects " + std::to_string(*sel.to_seq - *sel.from_seq) +
                                       " events, the bundle has " + std::to_string(report_.events));
    if (sel.from_time_us && report_.tree_size > 0) {
      if (!last_shown_)
        fatal(errc::malformed_proof, "a time-range bundle of a non-empty tree must show its fences");
      else if (last_shown_->first != report_.tree_size - 1 && last_shown_->second != shown_kind::upper_fence)
        fatal(errc::malformed_proof, "no fence after the time range: later events may have been left out");
    }
    for (const auto& [kid, key] : keys_)
      if (!key_use_.contains(kid))
        add_failure(0, std::nullopt, {}, errc::unknown_key, "key \"" + kid + "\" signed no event of the bundle");
    report_.complete = true;
  }

  void summarise() {
    if (streams_) report_.streams = streams_->summaries();
    for (const auto& kid : key_order_) {
      const auto& key = keys_.at(kid);
      const auto used = key_use_.find(kid);
      report_.keys.push_back({kid, std::string(crypto::to_string(key.type())), jwk_thumbprint(key),
                              used == key_use_.end() ? 0 : used->second});
    }
    report_.rows = std::move(rows_);
    // Failures in file order; those about the bundle as a whole last.
    std::stable_sort(report_.failures.begin(), report_.failures.end(),
                     [](const bundle_failure& a, const bundle_failure& b) {
                       return (a.line ? a.line : UINT64_MAX) < (b.line ? b.line : UINT64_MAX);
                     });
  }

  const crypto::note_verifier& log_key_;
  const bundle_options& opts_;
  bundle_report& report_;
  unsigned threads_ = 1;
  std::size_t chunk_events_ = 512;

  phase phase_ = phase::header;
  bool stopped_ = false;
  std::uint64_t line_no_ = 0;
  std::optional<crypto::checkpoint> since_;

  key_map keys_;  // read by the workers: never changed once the tree lines begin
  std::vector<std::string> key_order_;
  std::map<std::string, std::uint64_t, std::less<>> key_use_;  // events per kid

  // Tree lines.
  std::uint64_t pos_ = 0;
  compact_range range_;
  std::uint64_t gap_start_ = 0;
  std::vector<unsigned> gap_levels_;
  std::optional<std::uint64_t> last_recorded_at_;
  std::optional<std::pair<std::uint64_t, shown_kind>> last_shown_;

  // Events in flight and per-stream state.
  std::optional<signature_pool> pool_;  // from the first tree line on
  std::optional<stream_tracker> streams_;  // from the first tree line on
  std::vector<event_row> rows_;
};

}  // namespace

bundle_report verify_bundle(std::istream& in, const crypto::note_verifier& log_key, const bundle_options& opts) {
  bundle_report report;
  bundle_checker checker(log_key, opts, report);
  checker.run(in);
  return report;
}

}  // namespace vellum::verifier
