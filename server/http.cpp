// vellumd as a whole (see http.hpp): opens the ledger, wires the sequencer,
// the api, the listener and the sessions together, handles signals and the
// graceful stop. The parts live in their own files: listener.cpp (accept
// loop), http_session.cpp (one connection, with SSE and streamed bodies),
// access_log.cpp, tls_context.cpp.

#include "server/http.hpp"

#include "base/file.hpp"
#include "server/http_server_impl.hpp"
#include "server/tls_context.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

namespace vellum::server {

namespace net = boost::asio;

http_server::impl::impl(config c)
    : cfg(std::move(c)), creds(cfg.creds),
      connections(cfg.lim.max_connections, cfg.lim.connections_per_ip()),
      listen(ioc, connections,
             [this](net::ip::tcp::socket socket, std::string remote, connection_counts::slot slot) {
               start_session(std::move(socket), *this, std::move(remote), std::move(slot));
             }) {}

void http_server::impl::flush_log_periodically() {
  log_timer.expires_after(std::chrono::milliseconds(200));
  log_timer.async_wait([this](boost::system::error_code ec) {
    requests_log.flush();
    if (!ec) flush_log_periodically();
  });
}

void http_server::impl::begin_stop() {
  std::lock_guard lock(stop_mutex);
  if (stopping.exchange(true)) return;
  log_message("info", "stopping: no new connections, draining in-flight appends");
  listen.close();
  net::post(ioc, [this] {
    // Idle keep-alive connections and subscriptions close now; connections
    // waiting for an append's answer close right after it is written.
    sessions.for_each([](session_handle& h) { h.stop_now(); });
  });
  handler->set_draining();
  stopper = std::thread([this] {
    seq->stop();  // every queued append is committed and its completion has run
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Export workers see `stopping` and end within one chunk; they must be
    // gone before the ledger is.
    while (streams.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Every connection was told to close (stop_now above, or after its
    // answer); let the I/O threads send those closes before they stop.
    const auto close_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (unclosed.load() > 0 && std::chrono::steady_clock::now() < close_deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    log_message("info", "drained; stopping I/O threads");
    ioc.stop();
  });
}

http_server::http_server(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

http_server::~http_server() {
  if (!impl_) return;
  impl_->begin_stop();
  if (impl_->stopper.joinable()) impl_->stopper.join();
}

std::unique_ptr<http_server> http_server::create(config cfg, bool handle_signals) {
  auto p = std::make_unique<impl>(std::move(cfg));
  auto& c = p->cfg;
  ledger::options opts;
  opts.data_dir = c.data_dir;
  opts.origin = c.origin;
  opts.key_file = c.log_key_file;
  auto led = ledger::ledger::open(opts);
  if (!led) throw config_error("data_dir " + c.data_dir + ": cannot open the ledger: " + led.error().message());
  p->led = std::move(*led);
  p->last_size = p->led->tree_size();
  p->stats.set_tree_size(p->last_size);
  p->seq = std::make_unique<ledger::sequencer>(*p->led, c.lim.max_queue, c.lim.max_batch_events);
  auto* raw = p.get();
  p->seq->on_commit([raw](std::uint64_t size) {
    auto before = raw->last_size.exchange(size);
    if (size > before) raw->stats.observe_batch(size - before);
    raw->stats.set_tree_size(size);
    raw->subscribers.for_each([](session_handle& h) { h.wake(); });
  });
  p->handler = std::make_unique<api>(*p->led, *p->seq, p->creds, p->stats, c.lim);
  if (c.tls.enabled()) p->tls_ctx.emplace(make_tls_context(c.tls));

  p->listen.listen(c.listen_host, c.listen_port);
  auto* inner = p.get();
  auto srv = std::unique_ptr<http_server>(new http_server(std::move(p)));
  if (handle_signals) {
    // Installed now (not in run()) so a signal that arrives before run() is
    // queued instead of killing the process.
    inner->signals.emplace(inner->ioc, SIGTERM, SIGINT, SIGHUP);
    inner->reload = [s = srv.get()] {
      auto problem = s->reload_credentials();
      log_message(problem.empty() ? "info" : "error",
                  problem.empty() ? "reloaded submitters and tokens" : "reload failed: " + problem);
    };
    inner->wait_signal();
  }
  return srv;
}

std::uint16_t http_server::port() const { return impl_->listen.port(); }
std::string http_server::verifier_key() const { return impl_->led->verifier_key(); }
const std::string& http_server::origin() const { return impl_->led->origin(); }
bool http_server::tls() const { return impl_->tls_ctx.has_value(); }

std::string http_server::reload_credentials() {
  auto& c = impl_->cfg;
  if (c.config_file.empty()) return "no configuration file to reload";
  auto loaded = guarded_reload([&] {
    auto text = vellum::read_file(c.config_file);
    if (!text) throw config_error(c.config_file + ": cannot be read");
    return credentials_from_json(*text);
  });
  if (!loaded.problem.empty()) return loaded.problem;
  impl_->creds.set(std::move(loaded.creds));
  // Revocation bites at once: open subscriptions and exports whose token
  // lost its role end now, not when they would have finished.
  impl_->sessions.for_each([](session_handle& h) { h.credentials_changed(); });
  return {};
}

void http_server::stop() { impl_->begin_stop(); }

void http_server::impl::wait_signal() {
  signals->async_wait([this](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      reload();
    } else {
      log_message("info", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      begin_stop();
    }
    wait_signal();  // keep listening so a second signal does not kill us while draining
  });
}

void http_server::run() {
  auto& p = *impl_;
  p.listen.start();
  p.flush_log_periodically();
  std::vector<std::thread> threads;
  const unsigned n = std::max(1u, p.cfg.threads);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([&p] { p.ioc.run(); });
  p.ioc.run();
  for (auto& t : threads) t.join();
  {
    std::lock_guard lock(p.stop_mutex);
    if (!p.stopping.load()) p.stopping = true;
  }
  if (p.stopper.joinable()) p.stopper.join();
  p.seq->stop();
  p.requests_log.flush();
}

}  // namespace vellum::server
