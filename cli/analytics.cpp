// vellum analytics: the log's events as CSV (RFC 4180) or NDJSON rows for a
// spreadsheet or a data pipeline (GET /v1/analytics), streamed to a file or
// standard output, with progress on a terminal.

#include "cli/commands.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace po = boost::program_options;

namespace vellum::cli {

int cmd_analytics(int argc, char** argv) {
  po::options_description desc("analytics options");
  connection_options conn;
  std::string format = "csv", type, author, stream, prefix, from_time, to_time, time = "recorded_at", out_file;
  desc.add_options()("format", po::value(&format)->default_value("csv"), "csv (RFC 4180) or ndjson")(
      "type", po::value(&type), "only events of this type")("author", po::value(&author), "only events by this author id")(
      "stream", po::value(&stream), "only this stream")("prefix", po::value(&prefix), "only streams with this prefix")(
      "from-time", po::value(&from_time), "from this RFC 3339 time (inclusive)")(
      "to-time", po::value(&to_time), "to this RFC 3339 time (exclusive)")(
      "time", po::value(&time)->default_value("recorded_at"), "which time the range applies to: recorded_at or occurred_at")(
      "out,o", po::value(&out_file), "write to this file (written whole or not at all); default: standard output");
  conn.add_to(desc);
  po::positional_options_description pos;
  po::variables_map vm;
  if (!parse_args(argc, argv, desc, pos, vm,
                  "usage: vellum analytics [--format csv|ndjson] [--type T] [--author ID] [--stream S | --prefix P]\n"
                  "                        [--from-time T] [--to-time T] [--time recorded_at|occurred_at] [--out FILE]\n\n"
                  "The log's events as rows (needs an auditor token): seq, stream, revision, event_id, type,\n"
                  "occurred_at, recorded_at, author_id, author_name, author_role, meaning, kid, amends, voids,\n"
                  "reason, data (compact JSON). Streamed; progress on a terminal."))
    return exit_ok;
  std::string query;
  auto param = [&](const char* name, const std::string& value) {
    query += (query.empty() ? "?" : "&") + std::string(name) + "=" + percent_encode(value);
  };
  param("format", format);
  for (auto [name, value] : {std::pair{"type", &type}, std::pair{"author", &author}, std::pair{"stream", &stream},
                             std::pair{"prefix", &prefix}, std::pair{"from_time", &from_time},
                             std::pair{"to_time", &to_time}})
    if (!value->empty()) param(name, *value);
  if (!vm["time"].defaulted()) param("time", time);

  const std::string part = out_file.empty() ? std::string() : out_file + ".part";
  std::ofstream file;
  if (!part.empty()) {
    file.open(part, std::ios::binary | std::ios::trunc);
    if (!file) throw cli_error("cannot write " + part);
  }
  std::ostream& out = part.empty() ? std::cout : file;
  auto client = conn.connect();
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto last = std::chrono::steady_clock::now();
  bool shown = false;
  std::uint64_t bytes = 0, lines = 0;
  std::string error_body;
  auto res = client.download("/v1/analytics" + query, format == "csv" ? "text/csv" : "application/x-ndjson",
                             [&](int status, std::string_view chunk) {
                               if (status != 200) {
                                 if (error_body.size() < (std::size_t{1} << 16)) error_body.append(chunk);
                                 return true;
                               }
                               out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
                               if (!out) return false;
                               bytes += chunk.size();
                               for (char c : chunk) lines += c == '\n';
                               const auto now = std::chrono::steady_clock::now();
                               if (tty && now - last >= std::chrono::milliseconds(200)) {
                                 last = now;
                                 shown = true;
                                 std::fprintf(stderr, "\ranalytics: %llu lines, %.1f MiB",
                                              static_cast<unsigned long long>(lines),
                                              static_cast<double>(bytes) / (1024.0 * 1024.0));
                               }
                               return true;
                             });
  if (shown) std::fprintf(stderr, "\r\033[K");
  out.flush();
  std::error_code ignored;
  auto discard = [&] {
    if (!part.empty()) std::filesystem::remove(part, ignored);
  };
  if (!res) {
    discard();
    throw cli_error("the analytics export did not complete: " + res.error().message(), exit_unavailable);
  }
  if (*res != 200) {
    discard();
    return http_failure("analytics", http_response{*res, error_body, {}, {}});
  }
  if (!out) {
    discard();
    throw cli_error("writing the rows failed (disk full?)");
  }
  if (!part.empty()) {
    file.close();
    std::error_code renamed;
    std::filesystem::rename(part, out_file, renamed);
    if (renamed) throw cli_error("cannot rename " + part + " to " + out_file + ": " + renamed.message());
    std::cerr << "wrote " << out_file << ": " << (format == "csv" && lines ? lines - 1 : lines) << " rows, " << bytes
              << " bytes\n";
  }
  return exit_ok;
}

}  // namespace vellum::cli
