// vellum backup's copy of a live data directory (ledger.hpp, backup()).

#include "base/file.hpp"
#include "ledger/ledger.hpp"
#include "ledger/lmdb.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

namespace vellum::ledger {
namespace {

namespace fs = std::filesystem;

status errno_status(int err, const std::string& what) {
  return status(boost::system::error_code(err, boost::system::generic_category()),
                what + ": " + std::strerror(err));
}

// Moves everything readable from `in` to `out`, reporting progress.
status pump(int in, int out, const std::string& dest_file, std::uint64_t in_use,
            const backup_progress& progress) {
  std::uint64_t copied = 0;
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno_status(errno, "reading the copy");
    if (n == 0) return {};
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return errno_status(errno, "writing " + dest_file);
      off += w;
    }
    copied += static_cast<std::uint64_t>(n);
    if (progress) progress(copied, in_use);
  }
}

// Copies the LMDB environment in `dir` to the new file `dest_file` (mode
// 0600): LMDB writes a compacted, consistent snapshot (one read transaction)
// into a pipe, and this thread moves it to the file, then fsyncs it.
status copy_database(const std::string& dir, const std::string& dest_file,
                     const backup_progress& progress) {
  auto opened = lmdb::env::open(dir, MDB_RDONLY | MDB_NOTLS, 0, 64);
  if (!opened) {
    return status(lmdb::to_ledger_error(opened.error()).code(),
                  "cannot open the database in " + dir + ": " + opened.error().message());
  }
  MDB_env* env = opened->get();
  MDB_envinfo info{};
  MDB_stat st{};
  ::mdb_env_info(env, &info);
  ::mdb_env_stat(env, &st);
  const std::uint64_t in_use = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;

  const int out = ::open(dest_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return errno_status(errno, "cannot create " + dest_file);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    const int err = errno;
    ::close(out);
    return errno_status(err, "pipe");
  }
  // If this side stops reading, LMDB's write gets EPIPE instead of a signal.
  std::signal(SIGPIPE, SIG_IGN);
  int copy_rc = 0;
  std::thread copier([&] {
    copy_rc = ::mdb_env_copyfd2(env, pipe_fds[1], MDB_CP_COMPACT);
    ::close(pipe_fds[1]);
  });
  status outcome = pump(pipe_fds[0], out, dest_file, in_use, progress);
  ::close(pipe_fds[0]);  // a writer still blocked gets EPIPE
  copier.join();
  if (!outcome && copy_rc != 0) {
    outcome = status(lmdb::to_ledger_error(lmdb::make_error(copy_rc)).code(),
                    std::string("LMDB copy: ") + ::mdb_strerror(copy_rc));
  }
  if (!outcome && ::fsync(out) != 0) outcome = errno_status(errno, "fsync " + dest_file);
  if (::close(out) != 0 && !outcome) outcome = errno_status(errno, "close " + dest_file);
  return outcome;
}

// Copies the regular files beside the database (the log key) with their
// permissions, durably.
status copy_side_files(const std::string& dir, const std::string& dest) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (name == "data.mdb" || name == "lock.mdb" || !entry.is_regular_file()) continue;
    auto bytes = vellum::read_file(entry.path().string());
    if (!bytes) return bytes.error();
    const auto mode = static_cast<unsigned>(fs::status(entry.path()).permissions() & fs::perms::all);
    if (auto w = vellum::write_file_atomic((fs::path(dest) / name).string(), *bytes, mode); !w) {
      return w.error();
    }
  }
  if (ec) return errno_status(ec.value(), "cannot list " + dir);
  return {};
}

}  // namespace

result<void> backup(const std::string& data_dir, const std::string& dest_dir,
                    const backup_progress& progress) {
  const std::string dest_file = (fs::path(dest_dir) / "data.mdb").string();
  if (auto c = copy_database(data_dir, dest_file, progress); c) {
    std::error_code ec;
    fs::remove(dest_file, ec);
    return c;
  }
  if (auto s = copy_side_files(data_dir, dest_dir); s) return s;
  // The directory entries too, so that the copy survives a power cut.
  return vellum::fsync_directory(dest_dir);
}

}  // namespace vellum::ledger
