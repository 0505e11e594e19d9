// capchan-server as a library (DESIGN.md §3, §4): listens on one port for
// WebSocket channels at /capchan and plain HTTP GET /healthz and /metrics,
// authenticates each connection for one service, and runs that service's
// handler with a proxy mailbox.
//
//   asio::io_context ioc;
//   auto srv = server::create(ioc, config, key, registry, logger);
//   srv->start();                         // binds; local_endpoint() is real now
//   ... ioc.run() on some threads ...
//   co_await srv->reload(new_config, registry);  // SIGHUP: services and limits, live channels stay
//   co_await srv->shutdown();             // {shutdown, server_stopping}, waits for every task
//
// Thread rules: create/start before running the io_context; shutdown() and
// metrics may be used from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>

#include "capchan/config/server_config.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/server/metrics.hpp"
#include "capchan/server/service_registry.hpp"

namespace spdlog {
class logger;
}

namespace capchan::server {

class server_core;
class blocking_pool;

// What a reload did (DESIGN.md §4). When `errors` is not empty nothing
// changed: the server runs on its previous config.
struct reload_report {
  std::vector<std::string> added;
  std::vector<std::string> removed;            // channels closed with {shutdown, service_removed}
  std::vector<std::string> replaced;           // handler or args changed: {shutdown, service_changed}
  std::vector<std::string> password_changed;   // new logins only; channels stay
  std::vector<std::string> needs_restart;      // keys whose new value waits for a restart
  bool limits_changed = false;                 // apply to new connections
  std::vector<std::string> errors;
};

class server {
 public:
  // Builds every service of the config (plaintext passwords become verifiers
  // here: argon2id once per such service). Errors name the service and why.
  static boost::system::result<std::unique_ptr<server>, std::vector<std::string>> create(
      boost::asio::io_context& ioc, const config::server_config& config, crypto::noise::keypair key,
      const service_registry& registry, std::shared_ptr<spdlog::logger> logger);
  ~server();

  // Binds and starts accepting. Throws boost::system::system_error if the
  // address cannot be bound (the message says which).
  void start();
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::string fingerprint() const;

  // Stops accepting, closes every channel with {shutdown, server_stopping},
  // gives handlers `grace` to finish, then cancels what is left, and returns
  // when no session or handler is alive.
  boost::asio::awaitable<void> shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // Applies `next` without dropping channels: added services appear; removed
  // ones close their channels with {shutdown, service_removed}; a service
  // whose handler or args changed closes its channels with
  // {shutdown, service_changed} and starts again; new verifiers and limits
  // apply to new logins and connections; channels of unchanged services stay
  // open. bind, port, key_file, data_dir and limits.blocking_workers need a
  // restart (listed in the report). Retired channels get `grace` to end
  // before they are cancelled. Reloads must not overlap (run them one after
  // the other, as server/main.cpp does).
  boost::asio::awaitable<reload_report> reload(const config::server_config& next, const service_registry& registry,
                                               std::chrono::milliseconds grace = std::chrono::seconds(5));

  const metrics& counters() const;

 private:
  server(std::shared_ptr<server_core> core, const config::server_config& config,
         std::shared_ptr<blocking_pool> blocking);
  std::shared_ptr<server_core> core_;
  config::server_config running_;  // what a reload compares against
  std::shared_ptr<blocking_pool> blocking_;
};

}  // namespace capchan::server
