// An in-process capchan server on 127.0.0.1:0 for integration tests: the real
// server library and services, plus test services that report what their
// handlers saw, on an io_context of two threads. Clients connect with the real
// client library.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "capchan/client/sync.hpp"
#include "capchan/server/server.hpp"

namespace spdlog::sinks {
class sink;
}

namespace capchan::test {

// What handlers of the "probe" service saw: the reason of every chan_closed.
class probe_log {
 public:
  void closed(term reason);
  // Waits (without sleeping) until `n` channels have closed; their reasons.
  std::vector<term> wait_closed(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10));

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<term> reasons_;
};

// The reason of the chan_closed that ends what `ch` receives (pushes before
// it are skipped); throws if none comes within `limit`.
term closed_reason(client::sync::channel& ch, std::chrono::milliseconds limit = std::chrono::seconds(10));

// What a test may change about the fixture's server.
struct fixture_options {
  fixture_options() = default;
  config::limits_config limits;
  std::string password = "secret";  // of every service
  // Where the server logs, at `log_level` (spdlog's level names); null: to
  // stderr if CAPCHAN_TEST_LOG is set, else nowhere.
  std::shared_ptr<spdlog::sinks::sink> log_sink;
  std::string log_level = "info";
};

struct server_fixture {
  // Services: "nameServer" (kvs), "echo", "probe" (records its close reason;
  // {throw, Text} throws; {sleep, Ms, X} replies X after Ms; {push, N, T},
  // as a call or a cast, pushes N copies of T then replies {ok, N}),
  // "blocking" (a blocking handler: echoes calls and casts, {sleep, Ms, X}
  // blocks its worker, {throw, Text} throws), all with the password "secret"
  // and the cheapest argon2id so tests stay fast.
  explicit server_fixture(config::limits_config limits = {});
  explicit server_fixture(const fixture_options& options);
  ~server_fixture();

  // Stops the server as SIGTERM would; returns when it is done.
  void shutdown(std::chrono::milliseconds grace = std::chrono::seconds(5));

  client::connect_options options() const;
  client::result<client::sync::channel> connect(const std::string& service, const std::string& password = "secret",
                                                term args_c = term()) const;

  std::uint16_t port = 0;
  std::string fingerprint;
  std::shared_ptr<probe_log> probes = std::make_shared<probe_log>();
  boost::asio::io_context ioc;
  std::unique_ptr<server::server> srv;
  std::shared_ptr<client::password_cache> passwords;

 private:
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

}  // namespace capchan::test
