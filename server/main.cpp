// capchan-server: reads the TOML config (DESIGN.md §4), creates the server
// key on first start, reloads the config on SIGHUP (keeping a pid file and a
// reload status in data_dir for `capchan config reload`, docs/config.md),
// serves until SIGINT/SIGTERM, then shuts down gracefully and exits 0. This
// is one of the two places that wire libraries together.
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "capchan/config/config_file.hpp"
#include "capchan/config/server_config.hpp"
#include "capchan/config/server_state.hpp"
#include "capchan/config/units.hpp"
#include "capchan/core/crypto/key_file.hpp"
#include "capchan/server/server.hpp"
#include "capchan/services/services.hpp"

namespace asio = boost::asio;

namespace {

constexpr int exit_ok = 0;
constexpr int exit_config = 2;
constexpr int exit_bind = 4;

using capchan::config::reload_status;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

void write_status(const capchan::config::server_config& config, const reload_status& status, spdlog::logger& log) {
  const auto path = capchan::config::reload_status_path(config);
  if (auto r = capchan::config::write_file_atomically(path, format_reload_status(status), 0644); !r) {
    log.warn("cannot write the reload status: {}", r.error());
  }
}

void add_notes(std::vector<std::string>& notes, const char* what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::string line = what;
  for (const auto& n : names) line += " " + n;
  notes.push_back(line);
}

// One SIGHUP: load the file, apply it or keep the running config, and say
// which in the log and in the status file.
asio::awaitable<void> reload_once(capchan::server::server& srv, const std::string& config_path,
                                  const capchan::config::server_config& started,
                                  const capchan::server::service_registry& registry, std::chrono::milliseconds grace,
                                  reload_status& status, spdlog::logger& log) {
  ++status.generation;
  status.notes.clear();
  log.info("SIGHUP: reloading {}", config_path);
  auto next = capchan::config::load_config(config_path);
  status.ok = false;
  if (!next) {
    for (const auto& p : next.error()) status.notes.push_back(p.to_string());
  } else {
    for (const auto& w : next->warnings) log.warn("{}", w.to_string());
    const auto report = co_await srv.reload(*next, registry, grace);
    status.notes = report.errors;
    status.ok = report.errors.empty();
    if (status.ok) {
      add_notes(status.notes, "added", report.added);
      add_notes(status.notes, "removed", report.removed);
      add_notes(status.notes, "restarted", report.replaced);
      add_notes(status.notes, "password changed", report.password_changed);
      if (report.limits_changed) status.notes.push_back("limits changed (new connections)");
      add_notes(status.notes, "needs a restart:", report.needs_restart);
    }
  }
  if (status.ok) {
    log.info("reload {} done{}", status.generation, status.notes.empty() ? ": nothing changed" : "");
    for (const auto& n : status.notes) log.info("reload: {}", n);
  } else {
    for (const auto& n : status.notes) log.error("reload: {}", n);
    log.error("reload {} failed: still running the previous config", status.generation);
  }
  write_status(started, status, log);
}

// Reloads on every SIGHUP, one after the other, until the signal set is cancelled.
asio::awaitable<void> reload_on_hangup(asio::signal_set& hangups, capchan::server::server& srv,
                                       const std::string& config_path, const capchan::config::server_config& started,
                                       const capchan::server::service_registry& registry,
                                       std::chrono::milliseconds grace, spdlog::logger& log) {
  reload_status status;  // generation 0 is the start
  for (;;) {
    auto [ec, signo] = co_await hangups.async_wait(as_tuple_awaitable);
    if (ec) break;
    co_await reload_once(srv, config_path, started, registry, grace, status, log);
  }
}

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
  // Before the pid file exists: from then on a SIGHUP reloads, never kills.
  // Reloads run on a strand of their own, which the shutdown uses to cancel them.
  auto reload_strand = asio::make_strand(ioc);
  asio::signal_set hangups(reload_strand, SIGHUP);
  const auto pid_file = capchan::config::pid_file_path(*config);
  {
    std::error_code ec;
    std::filesystem::create_directories(config->data_dir, ec);
    auto written = capchan::config::write_file_atomically(pid_file, std::to_string(::getpid()) + "\n", 0644);
    if (!written) logger->warn("no pid file, so `capchan config reload` cannot find this server: {}", written.error());
    write_status(*config, reload_status{}, *logger);
  }
  const auto ep = srv.local_endpoint();
  std::cout << "capchan-server listening on " << ep.address().to_string() << ":" << ep.port() << " key "
            << srv.fingerprint() << std::endl;

  asio::co_spawn(
      reload_strand, reload_on_hangup(hangups, srv, config_path, *config, registry, *grace, *logger),
      [&](std::exception_ptr e) {
        if (e) logger->error("the reload loop ended with an exception");
      });

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    logger->info("signal {}: shutting down", signo);
    asio::post(reload_strand, [&] {
      boost::system::error_code ignored;
      hangups.cancel(ignored);
    });
    asio::co_spawn(ioc, srv.shutdown(*grace), [&](std::exception_ptr) { logger->flush(); });
  });

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
  ioc.run();
  for (auto& t : pool) t.join();
  std::error_code ec;
  std::filesystem::remove(pid_file, ec);
  return exit_ok;
}
