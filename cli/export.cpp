// vellum export: fetch a sealed export (docs/formats.md §8) into a file.
// The bundle streams from GET /v1/export into FILE.part, which is renamed to
// FILE only once the whole bundle, end line included, has arrived.
#include "base/file.hpp"
#include "cli/commands.hpp"
#include "crypto/checkpoint.hpp"
#include "crypto/keys.hpp"
#include "crypto/leaf_entry.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace vellum::cli {

namespace {

// An RFC 3339 time from the command line, in the canonical form the bundle
// header uses (UTC, six fractional digits).
std::string canonical_time(const std::string& flag, const std::string& text) {
  auto us = crypto::parse_rfc3339_us(text);
  if (!us) throw cli_error("--" + flag + " must be an RFC 3339 date-time, e.g. 2026-03-01T00:00:00Z");
  return crypto::format_time_us(*us);
}

// The tree size of a checkpoint file (a signed note); its signature is the
// verifier's business (vellum-verify bundle --since checks it).
std::uint64_t checkpoint_size(const std::string& path) {
  return checkpoint_of_note(read_input_file(path), path).size;
}

// Counts lines and event lines as chunks pass by, and remembers the last
// line's beginning (to check that the bundle ends with its end line).
class line_counter {
 public:
  void feed(std::string_view chunk) {
    for (char c : chunk) {
      if (head_.size() < prefix_.size()) head_ += c;
      if (c == '\n') {
        ++lines_;
        if (head_.starts_with(event_prefix)) ++events_;
        last_head_ = head_;
        head_.clear();
      }
    }
  }
  std::uint64_t lines() const { return lines_; }
  std::uint64_t events() const { return events_; }
  bool ended() const { return head_.empty() && last_head_.starts_with(end_prefix); }

 private:
  static constexpr std::string_view event_prefix = "{\"type\":\"event\"";
  static constexpr std::string_view end_prefix = "{\"type\":\"end\"";
  const std::string prefix_ = std::string(event_prefix);
  std::string head_, last_head_;
  std::uint64_t lines_ = 0, events_ = 0;
};

}  // namespace

int cmd_export(int argc, char** argv) {
  po::options_description desc("export options");
  connection_options conn;
  std::string out_file, stream, prefix, from_time, to_time, since_file;
  std::uint64_t from_seq = 0, to_seq = 0;
  desc.add_options()("out,o", po::value(&out_file)->required(), "write the bundle to this file")(
      "stream", po::value(&stream), "every event of one stream")(
      "prefix", po::value(&prefix), "every event of every stream whose name starts with this")(
      "from-seq", po::value(&from_seq), "first seq of a seq range (with --to-seq)")(
      "to-seq", po::value(&to_seq), "end of the seq range (exclusive)")(
      "from-time", po::value(&from_time), "start of a recorded-at range, RFC 3339 (with --to-time)")(
      "to-time", po::value(&to_time), "end of the recorded-at range (exclusive)")(
      "since", po::value(&since_file),
      "a checkpoint file you already trust: the bundle proves the log extends it");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum export --out FILE (--stream S | --prefix P | --from-seq A --to-seq B |\n"
                  "                     --from-time T --to-time T) [--since CHECKPOINT_FILE]\n"
                  "Fetches a sealed export; check it offline with vellum-verify bundle --log-key VKEY FILE."))
    return exit_ok;

  std::string query;
  auto param = [&](const std::string& name, const std::string& value) {
    query += (query.empty() ? "?" : "&") + name + "=" + percent_encode(value);
  };
  const int kinds = (vm.count("stream") ? 1 : 0) + (vm.count("prefix") ? 1 : 0) +
                    (vm.count("from-seq") || vm.count("to-seq") ? 1 : 0) +
                    (vm.count("from-time") || vm.count("to-time") ? 1 : 0);
  if (kinds != 1)
    throw cli_error("choose exactly one of --stream, --prefix, --from-seq/--to-seq, --from-time/--to-time");
  if (vm.count("stream")) param("stream", stream);
  if (vm.count("prefix")) param("prefix", prefix);
  if (vm.count("from-seq") || vm.count("to-seq")) {
    if (!vm.count("from-seq") || !vm.count("to-seq")) throw cli_error("give both --from-seq and --to-seq");
    if (from_seq > to_seq) throw cli_error("--from-seq is after --to-seq");
    param("from_seq", std::to_string(from_seq));
    param("to_seq", std::to_string(to_seq));
  }
  if (vm.count("from-time") || vm.count("to-time")) {
    if (!vm.count("from-time") || !vm.count("to-time")) throw cli_error("give both --from-time and --to-time");
    param("from_time", canonical_time("from-time", from_time));
    param("to_time", canonical_time("to-time", to_time));
  }
  if (vm.count("since")) param("since_size", std::to_string(checkpoint_size(since_file)));

  const std::string part = out_file + ".part";
  std::ofstream out(part, std::ios::binary | std::ios::trunc);
  if (!out) throw cli_error("cannot write " + part);

  auto client = conn.connect();
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto last = std::chrono::steady_clock::now();
  bool shown = false;
  std::uint64_t bytes = 0;
  std::string error_body;  // a non-200 answer, kept for the message
  line_counter counter;
  bool write_failed = false;
  auto res = client.download("/v1/export" + query, "application/x-ndjson", [&](int status, std::string_view chunk) {
    if (status != 200) {
      if (error_body.size() < (std::size_t{1} << 16)) error_body.append(chunk);
      return true;
    }
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) {
      write_failed = true;
      return false;
    }
    bytes += chunk.size();
    counter.feed(chunk);
    const auto now = std::chrono::steady_clock::now();
    if (tty && now - last >= std::chrono::milliseconds(200)) {
      last = now;
      shown = true;
      std::fprintf(stderr, "\rexporting: %llu events, %.1f MiB", static_cast<unsigned long long>(counter.events()),
                   static_cast<double>(bytes) / (1024.0 * 1024.0));
    }
    return true;
  });
  if (shown) std::fprintf(stderr, "\r\033[K");
  out.close();
  std::error_code ignored;
  if (!res) {
    std::filesystem::remove(part, ignored);
    throw cli_error("the export did not complete: " + res.error().message());
  }
  if (*res != 200) {
    std::filesystem::remove(part, ignored);
    return http_failure("export", http_response{*res, error_body, {}, {}});
  }
  if (write_failed || !out) {
    std::filesystem::remove(part, ignored);
    throw cli_error("writing " + part + " failed (disk full?)");
  }
  if (!counter.ended()) {
    std::filesystem::remove(part, ignored);
    throw cli_error("the server's answer ended before the bundle's end line; nothing was written");
  }
  std::error_code renamed;
  std::filesystem::rename(part, out_file, renamed);
  if (renamed) throw cli_error("cannot rename " + part + " to " + out_file + ": " + renamed.message());
  std::cout << "wrote " << out_file << ": " << counter.events() << " events, " << counter.lines() << " lines, "
            << bytes << " bytes\n"
            << "verify it offline: vellum-verify bundle --log-key <the log's verifier key>"
            << (vm.count("since") ? " --since " + since_file : std::string()) << " " << out_file << "\n";
  return exit_ok;
}

}  // namespace vellum::cli
