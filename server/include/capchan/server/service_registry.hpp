// Named handler implementations that `handler = "..."` in the config refers
// to (DESIGN.md §4). server/ never names a service: the apps register them.
//
// A service is created once per [[service]] entry, when the config is loaded
// (so kvs keeps one store per entry, shared by all its channels), and runs
// one handler per authenticated connection.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "capchan/core/term.hpp"
#include "capchan/server/channel.hpp"
#include "capchan/server/metrics.hpp"

namespace capchan::server {

class blocking_pool;  // the server's worker threads for blocking handlers

// What a service gets to set itself up.
struct service_context {
  std::string name;                 // the [[service]] name
  term args;                        // ArgsS from the config
  std::filesystem::path data_dir;   // where durable services keep files
  boost::asio::any_io_executor executor;
  std::shared_ptr<blocking_pool> blocking;  // for add_blocking's handlers
};

class service {
 public:
  virtual ~service() = default;
  // One connection's handler: lib_chan's Mod:Func(MM, ArgsC, ArgsS). It runs
  // on the connection's strand until it returns; returning ends the channel
  // with `normal`, throwing ends it with `{handler_error, what()}`. args_c
  // lives as long as the channel. (Coroutines here take no class-type
  // parameter by value: GCC 12 destroys those wrongly.)
  virtual boost::asio::awaitable<void> run(channel& mm, const term& args_c) = 0;
  // The service's entry is going away (reload or shutdown) after its channels.
  virtual void stop() {}
  // What the service reports at /metrics, labelled with its entry's name.
  // Called from any I/O thread while channels run: it must be cheap and
  // thread-safe.
  virtual std::vector<service_metric> service_metrics() const { return {}; }
};

// A factory may throw std::exception to refuse its args; the message becomes
// a config error.
using service_factory = std::function<std::unique_ptr<service>(const service_context&)>;
// lib_chan's shape: a function of (MM, ArgsC, ArgsS) with no shared state.
using handler_function =
    std::function<boost::asio::awaitable<void>(channel&, const term& args_c, const term& args_s)>;
// The same shape for code that blocks: it runs on a worker thread of a pool
// of limits.blocking_workers threads shared by all services. While every
// worker is busy, new channels of blocking services wait for one (their
// mailboxes fill, then their sockets stop being read); coroutine services
// are not affected. Returning ends the channel with `normal`, throwing with
// `{handler_error, what()}`. Shutdown waits for the handler to return, so a
// handler should return when receive() yields chan_closed.
using blocking_function = std::function<void(blocking_channel&, const term& args_c, const term& args_s)>;

class service_registry {
 public:
  void add(std::string handler_name, service_factory factory);
  void add_function(std::string handler_name, handler_function fn);
  void add_blocking(std::string handler_name, blocking_function fn);
  const service_factory* find(const std::string& handler_name) const;
  std::vector<std::string> names() const;

 private:
  std::map<std::string, service_factory> factories_;
};

}  // namespace capchan::server
