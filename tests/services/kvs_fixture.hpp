// Test support for the kvs service: a capchan server in this process whose
// one service, "kvs" (password "secret", the cheapest argon2id), is a kvs
// with the given args and data_dir; clients connect with the real client
// library over 127.0.0.1. Also: the errors a server gives instead of
// starting, and small term helpers.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "capchan/client/sync.hpp"
#include "capchan/config/server_config.hpp"
#include "capchan/server/server.hpp"

namespace capchan::test {

using namespace std::chrono_literals;

// The config of a server with one kvs service.
config::server_config kvs_config(const std::filesystem::path& data_dir, term args,
                                 config::limits_config limits = {});

class kvs_server {
 public:
  explicit kvs_server(const config::server_config& config);
  kvs_server(const std::filesystem::path& data_dir, term args, config::limits_config limits = {})
      : kvs_server(kvs_config(data_dir, std::move(args), limits)) {}
  ~kvs_server();
  kvs_server(const kvs_server&) = delete;
  kvs_server& operator=(const kvs_server&) = delete;

  // Stops as SIGTERM would; returns when every channel and the store are done.
  void shutdown();
  // A channel to "kvs"; throws if it cannot connect.
  client::sync::channel connect() const;

  std::uint16_t port() const { return port_; }
  const std::string& fingerprint() const { return fingerprint_; }
  const server::metrics& counters() const { return srv_->counters(); }

 private:
  boost::asio::io_context ioc_;
  std::unique_ptr<server::server> srv_;
  std::uint16_t port_ = 0;
  std::string fingerprint_;
  std::shared_ptr<client::password_cache> passwords_;
  std::vector<std::thread> threads_;
  bool stopped_ = false;
};

// A channel to the "kvs" service of the server at 127.0.0.1:port with that
// key; throws if it cannot connect.
client::sync::channel connect_kvs(std::uint16_t port, const std::string& fingerprint,
                                  const std::shared_ptr<client::password_cache>& passwords);

// What server::create says instead of starting (empty if it would start).
std::vector<std::string> start_errors(const config::server_config& config);

// A fresh directory under $TMPDIR, removed with its contents.
class scratch_dir {
 public:
  scratch_dir();
  ~scratch_dir();
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// `#{path => <<"kvs.db">>}` plus the extra entries.
term kvs_args(std::vector<std::pair<std::string, term>> extra = {},
              const std::string& file = "kvs.db");

// The rpc's answer; throws with the error's message if it failed.
term call(client::sync::channel& ch, term request, std::chrono::milliseconds timeout = 10s);

// The next push within `limit` (chan_closed or nothing: throws).
term next_push(client::sync::channel& ch, std::chrono::milliseconds limit = 10s);

// Runs SQL on a file with the SQLite library itself, as another program
// would; throws with SQLite's message if it fails.
void sqlite_exec(const std::filesystem::path& file, const char* sql);

// Erlang text of a term, for readable failures and comparisons.
std::string show(const term& t);
// A term from Erlang text (throws when malformed).
term parse(const std::string& text);

}  // namespace capchan::test
