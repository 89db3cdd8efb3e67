#pragma once
// Thin, checked RAII wrappers over the LMDB C API (move-only, as lmdbxx):
// an environment, transactions that abort in their destructor, and cursors
// that close in theirs. Every fallible call returns a result whose error is
// in lmdb_category() (the raw LMDB or errno code); to_ledger_error() maps it
// to the ledger's errc at the module border.
//
// Views returned by get() and cursor positions point into the memory map and
// stay valid until the transaction ends (or, in a write transaction, until
// the next write).

#include "crypto/error.hpp"

#include <lmdb.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace vellum::ledger::lmdb {

const boost::system::error_category& lmdb_category() noexcept;
inline boost::system::error_code make_error(int rc) noexcept { return {rc, lmdb_category()}; }

// True for MDB_MAP_FULL: the caller grows the map and retries.
bool is_map_full(const status& ec) noexcept;
// LMDB/errno code → ledger errc: ENOSPC/EDQUOT → storage_full; corruption
// codes → corrupt; everything else → io_error. Other categories pass through.
// The reason says what LMDB reported (kept if the error already has one).
status to_ledger_error(const status& ec);

inline MDB_val to_val(byte_view b) noexcept {
  return {b.size(), const_cast<std::uint8_t*>(b.data())};
}
inline MDB_val to_val(std::string_view s) noexcept {
  return {s.size(), const_cast<char*>(s.data())};
}
inline byte_view to_view(const MDB_val& v) noexcept {
  return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size};
}

class env {
 public:
  // Creates the environment handle and opens `path` (a directory) with
  // `flags` (MDB_RDONLY, MDB_NOTLS, MDB_NOSYNC …). map_size 0 keeps LMDB's
  // (or the file's) size.
  [[nodiscard]] static result<env> open(const std::string& path, unsigned flags,
                                        std::size_t map_size, unsigned max_dbs);
  env(env&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  env& operator=(env&& o) noexcept;
  env(const env&) = delete;
  env& operator=(const env&) = delete;
  ~env();

  MDB_env* get() const noexcept { return h_; }
  // Current map size in bytes.
  std::size_t map_size() const noexcept;
  // Requires that no transaction of this process is active (caller's duty).
  [[nodiscard]] result<void> set_map_size(std::size_t bytes);

 private:
  explicit env(MDB_env* h) noexcept : h_(h) {}
  MDB_env* h_ = nullptr;
};

class txn {
 public:
  // flags: 0 for a write transaction, MDB_RDONLY for a read transaction.
  [[nodiscard]] static result<txn> begin(MDB_env* e, unsigned flags);
  txn() = default;
  explicit txn(MDB_txn* adopt) noexcept : h_(adopt) {}
  txn(txn&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  txn& operator=(txn&& o) noexcept;
  txn(const txn&) = delete;
  txn& operator=(const txn&) = delete;
  ~txn() { abort(); }

  MDB_txn* get() const noexcept { return h_; }
  explicit operator bool() const noexcept { return h_ != nullptr; }
  // Commits; the handle is released whatever the outcome (LMDB frees a
  // transaction whose commit fails).
  [[nodiscard]] result<void> commit();
  void abort() noexcept;
  MDB_txn* release() noexcept { return std::exchange(h_, nullptr); }

  [[nodiscard]] result<MDB_dbi> open_db(const char* name, unsigned flags) const;
  // nullopt when the key is absent.
  [[nodiscard]] result<std::optional<byte_view>> get(MDB_dbi db, byte_view key) const;
  [[nodiscard]] result<void> put(MDB_dbi db, byte_view key, byte_view value,
                                 unsigned flags = 0) const;
  // Stores `size` uninitialised bytes under `key` and returns them to fill
  // before the next change in this transaction (MDB_RESERVE: no copy).
  [[nodiscard]] result<std::span<std::uint8_t>> reserve(MDB_dbi db, byte_view key,
                                                        std::size_t size,
                                                        unsigned flags = 0) const;
  // Number of entries in a database.
  [[nodiscard]] result<std::size_t> entries(MDB_dbi db) const;

 private:
  MDB_txn* h_ = nullptr;
};

class cursor {
 public:
  using entry = std::pair<byte_view, byte_view>;  // key, value

  [[nodiscard]] static result<cursor> open(const txn& t, MDB_dbi db);
  cursor(cursor&& o) noexcept : h_(std::exchange(o.h_, nullptr)) {}
  cursor& operator=(cursor&& o) noexcept;
  cursor(const cursor&) = delete;
  cursor& operator=(const cursor&) = delete;
  ~cursor();

  // Moves the cursor (MDB_FIRST, MDB_NEXT, MDB_SET_RANGE with `key`, …).
  // nullopt when there is no such entry.
  [[nodiscard]] result<std::optional<entry>> get(MDB_cursor_op op, byte_view key = {});

 private:
  explicit cursor(MDB_cursor* h) noexcept : h_(h) {}
  MDB_cursor* h_ = nullptr;
};

}  // namespace vellum::ledger::lmdb
