#pragma once
// Pooled LMDB read transactions. Internal to ledger/ (docs/architecture.md).

#include "ledger/lmdb.hpp"

#include <cstddef>
#include <mutex>
#include <shared_mutex>
#include <vector>

namespace vellum::ledger::store {

// A pool of reset read transactions, renewed on demand. Reset transactions
// hold no snapshot and no reader slot, so they never pin old pages.
class read_pool {
 public:
  explicit read_pool(MDB_env* e) : env_(e) {}
  ~read_pool() { clear(); }
  read_pool(const read_pool&) = delete;
  read_pool& operator=(const read_pool&) = delete;

  // A renewed pooled transaction, or a new one.
  [[nodiscard]] result<MDB_txn*> acquire();
  // Resets `t` and keeps it for later (or aborts it when the pool is full).
  void release(MDB_txn* t) noexcept;
  // Frees every pooled transaction (before the map is resized or closed).
  void clear() noexcept;

 private:
  static constexpr std::size_t max_free = 64;
  MDB_env* env_;
  std::mutex mu_;
  std::vector<MDB_txn*> free_;
};

// A read transaction that holds the map lock shared while it lives (growing
// the map takes it exclusively: mdb_env_set_mapsize needs no live
// transaction in the process), and goes back to its pool at the end.
class reader {
 public:
  reader(std::shared_lock<std::shared_mutex> lock, read_pool& pool, MDB_txn* t)
      : lock_(std::move(lock)), pool_(&pool), txn_(t) {}
  reader(reader&&) noexcept = default;
  reader& operator=(reader&&) = delete;
  reader(const reader&) = delete;
  ~reader() {
    if (txn_) pool_->release(txn_.release());
  }
  const lmdb::txn& txn() const { return txn_; }

 private:
  std::shared_lock<std::shared_mutex> lock_;
  read_pool* pool_;
  lmdb::txn txn_;
};

}  // namespace vellum::ledger::store
