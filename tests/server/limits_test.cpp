// Resource limits: slow SSE consumers, connection cap, read timeouts.

#include "ledger/ledger.hpp"
#include "server/api.hpp"
#include "server/fixture.hpp"
#include "server/metrics.hpp"
#include "server/per_client.hpp"

#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <thread>

using namespace vellum;
using namespace vellum::test;

BOOST_AUTO_TEST_SUITE(limits)

BOOST_AUTO_TEST_CASE(cuts_off_a_subscriber_that_falls_too_far_behind_with_an_overflow_event) {
  identities ids;
  running_server srv(ids, [](server::config& c) { c.lim.sse_max_buffered_events = 5; });
  http_client sub(srv.port());
  auto head = sub.stream_until("/v1/subscribe?from=0", bearer(ids.reader_token), "subscription from seq 0", 1,
                               std::chrono::seconds(5));
  BOOST_REQUIRE(head.find("200") != std::string::npos);
  // Give the subscription a moment to register as live, then commit far more
  // than it may lag behind.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string batch;
  for (int i = 0; i < 200; ++i) batch += sign(payload("patient-sse"), ids.writer, "writer") + "\n";
  auto r = http_request(srv.port(), "POST", "/v1/events", batch, "application/x-ndjson");
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  auto rest = sub.continue_until("event: overflow", 1, std::chrono::seconds(5));
  BOOST_TEST(rest.find("event: overflow") != std::string::npos);
  BOOST_TEST(rest.find("resume_from") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(closes_connections_beyond_max_connections) {
  identities ids;
  running_server srv(ids, [](server::config& c) {
    c.lim.max_connections = 2;
    c.lim.max_connections_per_ip = 2;
  });
  http_client a(srv.port()), b(srv.port());
  BOOST_TEST(a.get("/healthz").status == 200u);
  BOOST_TEST(b.get("/healthz").status == 200u);
  bool refused = false;
  try {
    http_client c(srv.port(), std::nullopt, std::chrono::seconds(3));
    c.get("/healthz");
  } catch (const std::exception&) {
    refused = true;
  }
  BOOST_TEST(refused);
  // The kept connections still work.
  BOOST_TEST(a.get("/healthz").status == 200u);
}

// One address cannot take every slot: past max_connections_per_ip its next
// connection is closed at once while the server keeps room for others.
BOOST_AUTO_TEST_CASE(one_address_cannot_take_every_connection) {
  identities ids;
  running_server srv(ids, [](server::config& c) {
    c.lim.max_connections = 8;
    c.lim.max_connections_per_ip = 2;
  });
  http_client a(srv.port());
  auto b = std::make_unique<http_client>(srv.port());
  BOOST_TEST(a.get("/healthz").status == 200u);
  BOOST_TEST(b->get("/healthz").status == 200u);
  auto third_refused = [&] {
    try {
      http_client c(srv.port(), std::nullopt, std::chrono::seconds(3));
      c.get("/healthz");
    } catch (const std::exception&) {
      return true;
    }
    return false;
  };
  BOOST_TEST(third_refused());
  BOOST_TEST(a.get("/healthz").status == 200u);
  // A slot given back is free again.
  b.reset();
  bool reopened = false;
  for (int i = 0; i < 50 && !reopened; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    reopened = !third_refused();
  }
  BOOST_TEST(reopened);
  // The default is a quarter of max_connections, at least one.
  server::limits l;
  BOOST_TEST(l.connections_per_ip() == 256u);
  l.max_connections = 2;
  BOOST_TEST(l.connections_per_ip() == 1u);
  l.max_connections_per_ip = 5;
  BOOST_TEST(l.connections_per_ip() == 5u);
}

// Expensive requests (exports, analytics exports) are capped per client address: one that has max_expensive_per_ip running gets 429.
BOOST_AUTO_TEST_CASE(one_address_cannot_run_every_export_at_once) {
  identities ids;
  running_server srv(ids, [](server::config& c) { c.lim.max_expensive_per_ip = 1; });
  // Enough data that an export outgrows the socket buffers while nobody reads it.
  for (int batch = 0; batch < 16; ++batch) {
    std::string lines;
    for (int i = 0; i < 20; ++i) {
      auto p = payload("patient-x", "any");
      p["data"] = {{"note", std::string(20000, 'n')}};
      lines += sign(p, ids.writer, "writer") + "\n";
    }
    auto r = http_request(srv.port(), "POST", "/v1/events", lines, "application/x-ndjson");
    BOOST_REQUIRE_MESSAGE(r.status == 200u || r.status == 201u, r.body);
  }
  // A client that asks for an export and reads only its first bytes.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(srv.port());
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE_EQUAL(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  const std::string get = "GET /v1/export?stream=patient-x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + ids.auditor_token +
                          "\r\n\r\n";
  BOOST_REQUIRE_EQUAL(::write(fd, get.data(), get.size()), static_cast<ssize_t>(get.size()));
  char head[64];
  BOOST_REQUIRE(::read(fd, head, sizeof head) > 0);
  BOOST_TEST(std::string_view(head, 12) == "HTTP/1.1 200");
  auto second = http_request(srv.port(), "GET", "/v1/export?stream=patient-x", {}, {}, bearer(ids.auditor_token));
  BOOST_TEST(second.status == 429u, second.body);
  BOOST_TEST(error_code_of(second) == "too_many_requests");
  BOOST_TEST(second.header("retry-after") == "1");
  auto analytics = http_request(srv.port(), "GET", "/v1/analytics", {}, {}, bearer(ids.auditor_token));
  BOOST_TEST(analytics.status == 429u, analytics.body);
  // Cheap reads are not limited.
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log/events?limit=1", {}, {}, bearer(ids.reader_token)).status == 200u);
  ::close(fd);  // the first export ends (its client went away) and gives its place back
  bool again = false;
  for (int i = 0; i < 100 && !again; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    again = http_request(srv.port(), "GET", "/v1/analytics?type=none", {}, {}, bearer(ids.auditor_token)).status == 200u;
  }
  BOOST_TEST(again);

  server::per_client_limit lim(2);
  auto t1 = lim.enter("10.0.0.1"), t2 = lim.enter("10.0.0.1");
  BOOST_TEST((t1 && t2));
  BOOST_TEST(!lim.enter("10.0.0.1"));
  BOOST_TEST(bool(lim.enter("10.0.0.2")));
  t1.reset();
  BOOST_TEST(bool(lim.enter("10.0.0.1")));
}

BOOST_AUTO_TEST_CASE(drops_a_client_that_sends_its_request_too_slowly) {
  identities ids;
  running_server srv(ids, [](server::config& c) { c.lim.read_timeout_ms = 200; });
  http_client slow(srv.port(), std::nullopt, std::chrono::seconds(5));
  auto start = std::chrono::steady_clock::now();
  bool dropped = false;
  try {
    slow.raw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // never finishes its head
  } catch (const std::exception&) {
    dropped = true;
  }
  BOOST_TEST(dropped);
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(3)));
}

// Many idle connections, so that closing them takes the I/O threads longer
// than draining an empty sequencer: the threads must not stop before every
// client has been told (an open socket nobody reads would leave it waiting).
BOOST_AUTO_TEST_CASE(closes_kept_alive_connections_when_stopped) {
  identities ids;
  running_server srv(ids);
  std::vector<std::unique_ptr<http_client>> clients;
  for (int i = 0; i < 48; ++i) {
    clients.push_back(std::make_unique<http_client>(srv.port(), std::nullopt, std::chrono::seconds(2)));
    BOOST_TEST_REQUIRE(clients.back()->get("/readyz").status == 200u);
  }
  auto start = std::chrono::steady_clock::now();
  srv.stop();
  int closed = 0;
  for (auto& c : clients) {
    const auto asked = std::chrono::steady_clock::now();
    try {
      closed += c->get("/readyz").status != 200u ? 1 : 0;
    } catch (const std::exception&) {
      // Closed by the server (fails at once), not the client's own timeout.
      closed += std::chrono::steady_clock::now() - asked < std::chrono::seconds(1) ? 1 : 0;
    }
  }
  BOOST_TEST(closed == 48);
  BOOST_TEST((std::chrono::steady_clock::now() - start < std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(answers_503_overloaded_with_retry_after_when_the_sequencer_queue_is_full) {
  identities ids;
  running_server srv(ids, [](server::config& c) { c.lim.max_queue = 1; });
  // 1000 statements submitted back to back into a queue of one: most find it full.
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += sign(payload("patient-q"), ids.writer, "writer") + "\n";
  auto r = http_request(srv.port(), "POST", "/v1/events", batch, "application/x-ndjson");
  BOOST_REQUIRE_EQUAL(r.status, 200u);
  std::size_t ok = 0, overloaded = 0;
  const auto doc = r.json();
  for (const auto& x : doc.at("results").as_array()) {
    auto status = x.at("status").to_number<int>();
    if (status == 201) {
      ++ok;
    } else {
      BOOST_TEST(status == 503);
      BOOST_TEST(x.at("error").at("code").as_string() == "overloaded");
      ++overloaded;
    }
  }
  BOOST_TEST(ok >= 1u);
  BOOST_TEST(overloaded >= 1u);
  // Nothing refused was stored.
  auto log = http_request(srv.port(), "GET", "/v1/log").json();
  BOOST_TEST(log.at("tree_size").to_number<std::size_t>() == ok);
}

// Pages stop at limits.max_page_bytes with a `next`, whatever their
// `limit`, and following `next` still reaches every event.
BOOST_AUTO_TEST_CASE(pages_are_bounded_by_bytes_and_next_reaches_every_event) {
  identities ids;
  constexpr std::size_t max_bytes = 12000;
  running_server srv(ids, [](server::config& c) { c.lim.max_page_bytes = max_bytes; });
  for (int i = 0; i < 9; ++i) {
    auto p = payload("patient-big", "any");
    p["data"] = {{"note", std::string(1500, static_cast<char>('a' + i))}};
    auto r = http_request(srv.port(), "POST", "/v1/events", sign(p, ids.writer, "writer"), "application/jose");
    BOOST_REQUIRE_MESSAGE(r.status == 201u, r.body);
  }
  struct walk {
    const char* first;
    const char* cursor;  // the parameter `next` goes back in
    bool string_cursor;
  };
  for (const walk& w : {walk{"/v1/log/events?limit=100", "from", false},
                        walk{"/v1/streams/patient-big?limit=100", "from", false},
                        walk{"/v1/query?stream=patient-big&limit=100", "cursor", true}}) {
    std::size_t seen = 0, pages = 0;
    std::string target = w.first;
    for (; pages < 20; ++pages) {
      auto r = http_request(srv.port(), "GET", target, {}, {}, bearer(ids.reader_token));
      BOOST_REQUIRE_MESSAGE(r.status == 200u, target << ": " << r.body);
      const auto o = r.json().as_object();
      const auto& events = o.at("events").as_array();
      BOOST_TEST(!events.empty(), target);
      if (events.size() > 1) BOOST_TEST(boost::json::serialize(events).size() <= max_bytes, target);
      BOOST_TEST(events.size() < 9u, target);  // never all nine: they do not fit
      seen += events.size();
      if (o.at("next").is_null()) break;
      const std::string next = w.string_cursor ? std::string(o.at("next").as_string())
                                               : std::to_string(o.at("next").to_number<std::uint64_t>());
      target = std::string(w.first) + "&" + w.cursor + "=" + next;
    }
    BOOST_TEST(seen == 9u, w.first);
    BOOST_TEST(pages >= 2u, w.first);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(readiness)

// /readyz says "not ready" while the data directory's disk is nearly full,
// so a load balancer sends appends elsewhere instead of into 503s. A real
// small disk: a 40 MiB tmpfs (needs root and mount(2); skipped otherwise).
BOOST_AUTO_TEST_CASE(is_not_ready_while_the_disk_is_nearly_full) {
  temp_dir mount_point;
  if (::geteuid() != 0 || ::mount("tmpfs", mount_point.str().c_str(), "tmpfs", 0, "size=40m") != 0) {
    BOOST_TEST_MESSAGE("skipped: needs root to mount a small tmpfs");
    return;
  }
  struct unmount {
    std::string dir;
    ~unmount() { ::umount2(dir.c_str(), MNT_DETACH); }
  } unmounted{mount_point.str()};
  identities ids;
  {
    running_server srv(ids, [&](server::config& c) { c.data_dir = mount_point.str() + "/data"; });
    auto ready = http_request(srv.port(), "GET", "/readyz");
    BOOST_TEST(ready.status == 200u, ready.body);
    {
      std::ofstream filler(mount_point.path() / "filler", std::ios::binary);
      const std::string mib(1 << 20, 'f');
      for (int i = 0; i < 30; ++i) filler << mib;
    }
    auto full = http_request(srv.port(), "GET", "/readyz");
    BOOST_TEST(full.status == 503u);
    BOOST_TEST(full.body.find("the ledger cannot write") != std::string::npos, full.body);
    BOOST_TEST(full.body.find("KiB free") != std::string::npos, full.body);
    std::filesystem::remove(mount_point.path() / "filler");
    BOOST_TEST(http_request(srv.port(), "GET", "/readyz").status == 200u);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(demo_mode_hosts)

// In demo mode reads are open; a web page that rebinds its own DNS name to
// 127.0.0.1 would read (and, with the demo key on disk, nothing else) the log
// through the victim's browser. Only loopback names are answered.
BOOST_AUTO_TEST_CASE(answers_only_loopback_host_names) {
  identities ids;
  running_server srv(ids, [](server::config& c) {
    auto open = std::make_shared<server::credentials>(*c.creds);
    open->open_reads = true;
    c.creds = std::move(open);
  });
  const auto port = std::to_string(srv.port());
  for (const std::string& host : std::vector<std::string>{"127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "[::1]:" + port})
    BOOST_TEST(http_request(srv.port(), "GET", "/v1/log/events", {}, {}, {{"Host", host}}).status == 200u, host);
  for (const std::string& host : std::vector<std::string>{"evil.example", "evil.example:" + port, "127.0.0.1.evil.example", ""}) {
    auto r = http_request(srv.port(), "GET", "/v1/log/events", {}, {}, {{"Host", host}});
    BOOST_TEST(r.status == 403u, host);
    BOOST_TEST(r.body.find("DNS rebinding") != std::string::npos, host);
  }
  auto sse = http_request(srv.port(), "GET", "/v1/subscribe", {}, {}, {{"Host", "evil.example"}});
  BOOST_TEST(sse.status == 403u);
}

// A configured server names itself as it likes (it has tokens, not open reads).
BOOST_AUTO_TEST_CASE(does_not_restrict_a_configured_server) {
  identities ids;
  running_server srv(ids);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log/events", {}, {},
                          {{"Host", "ledger.hospital.example"}, {"Authorization", "Bearer " + ids.reader_token}})
                 .status == 200u);
}

BOOST_AUTO_TEST_SUITE_END()

// Issue 18, item 1: revoking a token (configuration change + reload) ends
// its open subscriptions and exports at once, not when they would have
// finished; other clients' streams go on; a reload that fails for any reason
// keeps the old credentials.
BOOST_AUTO_TEST_SUITE(revocation)

BOOST_AUTO_TEST_CASE(revoking_a_token_closes_its_subscription_and_export_within_a_second) {
  identities ids;
  running_server srv(ids);
  // About 15 MB of export: more than the loopback socket buffers hold, so the
  // export is still being produced while its token is revoked.
  const std::string filler(4000, 'x');
  for (int b = 0; b < 20; ++b) {
    std::string batch;
    for (int i = 0; i < 150; ++i) {
      auto p = payload("patient-rev");
      p["data"] = {{"note", filler}};
      batch += sign(p, ids.writer, "writer") + "\n";
    }
    BOOST_REQUIRE_EQUAL(http_request(srv.port(), "POST", "/v1/events", batch, "application/x-ndjson").status, 200u);
  }
  const std::string sse_token = "sse-token-0123456789-0123456789-0123";
  const std::string export_token = "export-token-0123456789-0123456789-01";
  auto with_tokens = [&](bool extra) {
    auto o = boost::json::parse(ids.config_json()).as_object();
    if (extra) {
      o["tokens"].as_array().push_back({{"token", sse_token}, {"role", "reader"}, {"name", "sse-consumer"}});
      o["tokens"].as_array().push_back({{"token", export_token}, {"role", "auditor"}, {"name", "exporter"}});
    }
    std::ofstream(srv.config_path()) << boost::json::serialize(o);
  };
  with_tokens(true);
  BOOST_REQUIRE_EQUAL(srv.server().reload_credentials(), "");

  http_client sub(srv.port()), other(srv.port()), exp(srv.port());
  const std::string live = "/v1/subscribe?from=3000";
  BOOST_REQUIRE(sub.stream_until(live, bearer(sse_token), "subscription from seq", 1, std::chrono::seconds(5))
                    .find("200") != std::string::npos);
  BOOST_REQUIRE(other.stream_until(live, bearer(ids.reader_token), "subscription from seq", 1, std::chrono::seconds(5))
                    .find("200") != std::string::npos);
  const auto start = exp.stream_until("/v1/export?prefix=patient-", bearer(export_token), "\"type\":\"header\"", 1,
                                      std::chrono::seconds(5));
  BOOST_REQUIRE(start.find("200") != std::string::npos);

  with_tokens(false);
  BOOST_REQUIRE_EQUAL(srv.server().reload_credentials(), "");
  const auto revoked = std::chrono::steady_clock::now();
  const auto sub_rest = sub.continue_until("credentials revoked", 1, std::chrono::seconds(1));
  BOOST_TEST(sub_rest.find("event: error") != std::string::npos);
  BOOST_TEST(sub_rest.find("credentials revoked") != std::string::npos);
  // The export ends early: what was already in the socket buffers arrives,
  // then the connection closes without the bundle's end line.
  const auto exp_rest = exp.continue_until("\"type\":\"end\"", 1, std::chrono::seconds(20));
  BOOST_TEST(exp_rest.find("\"type\":\"end\"") == std::string::npos);
  BOOST_TEST((std::chrono::steady_clock::now() - revoked < std::chrono::seconds(10)));
  // Requests with the revoked token are refused; the other subscription lives on.
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log/events?from=0&limit=1", {}, {}, bearer(sse_token)).status == 401u);
  BOOST_REQUIRE_EQUAL(http_request(srv.port(), "POST", "/v1/events", sign(payload("patient-rev"), ids.writer, "writer"),
                                   "application/jose")
                          .status,
                      201u);
  BOOST_TEST(other.continue_until("id: 3000\n", 1, std::chrono::seconds(5)).find("id: 3000\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_reload_that_fails_for_any_reason_keeps_the_old_credentials_and_says_why) {
  auto good = std::make_shared<server::credentials>();
  auto ok = server::guarded_reload([&] { return good; });
  BOOST_TEST(ok.problem.empty());
  BOOST_TEST(ok.creds == good);
  auto oom = server::guarded_reload([]() -> std::shared_ptr<const server::credentials> { throw std::bad_alloc(); });
  BOOST_TEST(!oom.creds);
  BOOST_TEST(oom.problem == "out of memory while reading the configuration");
  auto bad = server::guarded_reload(
      []() -> std::shared_ptr<const server::credentials> { throw server::config_error("tokens[0].role: missing"); });
  BOOST_TEST(!bad.creds);
  BOOST_TEST(bad.problem == "tokens[0].role: missing");
  auto odd = server::guarded_reload([]() -> std::shared_ptr<const server::credentials> { throw 42; });
  BOOST_TEST(!odd.creds);
  BOOST_TEST(!odd.problem.empty());

  // Through the server: an unreadable file keeps the old tokens.
  identities ids;
  running_server srv(ids);
  std::filesystem::remove(srv.config_path());
  std::filesystem::create_directory(srv.config_path());
  BOOST_TEST(srv.server().reload_credentials().find("cannot be read") != std::string::npos);
  BOOST_TEST(http_request(srv.port(), "GET", "/v1/log/events?from=0", {}, {}, bearer(ids.reader_token)).status == 200u);
  std::filesystem::remove(srv.config_path());
}

BOOST_AUTO_TEST_SUITE_END()

// Issue 18, item 4: a subscriber catching up holds at most
// limits.max_page_bytes of SSE messages at a time (before: a page of 256
// events, whatever their size), and still receives every event, in order.
BOOST_AUTO_TEST_SUITE(sse_memory)

BOOST_AUTO_TEST_CASE(a_catching_up_subscriber_gets_steps_bounded_by_bytes) {
  temp_dir dir;
  ledger::options opts;
  opts.data_dir = dir.str();
  opts.sync = false;
  auto led = ledger::ledger::open(opts);
  BOOST_REQUIRE(led.has_value());
  ledger::sequencer seq(**led);
  auto key = new_key();
  auto c = std::make_shared<server::credentials>();
  c->submitters.emplace_back("writer", key.public_key(), std::vector<std::string>{"patient-"});
  server::credentials_store creds(c);
  server::metrics stats;
  server::limits lim;
  lim.max_page_bytes = 32 * 1024;
  server::api handler(**led, seq, creds, stats, lim);

  const std::string filler(6000, 'y');
  std::string batch;
  for (int i = 0; i < 40; ++i) {
    auto p = payload("patient-sse-bytes");
    p["data"] = {{"note", filler}};
    batch += sign(p, key, "writer") + "\n";
  }
  server::request req;
  req.method = "POST";
  req.target = "/v1/events";
  req.content_type = "application/x-ndjson";
  req.host = "127.0.0.1";
  req.body = batch;
  std::promise<unsigned> answered;
  handler.handle(std::move(req), [&](server::response r) { answered.set_value(r.status); });
  BOOST_REQUIRE_EQUAL(answered.get_future().get(), 200u);
  BOOST_REQUIRE_EQUAL((*led)->tree_size(), 40u);

  server::subscription sub;
  std::size_t events = 0, steps = 0;
  std::uint64_t next_id = 0;
  while (events < 40 && steps < 100) {
    auto step = handler.sse_next(sub);
    ++steps;
    if (step.text.empty()) continue;
    BOOST_TEST(step.text.size() <= lim.max_page_bytes);
    for (std::size_t at = step.text.find("id: "); at != std::string::npos; at = step.text.find("id: ", at + 1)) {
      BOOST_TEST(step.text.compare(at, 4 + std::to_string(next_id).size() + 1, "id: " + std::to_string(next_id) + "\n") == 0);
      ++next_id;
      ++events;
    }
  }
  BOOST_TEST(events == 40u);
  BOOST_TEST(steps >= 8u);  // 40 events of ~8 KiB each: several steps of at most 32 KiB
  seq.stop();
}

BOOST_AUTO_TEST_SUITE_END()
