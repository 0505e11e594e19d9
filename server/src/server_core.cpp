// The server's shared state and the task tracker that lets shutdown wait for
// every session without polling.
#include "server_core.hpp"

#include <boost/asio/post.hpp>

#include "websocket_connection.hpp"

namespace capchan::server {

using asio::awaitable;
using asio::use_awaitable;


void task_tracker::finished() {
  if (count_.fetch_sub(1) == 1) asio::post(strand_, [this] { idle_.cancel(); });
}

awaitable<void> task_tracker::wait_idle() {
  co_await asio::post(strand_, use_awaitable);
  while (count_.load() > 0) {
    idle_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await idle_.async_wait(as_tuple_awaitable);
  }
}

server_core::server_core(asio::io_context& ioc_, const config::server_config& config, crypto::noise::keypair key_,
                         std::shared_ptr<service_table> services, std::shared_ptr<spdlog::logger> logger)
    : ioc(ioc_),
      bind(config.bind),
      port(config.port),
      key(std::move(key_)),
      log(std::move(logger)),
      tasks(ioc_),
      limits_(std::make_shared<const config::limits_config>(config.limits)),
      services_(std::move(services)) {}

std::shared_ptr<const config::limits_config> server_core::limits() const {
  std::lock_guard lock(mutex_);
  return limits_;
}

void server_core::replace(config::limits_config limits, std::shared_ptr<service_table> services) {
  auto fresh = std::make_shared<const config::limits_config>(std::move(limits));
  std::lock_guard lock(mutex_);
  limits_ = std::move(fresh);
  services_ = std::move(services);
}

std::shared_ptr<service_table> server_core::services() const {
  std::lock_guard lock(mutex_);
  return services_;
}

void server_core::register_session(std::uint64_t id, const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex_);
  sessions_[id] = s;
}

void server_core::unregister_session(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
}

std::vector<std::shared_ptr<session>> server_core::live_sessions() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<session>> out;
  for (const auto& [id, weak] : sessions_) {
    if (auto s = weak.lock()) out.push_back(std::move(s));
  }
  return out;
}


}  // namespace capchan::server
