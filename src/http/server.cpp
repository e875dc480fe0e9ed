// The Server facade: owns the I/O threads, the worker pool and the Listener;
// drain and stop. Connections are Sessions (session.cpp).
#include "catalog/http/server.hpp"

#include <algorithm>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "http/listener.hpp"
#include "http/session.hpp"

namespace catalog::http {

struct Server::Impl {
  Impl(Options options, const Dispatcher& dispatcher)
      : ioc(options.io_threads), workers(static_cast<std::size_t>(options.worker_threads)), listener(ioc, shared) {
    shared.options = std::move(options);
    shared.dispatcher = &dispatcher;
    shared.workers = &workers;
    const auto& o = shared.options;
    const auto quarter = std::max<std::size_t>(1, static_cast<std::size_t>(o.worker_threads) / 4);
    shared.expensive = std::make_unique<AdmissionGate>(o.expensive_workers ? o.expensive_workers : quarter,
                                                       o.expensive_queue_limit, o.admission_max_wait, o.client_slots);
    shared.uploads = std::make_unique<AdmissionGate>(o.upload_workers ? o.upload_workers : quarter,
                                                     o.expensive_queue_limit, o.admission_max_wait, o.client_slots);
  }

  // Expensive reads waiting past admission_max_wait are answered even when
  // no slot frees up (slots free up only as requests finish).
  void sweep_admission() {
    sweep_timer.expires_after(std::chrono::milliseconds(100));
    sweep_timer.async_wait([this](beast::error_code ec) {
      if (ec) return;
      shared.expensive->expire_stale();
      shared.uploads->expire_stale();
      sweep_admission();
    });
  }

  std::vector<std::shared_ptr<Session>> live_sessions() {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard lock(shared.mutex);
    for (auto& weak : shared.sessions) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
    return live;
  }

  Shared shared;
  net::io_context ioc;
  // Keeps run() going while the acceptor is closed (draining) and the only
  // outstanding work is a handler on the worker pool that will post back.
  net::executor_work_guard<net::io_context::executor_type> keep_running = net::make_work_guard(ioc);
  net::thread_pool workers;
  Listener listener;
  net::steady_timer sweep_timer{ioc};
  std::vector<std::thread> threads;
  bool stopped = false;
};

Server::Server(Options options, const Dispatcher& dispatcher)
    : impl_(std::make_unique<Impl>(std::move(options), dispatcher)) {}

Server::~Server() { stop(); }

std::uint16_t Server::start() {
  const auto port = impl_->listener.listen();
  impl_->listener.start();
  impl_->sweep_admission();
  for (int i = 0; i < impl_->shared.options.io_threads; ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
  return port;
}

void Server::begin_drain() {
  impl_->shared.draining.store(true);
  impl_->listener.close();
  for (auto& s : impl_->live_sessions()) s->on_drain();
}

bool Server::wait_drained(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(impl_->shared.mutex);
  return impl_->shared.drained.wait_until(lock, deadline, [this] { return impl_->shared.sessions.empty(); });
}

void Server::stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  impl_->shared.draining.store(true);
  impl_->ioc.stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  // No I/O thread runs now: handlers still reading a streamed body must
  // not wait for bytes that will never be read.
  for (auto& s : impl_->live_sessions()) s->abort_stream();
  impl_->workers.join();
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(impl_->shared.mutex);
  return impl_->shared.sessions.size();
}

std::size_t Server::queued_requests() const { return impl_->shared.queued_requests.load(); }

std::size_t Server::max_connections() const { return impl_->shared.max_connections; }

}  // namespace catalog::http
