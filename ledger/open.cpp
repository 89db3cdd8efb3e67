// Opening a ledger: the LMDB environment, the schema version, the origin,
// the log key, and either resuming a log or creating it with checkpoint 0.

#include "base/file.hpp"
#include "ledger/ledger_impl.hpp"

#include <algorithm>
#include <filesystem>

namespace vellum::ledger {
namespace {

using schema::db;

// The stored schema version, or nullopt for a new (empty) environment.
result<std::optional<std::uint32_t>> stored_version(const lmdb::txn& txn, MDB_dbi meta) {
  auto version = txn.get(meta, schema::view(schema::meta_key::schema_version));
  if (!version) return version.error();
  if (!*version) return std::optional<std::uint32_t>{};
  auto v = schema::decode_u32(**version);
  if (!v || *v < schema::oldest_readable_version || *v > schema::version) {
    return status(errc::corrupt, "data directory has schema version " +
                                     (v ? std::to_string(*v) : "?") +
                                     ", this build reads versions " +
                                     std::to_string(schema::oldest_readable_version) + " to " +
                                     std::to_string(schema::version));
  }
  return std::optional<std::uint32_t>{*v};
}

// The origin the log signs as: fixed at creation; the default origin in the
// options means "whatever is stored".
result<std::string> resolve_origin(const lmdb::txn& txn, MDB_dbi meta, const options& opts,
                                   bool created) {
  std::string origin = opts.origin;
  if (!created) {
    auto stored = txn.get(meta, schema::view(schema::meta_key::origin));
    if (!stored) return stored.error();
    if (!*stored || (*stored)->empty()) {
      return status(errc::corrupt, "meta record \"origin\" is missing");
    }
    std::string stored_origin(schema::chars(**stored));
    if (opts.origin != options{}.origin && opts.origin != stored_origin) {
      return status(errc::invalid_argument, "data directory was created with origin \"" +
                                                stored_origin + "\"; it cannot be opened as \"" +
                                                opts.origin + "\"");
    }
    origin = std::move(stored_origin);
  }
  if (!crypto::valid_note_key_name(origin)) {
    return status(errc::invalid_argument,
                  "origin \"" + origin + "\" is not a valid key name (empty, whitespace or '+')");
  }
  return origin;
}

// The log key: loaded from its file, or generated (0600) for a new log in
// the default place. An existing log never gets a new key.
result<crypto::private_key> log_key(const std::string& key_path, const options& opts,
                                    bool created) {
  std::error_code fs_ec;
  if (std::filesystem::exists(key_path, fs_ec)) {
    auto pem = vellum::read_file(key_path);
    if (!pem) return status(errc::key_error, "cannot read log key " + key_path);
    auto k = crypto::private_key::from_pem(*pem);
    if (!k || k->type() != crypto::key_type::ed25519) {
      return status(errc::key_error,
                    "log key " + key_path + " is not an Ed25519 PKCS#8 PEM private key");
    }
    return std::move(*k);
  }
  if (!opts.key_file.empty()) {
    return status(errc::key_error, "log key file " + key_path + " does not exist");
  }
  if (!created) {
    return status(errc::key_error,
                  "log key " + key_path + " is missing; this log cannot be signed with a new key");
  }
  auto k = crypto::private_key::generate(crypto::key_type::ed25519);
  if (!k) return status(errc::key_error, "cannot generate the log key");
  if (auto w = vellum::write_file_atomic(key_path, k->to_pem(), 0600); !w) {
    return status(errc::io_error, "cannot write log key " + key_path);
  }
  return std::move(*k);
}

// An existing log: the key must be the one it was created with; loads the
// upper node cache and the unmerged index entries.
status resume(ledger::impl& l, const lmdb::txn& txn, const std::string& key_path,
              std::uint32_t version) {
  const MDB_dbi meta = l.dbs[db::meta];
  auto stored = txn.get(meta, schema::view(schema::meta_key::verifier_key));
  if (!stored) return stored.error();
  if (!*stored || schema::chars(**stored) != l.vkey) {
    return status(errc::key_error,
                  "log key " + key_path + " is not the key this log was created with (" +
                      (*stored ? std::string(schema::chars(**stored)) : std::string("?")) + ")");
  }
  auto size = store::meta_u64(txn, l.dbs, schema::meta_key::tree_size);
  if (!size) {
    return status(size.error().code(), "meta record \"tree_size\" is missing or malformed");
  }
  if (auto c = l.upper.load(txn, l.dbs[db::nodes]); !c) {
    return status(c.error().code(), "stored nodes do not decode");
  }
  // Version 1 indexed every event at once: all of it is merged.
  if (version == 1) {
    auto r = txn.put(meta, schema::view(schema::meta_key::indexed), schema::encode_u64(*size));
    if (!r) return r.error();
  }
  // Versions 1 and 2 had no query indexes: one pass over the records.
  if (version < schema::query_indexes_version) {
    if (auto b = l.build_query_indexes(txn, *size); b) {
      return status(b.code(), "cannot build the query indexes from the stored records");
    }
  }
  if (version < schema::version) {
    auto r = txn.put(meta, schema::view(schema::meta_key::schema_version), schema::encode_u32(schema::version));
    if (!r) return r.error();
  }
  auto indexed = store::meta_u64(txn, l.dbs, schema::meta_key::indexed);
  if (!indexed || *indexed > *size) {
    return status(indexed ? make_error_code(errc::corrupt) : indexed.error().code(),
                  "meta record \"indexed\" is missing, malformed or past the tree size");
  }
  if (auto r = l.load_recent(txn, *indexed, *size); r) {
    return status(r.code(), "the records after the merged indexes do not decode");
  }
  l.indexed.store(*indexed, std::memory_order_release);
  l.size.store(*size, std::memory_order_release);
  return {};
}

// A new log: meta records and the signed checkpoint of the empty tree.
status create(ledger::impl& l, const lmdb::txn& txn) {
  const MDB_dbi meta = l.dbs[db::meta];
  const auto version_bytes = schema::encode_u32(schema::version);
  const auto zero = schema::encode_u64(0);
  for (auto r : {txn.put(meta, schema::view(schema::meta_key::schema_version), version_bytes),
                 txn.put(meta, schema::view(schema::meta_key::origin), schema::view(l.origin)),
                 txn.put(meta, schema::view(schema::meta_key::verifier_key), schema::view(l.vkey)),
                 txn.put(meta, schema::view(schema::meta_key::tree_size), zero),
                 txn.put(meta, schema::view(schema::meta_key::recorded_at), zero),
                 txn.put(meta, schema::view(schema::meta_key::indexed), zero)}) {
    if (!r) return r.error();
  }
  l.recent.clear(0);
  auto note = l.sign_checkpoint(0, crypto::empty_root());
  if (!note) return status(note.error().code(), "cannot sign the first checkpoint");
  if (auto r = txn.put(l.dbs[db::checkpoints], zero, schema::view(*note), MDB_APPEND); !r) {
    return r.error();
  }
  l.size.store(0, std::memory_order_release);
  return {};
}

// One attempt at opening, in one write transaction.
status init_txn(ledger::impl& l, const options& opts) {
  auto t = lmdb::txn::begin(l.env.get(), 0);
  if (!t) return t.error();
  const lmdb::txn& txn = *t;
  auto d = store::open_dbs(txn, MDB_CREATE);
  if (!d) return d.error();
  l.dbs = *d;
  auto version = stored_version(txn, l.dbs[db::meta]);
  if (!version) return version.error();
  const bool created = !*version;
  auto origin = resolve_origin(txn, l.dbs[db::meta], opts, created);
  if (!origin) return origin.error();
  l.origin = std::move(*origin);

  const std::string key_path =
      opts.key_file.empty() ? opts.data_dir + "/log-key.pem" : opts.key_file;
  auto key = log_key(key_path, opts, created);
  if (!key) return key.error();
  auto signer = crypto::note_signer::create(l.origin, std::move(*key));
  if (!signer) {
    return status(errc::key_error,
                  "cannot use the log key to sign notes named \"" + l.origin + "\"");
  }
  l.signer = std::move(*signer);
  l.vkey = l.signer->verifier().vkey();

  if (auto r = created ? create(l, txn) : resume(l, txn, key_path, **version); r) return r;
  if (auto c = t->commit(); !c) return c.error();
  return {};
}

}  // namespace

status ledger::impl::init(const options& opts) {
  return with_map_growth([&] { return init_txn(*this, opts); });
}

result<std::unique_ptr<ledger>> ledger::open(const options& opts) {
  if (opts.data_dir.empty()) return status(errc::invalid_argument, "no data directory given");
  std::error_code fs_ec;
  std::filesystem::create_directories(opts.data_dir, fs_ec);
  if (fs_ec) {
    return status(errc::io_error,
                  "cannot create data directory " + opts.data_dir + ": " + fs_ec.message());
  }
  const unsigned flags = MDB_NOTLS | (opts.sync ? 0u : MDB_NOSYNC);
  const std::size_t map_size = std::max<std::size_t>(opts.initial_map_size, 64 * 1024);
  auto e = lmdb::env::open(opts.data_dir, flags, map_size, schema::db_count + 2);
  if (!e) {
    return status(lmdb::to_ledger_error(e.error()).code(),
                  "cannot open LMDB environment in " + opts.data_dir + ": " + e.error().message());
  }
  auto state = std::make_unique<impl>(std::move(*e), opts);
  if (auto ec = state->init(opts); ec) {
    status mapped = lmdb::to_ledger_error(ec);
    if (mapped.reason().empty()) {
      mapped = status(mapped.code(), "cannot initialise " + opts.data_dir + ": " + ec.message());
    }
    return mapped;
  }
  return std::unique_ptr<ledger>(new ledger(std::move(state)));
}

ledger::ledger(std::unique_ptr<impl> i) : impl_(std::move(i)) {}
ledger::~ledger() = default;

const std::string& ledger::origin() const { return impl_->origin; }
std::string ledger::verifier_key() const { return impl_->vkey; }
const crypto::hash_source& ledger::hashes() const { return impl_->hashes; }

}  // namespace vellum::ledger
