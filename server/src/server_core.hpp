// State shared by the listener and every session of one server: limits, key,
// services, counters, logger, and the bookkeeping that lets shutdown find and
// wait for every session. Private to capchan_server.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/logger.h>

#include "capchan/config/server_config.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/server/metrics.hpp"
#include "service_table.hpp"

namespace capchan::server {

class session;

// Counts live tasks so that shutdown can wait for the last one without
// polling: the count is atomic, the wake-up runs on one strand.
class task_tracker {
 public:
  explicit task_tracker(boost::asio::io_context& ioc) : strand_(boost::asio::make_strand(ioc)), idle_(strand_) {}
  void started() { count_.fetch_add(1); }
  void finished();
  std::int64_t live() const { return count_.load(); }
  // Returns when live() == 0 (runs on the tracker's strand).
  boost::asio::awaitable<void> wait_idle();

 private:
  std::atomic<std::int64_t> count_{0};
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer idle_;
};

class server_core : public std::enable_shared_from_this<server_core> {
 public:
  server_core(boost::asio::io_context& ioc, const config::server_config& config, crypto::noise::keypair key,
              std::shared_ptr<service_table> services, std::shared_ptr<spdlog::logger> logger);

  boost::asio::io_context& ioc;
  const std::string bind;
  const std::uint16_t port;
  const crypto::noise::keypair key;
  const std::shared_ptr<spdlog::logger> log;
  metrics counters;
  task_tracker tasks;  // the accept loop and every session

  // The limits and services in force now; a reload replaces them. Sessions
  // take both once, so a reload applies to new connections.
  std::shared_ptr<const config::limits_config> limits() const;
  std::shared_ptr<service_table> services() const;
  void replace(config::limits_config limits, std::shared_ptr<service_table> services);
  void register_session(std::uint64_t id, const std::shared_ptr<session>& s);
  void unregister_session(std::uint64_t id);
  // Every live session, for shutdown.
  std::vector<std::shared_ptr<session>> live_sessions() const;
  std::uint64_t next_session_id() { return next_id_.fetch_add(1) + 1; }

  std::optional<boost::asio::ip::tcp::acceptor> acceptor;
  std::atomic<bool> stopping{false};

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const config::limits_config> limits_;
  std::shared_ptr<service_table> services_;
  std::map<std::uint64_t, std::weak_ptr<session>> sessions_;
  std::atomic<std::uint64_t> next_id_{0};
};

}  // namespace capchan::server
