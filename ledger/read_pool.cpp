// Pooled read transactions (read_pool.hpp).

#include "ledger/read_pool.hpp"

namespace vellum::ledger::store {

result<MDB_txn*> read_pool::acquire() {
  MDB_txn* t = nullptr;
  {
    std::lock_guard lock(mu_);
    if (!free_.empty()) {
      t = free_.back();
      free_.pop_back();
    }
  }
  if (t != nullptr) {
    if (::mdb_txn_renew(t) == 0) return t;
    ::mdb_txn_abort(t);
  }
  if (int rc = ::mdb_txn_begin(env_, nullptr, MDB_RDONLY, &t); rc != 0) {
    return lmdb::make_error(rc);
  }
  return t;
}

void read_pool::release(MDB_txn* t) noexcept {
  if (t == nullptr) return;
  ::mdb_txn_reset(t);
  std::lock_guard lock(mu_);
  if (free_.size() < max_free) {
    free_.push_back(t);
    return;
  }
  ::mdb_txn_abort(t);
}

void read_pool::clear() noexcept {
  std::lock_guard lock(mu_);
  for (MDB_txn* t : free_) ::mdb_txn_abort(t);
  free_.clear();
}

}  // namespace vellum::ledger::store
