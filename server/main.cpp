// capchan-server: reads the TOML config (DESIGN.md §4), creates the server
// key on first start, serves until SIGINT/SIGTERM, then shuts down gracefully
// and exits 0. This is one of the two places that wire libraries together.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "capchan/config/server_config.hpp"
#include "capchan/config/units.hpp"
#include "capchan/core/crypto/key_file.hpp"
#include "capchan/server/server.hpp"
#include "capchan/services/services.hpp"

namespace asio = boost::asio;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_config = 2;
constexpr int exit_bind = 4;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"capchan-server: password-protected message channels over WebSocket"};
  std::string config_path = capchan::config::default_config_path().string();
  std::string log_level = "info";
  std::string grace_text = "5s";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  app.add_option("-c,--config", config_path, "Server config (TOML)")->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  app.add_option("--threads", threads, "I/O threads")->capture_default_str()->check(CLI::Range(1u, 256u));
  app.add_option("--grace", grace_text, "How long handlers get to finish at shutdown")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return exit_config;
  }
  const auto grace = capchan::config::parse_duration(grace_text);
  if (!grace) {
    std::cerr << "capchan-server: --grace: expected a duration such as \"5s\"\n";
    return exit_config;
  }

  auto logger = std::make_shared<spdlog::logger>("capchan", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  logger->set_level(spdlog::level::from_str(log_level));
  logger->flush_on(spdlog::level::info);

  auto config = capchan::config::load_config(config_path);
  if (!config) {
    for (const auto& p : config.error()) std::cerr << p.to_string() << "\n";
    std::cerr << "capchan-server: the config has errors; nothing was started\n";
    return exit_config;
  }
  for (const auto& w : config->warnings) logger->warn("{}", w.to_string());

  bool created = false;
  auto key = capchan::crypto::load_or_create_key_file(config->key_file, created);
  if (!key) {
    std::cerr << "capchan-server: " << key.error() << "\n";
    return exit_config;
  }
  if (created) logger->info("created server key {} (mode 0600): back it up with the config", config->key_file.string());

  capchan::server::service_registry registry;
  capchan::services::register_builtin(registry);

  asio::io_context ioc(static_cast<int>(threads));
  auto server = capchan::server::server::create(ioc, *config, std::move(*key), registry, logger);
  if (!server) {
    for (const auto& e : server.error()) std::cerr << e << "\n";
    return exit_config;
  }
  auto& srv = **server;
  try {
    srv.start();
  } catch (const boost::system::system_error& e) {
    std::cerr << "capchan-server: cannot listen on " << config->bind << ":" << config->port << ": "
              << e.code().message() << "\n";
    return exit_bind;
  }
  const auto ep = srv.local_endpoint();
  std::cout << "capchan-server listening on " << ep.address().to_string() << ":" << ep.port() << " key "
            << srv.fingerprint() << std::endl;

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    logger->info("signal {}: shutting down", signo);
    asio::co_spawn(ioc, srv.shutdown(*grace), [&](std::exception_ptr) { logger->flush(); });
  });

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  return exit_ok;
}
