// vellum fsck and vellum backup: operator commands that work on a data
// directory directly (on the server's machine), safe while vellumd runs.
#include "cli/commands.hpp"
#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "ledger/ledger.hpp"

#include <fcntl.h>
#include <lmdb.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace po = boost::program_options;

namespace vellum::cli {

namespace {

// Prints "label done/total" on a terminal, rewriting one line.
struct progress_line {
  std::string label;
  bool tty = ::isatty(STDERR_FILENO);
  void operator()(std::uint64_t done, std::uint64_t total) const {
    if (!tty) return;
    std::cerr << "\r" << label << " " << done << "/" << total << std::flush;
  }
  void finish() const {
    if (tty) std::cerr << "\n";
  }
};

// fsyncs a file or directory; returns why it failed, or "".
std::string fsync_path(const std::filesystem::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return "cannot open " + p.string() + " to sync it: " + std::strerror(errno);
  const bool ok = ::fsync(fd) == 0;
  const std::string why = ok ? "" : "fsync " + p.string() + ": " + std::strerror(errno);
  ::close(fd);
  return why;
}

// Copies the LMDB environment in `dir` to the new file `dest_file` (mode
// 0600): LMDB writes a compacted, consistent snapshot (one read transaction)
// into a pipe, and this thread moves it to the file, showing progress
// against the pages in use, then fsyncs it. Returns why it failed, or "".
std::string copy_database(const std::string& dir, const std::string& dest_file) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == 0) rc = mdb_env_set_maxdbs(env, 64);
  if (rc == 0) rc = mdb_env_open(env, dir.c_str(), MDB_RDONLY | MDB_NOTLS, 0600);
  if (rc != 0) {
    if (env) mdb_env_close(env);
    return std::string("cannot open the database: ") + mdb_strerror(rc);
  }
  std::unique_ptr<MDB_env, decltype(&mdb_env_close)> env_guard(env, &mdb_env_close);
  MDB_envinfo info{};
  MDB_stat st{};
  mdb_env_info(env, &info);
  mdb_env_stat(env, &st);
  const std::uint64_t in_use = (static_cast<std::uint64_t>(info.me_last_pgno) + 1) * st.ms_psize;

  const int out = ::open(dest_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (out < 0) return "cannot create " + dest_file + ": " + std::strerror(errno);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    ::close(out);
    return std::string("pipe: ") + std::strerror(errno);
  }
  // If this side stops reading, LMDB's write gets EPIPE instead of a signal.
  std::signal(SIGPIPE, SIG_IGN);
  int copy_rc = 0;
  std::thread copier([&] {
    copy_rc = mdb_env_copyfd2(env, pipe_fds[1], MDB_CP_COMPACT);
    ::close(pipe_fds[1]);
  });
  std::string why;
  std::uint64_t copied = 0;
  const bool tty = ::isatty(STDERR_FILENO);
  auto shown = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  std::vector<char> buf(1 << 20);
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      why = std::string("reading the copy: ") + std::strerror(errno);
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n;) {
      const ssize_t w = ::write(out, buf.data() + off, static_cast<std::size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        why = "writing " + dest_file + ": " + std::strerror(errno);
        break;
      }
      off += w;
    }
    if (!why.empty()) break;
    copied += static_cast<std::uint64_t>(n);
    const auto now = std::chrono::steady_clock::now();
    if (tty && now - shown >= std::chrono::milliseconds(200)) {
      shown = now;
      std::fprintf(stderr, "\rcopied %.1f MiB of at most %.1f MiB", static_cast<double>(copied) / 1048576.0,
                   static_cast<double>(in_use) / 1048576.0);
    }
  }
  ::close(pipe_fds[0]);  // a writer still blocked gets EPIPE
  copier.join();
  if (tty) {
    std::fprintf(stderr, "\rcopied %.1f MiB of at most %.1f MiB\n", static_cast<double>(copied) / 1048576.0,
                 static_cast<double>(in_use) / 1048576.0);
  }
  if (why.empty() && copy_rc != 0) why = std::string("LMDB copy: ") + mdb_strerror(copy_rc);
  if (why.empty() && ::fsync(out) != 0) why = "fsync " + dest_file + ": " + std::strerror(errno);
  if (::close(out) != 0 && why.empty()) why = "close " + dest_file + ": " + std::strerror(errno);
  return why;
}

}  // namespace

int cmd_fsck(int argc, char** argv) {
  po::options_description desc("fsck options");
  std::string dir;
  desc.add_options()("data-dir", po::value(&dir)->required(), "the data directory");
  po::positional_options_description pos;
  pos.add("data-dir", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum fsck DATA_DIR\n\n"
                  "Re-derives every leaf from the stored records, every tile hash and the root, and\n"
                  "compares them with the latest signed checkpoint and the indexes. Read-only; safe\n"
                  "while vellumd runs. Exit status 0: clean; 1: problems found (the first seq and\n"
                  "field that disagree are named); 2: the directory cannot be opened."))
    return exit_ok;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "data.mdb"))
    throw cli_error(dir + " is not a Vellum data directory (no data.mdb)");
  progress_line progress{"checked"};
  auto report = ledger::fsck(dir, std::ref(progress));
  progress.finish();
  if (!report) throw cli_error("cannot check " + dir + ": " + report.error().message());
  std::cout << "tree size " << report->tree_size << ", " << report->events_checked << " events checked\n";
  if (report->ok()) {
    std::cout << "clean: every record, leaf, tile, index and the signed root agree\n";
    return exit_ok;
  }
  for (const auto& p : report->problems)
    std::cout << "PROBLEM at seq " << p.seq << ": " << p.what << (p.detail.empty() ? "" : ": " + p.detail) << "\n";
  return exit_failed;
}

int cmd_backup(int argc, char** argv) {
  po::options_description desc("backup options");
  std::string dir, dest;
  desc.add_options()("data-dir", po::value(&dir)->required(), "the live data directory")(
      "dest", po::value(&dest)->required(), "a new, empty directory for the copy");
  po::positional_options_description pos;
  pos.add("data-dir", 1).add("dest", 1);
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum backup DATA_DIR DEST\n\n"
                  "Copies a live data directory consistently (LMDB's copy with compaction, one read\n"
                  "transaction; the copy is written with mode 0600 and fsynced, with progress on a\n"
                  "terminal), copies the log key (mode 0600), then reopens the copy, checks its\n"
                  "latest checkpoint's signature and runs fsck on it. A failed copy leaves no\n"
                  "data.mdb behind."))
    return exit_ok;

  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(dir) / "data.mdb")) throw cli_error(dir + " is not a Vellum data directory");
  std::error_code ec;
  if (fs::exists(dest) && !fs::is_empty(dest, ec)) throw cli_error(dest + " exists and is not empty");
  fs::create_directories(dest, ec);
  if (ec) throw cli_error("cannot create " + dest + ": " + ec.message());

  // 1. The LMDB copy: a consistent snapshot, free pages compacted away.
  std::cerr << "copying " << dir << " to " << dest << " ...\n";
  if (auto why = copy_database(dir, (fs::path(dest) / "data.mdb").string()); !why.empty()) {
    fs::remove(fs::path(dest) / "data.mdb", ec);
    throw cli_error("copy failed: " + why + " (nothing was left in " + dest + ")");
  }

  // 2. The log key and the other small files beside the database.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name == "data.mdb" || name == "lock.mdb" || !entry.is_regular_file()) continue;
    fs::copy_file(entry.path(), fs::path(dest) / name, ec);
    if (ec) throw cli_error("cannot copy " + entry.path().string() + ": " + ec.message());
    fs::permissions(fs::path(dest) / name, fs::status(entry.path()).permissions(), ec);
    if (auto why = fsync_path(fs::path(dest) / name, O_RDONLY); !why.empty()) throw cli_error(why);
  }
  // The directory entries too, so that the copy survives a power cut.
  if (auto why = fsync_path(dest, O_RDONLY | O_DIRECTORY); !why.empty()) throw cli_error(why);

  // 3. Verify the copy: it opens, its checkpoint verifies, fsck is clean.
  progress_line checked{"checked the copy:"};
  auto report = ledger::fsck(dest, std::ref(checked));
  checked.finish();
  if (!report) throw cli_error("the copy does not open: " + report.error().message());
  if (!report->ok()) {
    for (const auto& p : report->problems)
      std::cerr << "copy PROBLEM at seq " << p.seq << ": " << p.what << " " << p.detail << "\n";
    return exit_failed;
  }
  std::cout << "backup complete: " << dest << " holds tree size " << report->tree_size
            << ", fsck clean (checkpoint signature verified)\n";
  return exit_ok;
}

}  // namespace vellum::cli
