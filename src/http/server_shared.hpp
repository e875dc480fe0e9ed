#pragma once
// Private to the HTTP server translation units (listener, session, server):
// the only place besides them that includes Beast/Asio. State every
// connection shares with the server that owns it.

#include <atomic>
#include <condition_variable>
#include <list>
#include <memory>
#include <mutex>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/error.hpp>

#include "catalog/http/server.hpp"

namespace catalog::http {

namespace beast = boost::beast;
namespace net = boost::asio;
using tcp = net::ip::tcp;

class Dispatcher;
class Session;

struct Shared {
  Server::Options options;
  const Dispatcher* dispatcher = nullptr;
  net::thread_pool* workers = nullptr;
  std::atomic<bool> draining{false};
  std::mutex mutex;
  std::condition_variable drained;
  std::list<std::weak_ptr<Session>> sessions;  ///< guarded by mutex
};

/// Peers vanishing and timeouts are normal life for a server: debug only.
void log_io_failure(beast::error_code ec, const char* what);

}  // namespace catalog::http
