// LMDB wrappers: every return code checked, every handle released once.

#include "ledger/lmdb.hpp"

#include "ledger/ledger.hpp"

#include <cerrno>
#include <string>

namespace vellum::ledger::lmdb {
namespace {

// boost::system::error_category has a protected non-virtual destructor by
// design; the instance is never destroyed, so codes stay valid at exit.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "lmdb"; }
  std::string message(int ev) const override { return ::mdb_strerror(ev); }
};
#pragma GCC diagnostic pop

}  // namespace

const boost::system::error_category& lmdb_category() noexcept {
  static const category* const instance = new category();
  return *instance;
}

bool is_map_full(const status& ec) noexcept {
  return ec.category() == lmdb_category() && ec.value() == MDB_MAP_FULL;
}

status to_ledger_error(const status& ec) {
  if (!ec || ec.category() != lmdb_category()) return ec;
  const auto keep = [&](errc e) {
    return status(e, ec.reason().empty() ? "LMDB: " + ec.code().message() : ec.reason());
  };
  switch (ec.value()) {
    case ENOSPC:
    case EDQUOT:
    case MDB_MAP_FULL:  // only escapes when the map cannot grow any further
      return keep(errc::storage_full);
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_VALSIZE:
      return keep(errc::corrupt);
    case MDB_NOTFOUND:
      return keep(errc::not_found);
    default:
      return keep(errc::io_error);
  }
}

// ---------------------------------------------------------------------------
// env

result<env> env::open(const std::string& path, unsigned flags, std::size_t map_size,
                      unsigned max_dbs) {
  MDB_env* h = nullptr;
  if (int rc = ::mdb_env_create(&h); rc != 0) return make_error(rc);
  env e(h);
  if (int rc = ::mdb_env_set_maxdbs(h, max_dbs); rc != 0) return make_error(rc);
  if (map_size != 0) {
    if (int rc = ::mdb_env_set_mapsize(h, map_size); rc != 0) return make_error(rc);
  }
  if (int rc = ::mdb_env_open(h, path.c_str(), flags, 0600); rc != 0) return make_error(rc);
  return e;
}

env& env::operator=(env&& o) noexcept {
  if (this != &o) {
    if (h_) ::mdb_env_close(h_);
    h_ = std::exchange(o.h_, nullptr);
  }
  return *this;
}

env::~env() {
  if (h_) ::mdb_env_close(h_);
}

std::size_t env::map_size() const noexcept {
  MDB_envinfo info{};
  if (::mdb_env_info(h_, &info) != 0) return 0;
  return info.me_mapsize;
}

result<void> env::set_map_size(std::size_t bytes) {
  if (int rc = ::mdb_env_set_mapsize(h_, bytes); rc != 0) return make_error(rc);
  return {};
}

// ---------------------------------------------------------------------------
// txn

result<txn> txn::begin(MDB_env* e, unsigned flags) {
  MDB_txn* h = nullptr;
  if (int rc = ::mdb_txn_begin(e, nullptr, flags, &h); rc != 0) return make_error(rc);
  return txn(h);
}

txn& txn::operator=(txn&& o) noexcept {
  if (this != &o) {
    abort();
    h_ = std::exchange(o.h_, nullptr);
  }
  return *this;
}

result<void> txn::commit() {
  MDB_txn* h = release();
  if (h == nullptr) return make_error(EINVAL);
  if (int rc = ::mdb_txn_commit(h); rc != 0) return make_error(rc);
  return {};
}

void txn::abort() noexcept {
  if (MDB_txn* h = release()) ::mdb_txn_abort(h);
}

result<MDB_dbi> txn::open_db(const char* name, unsigned flags) const {
  MDB_dbi db = 0;
  if (int rc = ::mdb_dbi_open(h_, name, flags, &db); rc != 0) return make_error(rc);
  return db;
}

result<std::optional<byte_view>> txn::get(MDB_dbi db, byte_view key) const {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = ::mdb_get(h_, db, &k, &v);
  if (rc == MDB_NOTFOUND) return std::optional<byte_view>{};
  if (rc != 0) return make_error(rc);
  return std::optional<byte_view>{to_view(v)};
}

result<void> txn::put(MDB_dbi db, byte_view key, byte_view value, unsigned flags) const {
  MDB_val k = to_val(key);
  MDB_val v = to_val(value);
  if (int rc = ::mdb_put(h_, db, &k, &v, flags); rc != 0) return make_error(rc);
  return {};
}

result<std::span<std::uint8_t>> txn::reserve(MDB_dbi db, byte_view key, std::size_t size,
                                             unsigned flags) const {
  MDB_val k = to_val(key);
  MDB_val v{size, nullptr};
  if (int rc = ::mdb_put(h_, db, &k, &v, flags | MDB_RESERVE); rc != 0) return make_error(rc);
  return std::span<std::uint8_t>(static_cast<std::uint8_t*>(v.mv_data), size);
}

result<std::size_t> txn::entries(MDB_dbi db) const {
  MDB_stat st{};
  if (int rc = ::mdb_stat(h_, db, &st); rc != 0) return make_error(rc);
  return st.ms_entries;
}

// ---------------------------------------------------------------------------
// cursor

result<cursor> cursor::open(const txn& t, MDB_dbi db) {
  MDB_cursor* h = nullptr;
  if (int rc = ::mdb_cursor_open(t.get(), db, &h); rc != 0) return make_error(rc);
  return cursor(h);
}

cursor& cursor::operator=(cursor&& o) noexcept {
  if (this != &o) {
    if (h_) ::mdb_cursor_close(h_);
    h_ = std::exchange(o.h_, nullptr);
  }
  return *this;
}

cursor::~cursor() {
  if (h_) ::mdb_cursor_close(h_);
}

result<std::optional<cursor::entry>> cursor::get(MDB_cursor_op op, byte_view key) {
  MDB_val k = to_val(key);
  MDB_val v{};
  int rc = ::mdb_cursor_get(h_, &k, &v, op);
  if (rc == MDB_NOTFOUND) return std::optional<entry>{};
  if (rc != 0) return make_error(rc);
  return std::optional<entry>{entry{to_view(k), to_view(v)}};
}

}  // namespace vellum::ledger::lmdb
