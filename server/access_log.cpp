// The server's stderr log (see access_log.hpp).

#include "server/access_log.hpp"

#include "crypto/leaf_entry.hpp"
#include "ledger/ledger.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>

namespace vellum::server {
namespace {

// Appends s as a JSON string literal. Bytes outside printable ASCII are
// written as \u00XX, so the line is valid JSON whatever the client sent.
void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\u00";
      out += hex[u >> 4];
      out += hex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace

void log_line(const boost::json::object& o) {
  auto line = boost::json::serialize(o);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

void log_message(std::string_view level, std::string_view msg) { log_message(level, msg, {}); }

void log_message(std::string_view level, std::string_view msg, const boost::json::object& detail) {
  boost::json::object o{{"time", crypto::format_time_us(ledger::system_clock_us())}, {"level", level}, {"msg", msg}};
  for (const auto& kv : detail) o[kv.key()] = kv.value();
  log_line(o);
}

void log_stream_opened(const access_entry& e) {
  log_line({{"time", crypto::format_time_us(ledger::system_clock_us())}, {"remote", e.remote}, {"method", e.method},
            {"path", e.path}, {"route", e.route}, {"identity", e.identity.empty() ? "-" : e.identity},
            {"status", e.status}});
}

std::string access_line(const access_entry& e) {
  std::string line;
  line.reserve(192 + e.path.size());
  line += "{\"time\":\"";
  line += crypto::format_time_us(ledger::system_clock_us());
  line += "\",\"remote\":";
  append_quoted(line, e.remote);
  line += ",\"method\":";
  append_quoted(line, e.method);
  line += ",\"path\":";
  append_quoted(line, e.path);
  line += ",\"route\":";
  append_quoted(line, e.route);
  line += ",\"identity\":";
  append_quoted(line, e.identity.empty() ? std::string_view("-") : e.identity);
  line += ",\"status\":" + std::to_string(e.status) + ",\"duration_us\":" + std::to_string(e.duration.count()) +
          ",\"bytes\":" + std::to_string(e.bytes) + "}\n";
  return line;
}

void request_log::add(std::string_view line) {
  std::lock_guard lock(mutex_);
  buf_.append(line);
  if (buf_.size() >= 32 * 1024) flush_locked();
}

void request_log::flush() {
  std::lock_guard lock(mutex_);
  flush_locked();
}

void request_log::flush_locked() {
  if (buf_.empty()) return;
  std::fwrite(buf_.data(), 1, buf_.size(), stderr);
  std::fflush(stderr);
  buf_.clear();
}

}  // namespace vellum::server
