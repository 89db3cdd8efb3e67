// vellum fsck and vellum backup: operator commands that work on a data
// directory directly (on the server's machine), safe while vellumd runs.
#include "cli/commands.hpp"
#include "crypto/keys.hpp"
#include "crypto/note.hpp"
#include "ledger/ledger.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <utility>

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

// Shows "copied X MiB of at most Y MiB" on a terminal, at most 5 times a second.
class copy_progress {
 public:
  void operator()(std::uint64_t copied, std::uint64_t at_most) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - shown_ < std::chrono::milliseconds(200)) return;
    shown_ = now;
    show(copied, at_most);
    last_ = {copied, at_most};
  }
  void finish() const {
    if (tty_ && last_.second != 0) {
      show(last_.first, last_.second);
      std::fprintf(stderr, "\n");
    }
  }

 private:
  static void show(std::uint64_t copied, std::uint64_t at_most) {
    std::fprintf(stderr, "\rcopied %.1f MiB of at most %.1f MiB",
                 static_cast<double>(copied) / 1048576.0, static_cast<double>(at_most) / 1048576.0);
  }
  bool tty_ = ::isatty(STDERR_FILENO);
  std::chrono::steady_clock::time_point shown_{};
  std::pair<std::uint64_t, std::uint64_t> last_{};
};

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

  // 1.-2. A consistent snapshot (free pages compacted away), the log key
  // beside it, all fsynced.
  std::cerr << "copying " << dir << " to " << dest << " ...\n";
  copy_progress shown;
  auto copied = ledger::backup(dir, dest, std::ref(shown));
  shown.finish();
  if (!copied) {
    throw cli_error("copy failed: " + copied.error().message() + " (no data.mdb was left in " +
                    dest + ")");
  }

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
