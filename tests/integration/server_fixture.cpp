// See server_fixture.hpp.
#include "server_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "capchan/client/password_cache.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/services/services.hpp"

namespace capchan::test {

namespace asio = boost::asio;

void probe_log::closed(term reason) {
  std::lock_guard lock(mutex_);
  reasons_.push_back(std::move(reason));
  changed_.notify_all();
}

std::vector<term> probe_log::wait_closed(std::size_t n, std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, limit, [&] { return reasons_.size() >= n; });
  return reasons_;
}

term closed_reason(client::sync::channel& ch, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto in = ch.receive_for(std::max(left, std::chrono::milliseconds(0)));
    if (!in) throw std::runtime_error("no chan_closed within " + std::to_string(limit.count()) + " ms");
    if (auto* c = std::get_if<client::chan_closed>(&*in)) return c->reason;
  }
}

namespace {

// The "probe" test service: echoes calls, and reports how its channel ended.
server::handler_function probe_handler(std::shared_ptr<probe_log> log) {
  return [log](server::channel& mm, const term&, const term&) -> asio::awaitable<void> {
    for (;;) {
      auto msg = co_await mm.receive();
      if (auto* closed = std::get_if<server::chan_closed>(&msg)) {
        log->closed(closed->reason);
        co_return;
      }
      const term& body = std::holds_alternative<server::cast_message>(msg)
                             ? std::get<server::cast_message>(msg).message
                             : std::get<server::call_message>(msg).message();
      const auto* t = body.as_tuple();
      if (t && t->elements.size() == 3 && t->elements[0].is_atom("push") && t->elements[1].as_int64()) {
        const auto n = *t->elements[1].as_int64();
        for (std::int64_t i = 0; i < n; ++i) mm.send(t->elements[2]);
        if (auto* call = std::get_if<server::call_message>(&msg)) call->reply(tuple(atom("ok"), n));
        continue;
      }
      auto* call = std::get_if<server::call_message>(&msg);
      if (!call) continue;
      if (t && t->elements.size() == 2 && t->elements[0].is_atom("throw")) {
        throw std::runtime_error(std::string(t->elements[1].as_binary()->view()));
      }
      if (t && t->elements.size() == 3 && t->elements[0].is_atom("sleep")) {
        asio::steady_timer timer(co_await asio::this_coro::executor,
                                 std::chrono::milliseconds(*t->elements[1].as_int64()));
        co_await timer.async_wait(asio::use_awaitable);
        call->reply(t->elements[2]);
        continue;
      }
      call->reply(call->message());
    }
  };
}

// The "blocking" test service, a blocking handler (add_blocking): echoes
// calls and casts, {sleep, Ms, X} blocks its worker thread for Ms, then
// replies X; {throw, Text} throws; reports how its channel ended.
server::blocking_function blocking_handler(std::shared_ptr<probe_log> log) {
  return [log](server::blocking_channel& mm, const term&, const term&) {
    for (;;) {
      auto msg = mm.receive();
      if (auto* closed = std::get_if<server::chan_closed>(&msg)) {
        log->closed(closed->reason);
        return;
      }
      if (auto* cast = std::get_if<server::cast_message>(&msg)) {
        mm.send(cast->message);
        continue;
      }
      auto& call = std::get<server::call_message>(msg);
      const auto* t = call.message().as_tuple();
      if (t && t->elements.size() == 2 && t->elements[0].is_atom("throw")) {
        throw std::runtime_error(std::string(t->elements[1].as_binary()->view()));
      }
      if (t && t->elements.size() == 3 && t->elements[0].is_atom("sleep")) {
        std::this_thread::sleep_for(std::chrono::milliseconds(*t->elements[1].as_int64()));
        call.reply(t->elements[2]);
        continue;
      }
      call.reply(call.message());
    }
  };
}

config::service_config service(const std::string& name, const std::string& handler, const std::string& password) {
  config::service_config s;
  s.name = name;
  s.handler = handler;
  s.secret = config::plaintext_password{password};
  s.pwhash = {crypto::argon2id_min.ops_limit, crypto::argon2id_min.mem_limit};
  return s;
}

}  // namespace

namespace {

fixture_options with_limits(config::limits_config limits) {
  fixture_options o;
  o.limits = limits;
  return o;
}

}  // namespace

server_fixture::server_fixture(config::limits_config limits) : server_fixture(with_limits(limits)) {}

server_fixture::server_fixture(const fixture_options& options) {
  config::server_config cfg;
  cfg.path = "/nonexistent/test.toml";
  cfg.bind = "127.0.0.1";
  cfg.port = 0;
  cfg.limits = options.limits;
  cfg.services = {service("nameServer", "kvs", options.password), service("echo", "echo", options.password),
                  service("probe", "probe", options.password), service("blocking", "blocking", options.password)};
  server::service_registry registry;
  services::register_builtin(registry);
  registry.add_function("probe", probe_handler(probes));
  registry.add_blocking("blocking", blocking_handler(probes));
  spdlog::sink_ptr sink = options.log_sink;
  if (!sink && std::getenv("CAPCHAN_TEST_LOG")) sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  if (!sink) sink = std::make_shared<spdlog::sinks::null_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("test", sink);
  logger->set_level(spdlog::level::from_str(options.log_level));
  auto created = server::server::create(ioc, cfg, crypto::noise::keypair::generate(), registry, logger);
  if (!created) throw std::runtime_error("server::create failed: " + created.error().front());
  srv = std::move(*created);
  srv->start();
  port = srv->local_endpoint().port();
  fingerprint = srv->fingerprint();
  passwords = std::make_shared<client::password_cache>();
  for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc.run(); });
}

server_fixture::~server_fixture() {
  shutdown();
  for (auto& t : threads_) t.join();
}

void server_fixture::shutdown(std::chrono::milliseconds grace) {
  if (stopped_) return;
  stopped_ = true;
  asio::co_spawn(ioc, srv->shutdown(grace), asio::use_future).get();
}

client::connect_options server_fixture::options() const {
  client::connect_options o;
  o.key = fingerprint;
  o.passwords = passwords;
  o.handshake_timeout = std::chrono::seconds(10);
  return o;
}

client::result<client::sync::channel> server_fixture::connect(const std::string& service_name,
                                                             const std::string& password, term args_c) const {
  return client::sync::connect("127.0.0.1", port, service_name, password, std::move(args_c), options());
}

}  // namespace capchan::test
