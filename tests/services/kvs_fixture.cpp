// See kvs_fixture.hpp.
#include "kvs_fixture.hpp"

#include <sqlite3.h>
#include <stdlib.h>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include "capchan/client/password_cache.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/text.hpp"
#include "capchan/services/services.hpp"

namespace capchan::test {

namespace asio = boost::asio;

namespace {

std::shared_ptr<spdlog::logger> test_logger() {
  if (std::getenv("CAPCHAN_TEST_LOG")) {
    return std::make_shared<spdlog::logger>("test",
                                            std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  return std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
}

server::service_registry builtin_registry() {
  server::service_registry registry;
  services::register_builtin(registry);
  return registry;
}

}  // namespace

config::server_config kvs_config(const std::filesystem::path& data_dir, term args,
                                 config::limits_config limits) {
  config::server_config cfg;
  cfg.path = data_dir / "test.toml";
  cfg.bind = "127.0.0.1";
  cfg.port = 0;
  cfg.data_dir = data_dir;
  cfg.limits = limits;
  config::service_config s;
  s.name = "kvs";
  s.handler = "kvs";
  s.secret = config::plaintext_password{"secret"};
  s.pwhash = {crypto::argon2id_min.ops_limit, crypto::argon2id_min.mem_limit};
  s.args = std::move(args);
  s.line = 1;
  cfg.services.push_back(std::move(s));
  return cfg;
}

kvs_server::kvs_server(const config::server_config& config) {
  auto created = server::server::create(ioc_, config, crypto::noise::keypair::generate(),
                                        builtin_registry(), test_logger());
  if (!created) throw std::runtime_error("server::create failed: " + created.error().front());
  srv_ = std::move(*created);
  srv_->start();
  port_ = srv_->local_endpoint().port();
  fingerprint_ = srv_->fingerprint();
  passwords_ = std::make_shared<client::password_cache>();
  for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
}

kvs_server::~kvs_server() {
  shutdown();
  for (auto& t : threads_) t.join();
}

void kvs_server::shutdown() {
  if (stopped_) return;
  stopped_ = true;
  asio::co_spawn(ioc_, srv_->shutdown(std::chrono::seconds(5)), asio::use_future).get();
}

client::sync::channel kvs_server::connect() const {
  return connect_kvs(port_, fingerprint_, passwords_);
}

client::sync::channel connect_kvs(std::uint16_t port, const std::string& fingerprint,
                                  const std::shared_ptr<client::password_cache>& passwords) {
  client::connect_options o;
  o.key = fingerprint;
  o.passwords = passwords;
  auto ch = client::sync::connect("127.0.0.1", port, "kvs", "secret", term(), o);
  if (!ch) throw std::runtime_error("connect failed: " + ch.error().message());
  return std::move(*ch);
}

std::vector<std::string> start_errors(const config::server_config& config) {
  asio::io_context ioc;
  auto created = server::server::create(ioc, config, crypto::noise::keypair::generate(),
                                        builtin_registry(), test_logger());
  if (created) return {};
  return created.error();
}

scratch_dir::scratch_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "capchan-kvs-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

scratch_dir::~scratch_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

term kvs_args(std::vector<std::pair<std::string, term>> extra, const std::string& file) {
  std::vector<map::entry> entries;
  entries.emplace_back(atom("path"), binary::from(file));
  for (auto& [k, v] : extra) entries.emplace_back(atom(k), std::move(v));
  return map(std::move(entries));
}

term call(client::sync::channel& ch, term request, std::chrono::milliseconds timeout) {
  auto r = ch.rpc(std::move(request), timeout);
  if (!r) throw std::runtime_error("rpc failed: " + r.error().message());
  return std::move(*r);
}

term next_push(client::sync::channel& ch, std::chrono::milliseconds limit) {
  auto in = ch.receive_for(limit);
  if (!in) throw std::runtime_error("no push within " + std::to_string(limit.count()) + " ms");
  if (auto* p = std::get_if<client::push>(&*in)) return p->message;
  throw std::runtime_error("the channel closed: " +
                           show(std::get<client::chan_closed>(*in).reason));
}

void sqlite_exec(const std::filesystem::path& file, const char* sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK) {
    const std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("sqlite3_open " + file.string() + ": " + why);
  }
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
  const std::string why = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  if (rc != SQLITE_OK) throw std::runtime_error("sqlite3_exec on " + file.string() + ": " + why);
}

std::string show(const term& t) {
  return text::print(t);
}

term parse(const std::string& text) {
  return text::parse(text).value();
}

}  // namespace capchan::test
