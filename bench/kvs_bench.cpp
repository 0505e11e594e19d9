// The kvs service under 50 clients on loopback, each against a baseline
// measured in the same run (DESIGN.md §9: absolute numbers drift, ratios
// hold), for issue 5's goals:
//   durable puts/s (50 clients, each waiting for its `ok`) >= 10x a loop that
//     commits one put per transaction on the same kind of file (the store's
//     own schema and pragmas: WAL, synchronous=FULL), which is what group
//     commit saves;
//   lookups/s (50 clients) >= 0.5x echo rpcs/s (50 clients, same server,
//     same messages size), i.e. a lookup costs at most one more rpc.
// The server runs in this process on two I/O threads; the clients are
// coroutines on a client io_context of their own thread. The data file goes
// in a fresh directory under $TMPDIR (or the directory given as argv[1]):
// put it on the disk you care about, not on tmpfs, or fsync is free.
//   kvs_bench [DIR] [SECONDS_PER_PHASE]
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include "capchan/client/channel.hpp"
#include "capchan/client/password_cache.hpp"
#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"
#include "capchan/core/etf.hpp"
#include "capchan/server/server.hpp"
#include "capchan/services/services.hpp"
#include "kvs_file.hpp"
#include "sqlite.hpp"

namespace {

namespace asio = boost::asio;
using namespace capchan;
using bench_clock = std::chrono::steady_clock;

constexpr int clients = 50;
constexpr double put_goal = 10.0;
constexpr double lookup_goal = 0.5;

term value_of(std::int64_t n) {
  return tuple(atom("node"), n, binary::from("10.0.0.1:4369"));
}
term key_of(int client, std::int64_t n) {
  return binary::from("c" + std::to_string(client) + "/" + std::to_string(n));
}

// Puts per second when every put is its own transaction: the store's
// schema and pragmas, the same rows and events a put writes.
double one_transaction_per_put(const std::filesystem::path& file, std::chrono::seconds length) {
  auto db = services::kvs::open_kvs_file(file);
  services::sqlite::statement begin(*db, "BEGIN IMMEDIATE"), commit(*db, "COMMIT");
  services::sqlite::statement upsert(*db,
                                     "INSERT OR REPLACE INTO kv (key, kind, name, value, owner, "
                                     "lease, revision) VALUES (?1, 2, ?2, ?3, 0, 0, ?4)");
  services::sqlite::statement event(
      *db, "INSERT INTO events (revision, key, value) VALUES (?1, ?2, ?3)");
  services::sqlite::statement meta(*db, "UPDATE meta SET value = ?1 WHERE name = 'revision'");
  std::int64_t n = 0;
  const auto start = bench_clock::now();
  const auto end = start + length;
  while (bench_clock::now() < end) {
    ++n;
    const auto key = etf::encode(key_of(0, n));
    const auto value = etf::encode(value_of(n));
    services::sqlite::query(begin).run();
    services::sqlite::query(upsert)
        .bind(1, key)
        .bind(2, std::string_view("c0/"))
        .bind(3, value)
        .bind(4, n)
        .run();
    services::sqlite::query(event).bind(1, n).bind(2, key).bind(3, value).run();
    services::sqlite::query(meta).bind(1, n).run();
    services::sqlite::query(commit).run();
  }
  return static_cast<double>(n) / std::chrono::duration<double>(bench_clock::now() - start).count();
}

config::service_config service(const std::string& name, const std::string& handler, term args) {
  config::service_config s;
  s.name = name;
  s.handler = handler;
  s.secret = config::plaintext_password{"bench"};
  s.pwhash = {crypto::argon2id_min.ops_limit, crypto::argon2id_min.mem_limit};
  s.args = std::move(args);
  return s;
}

// Fifty channels to one service, and closed-loop phases over them.
class client_pool {
 public:
  client_pool(asio::io_context& ioc, std::uint16_t port, const std::string& key,
              const std::string& name)
      : ioc_(ioc) {
    client::connect_options o;
    o.key = key;
    o.passwords = std::make_shared<client::password_cache>();
    for (int i = 0; i < clients; ++i) {
      auto connecting = client::connect("127.0.0.1", port, name, "bench", term(), o);
      auto done = asio::co_spawn(ioc_, std::move(connecting), asio::use_future);
      auto ch = done.get();
      if (!ch) throw std::runtime_error("connect to " + name + ": " + ch.error().message());
      channels_.push_back(std::move(*ch));
    }
  }

  // Every client sends request(client, n) and waits for its answer, again
  // and again, for `length`; answers per second over all clients.
  template <class Request>
  double closed_loop(std::chrono::seconds length, Request request) {
    std::atomic<std::int64_t> answers{0};
    std::atomic<int> running{clients};
    std::atomic<bool> failed{false};
    const auto end = bench_clock::now() + length;
    const auto start = bench_clock::now();
    std::promise<void> all_done;
    for (int c = 0; c < clients; ++c) {
      asio::co_spawn(
          ioc_,
          [&, c]() -> asio::awaitable<void> {
            auto& ch = channels_[static_cast<std::size_t>(c)];
            for (std::int64_t n = 0; bench_clock::now() < end; ++n) {
              auto call = ch.rpc(request(c, n));
              auto answer = co_await std::move(call);
              if (!answer) {
                failed = true;
                break;
              }
              answers.fetch_add(1, std::memory_order_relaxed);
            }
            if (--running == 0) all_done.set_value();
          },
          asio::detached);
    }
    all_done.get_future().wait();
    const double seconds = std::chrono::duration<double>(bench_clock::now() - start).count();
    if (failed) throw std::runtime_error("an rpc failed during the run");
    return static_cast<double>(answers.load()) / seconds;
  }

  void close() {
    for (auto& ch : channels_) {
      auto closing = ch.close();
      asio::co_spawn(ioc_, std::move(closing), asio::use_future).get();
    }
  }

 private:
  asio::io_context& ioc_;
  std::vector<client::channel> channels_;
};

std::filesystem::path make_dir(int argc, char** argv) {
  std::string pattern =
      (argc > 1 ? std::filesystem::path(argv[1]) : std::filesystem::temp_directory_path()) /
      "capchan-kvs-bench-XXXXXX";
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed in " + pattern);
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const auto dir = make_dir(argc, argv);
    const std::chrono::seconds length(argc > 2 ? std::stoi(argv[2]) : 3);
    std::fprintf(stderr, "kvs_bench: %d clients, %lld s per phase, files in %s\n", clients,
                 static_cast<long long>(length.count()), dir.c_str());

    std::fprintf(stderr, "baseline: one transaction per put...\n");
    const double loop_puts = one_transaction_per_put(dir / "baseline.db", length);

    config::server_config cfg;
    cfg.path = dir / "bench.toml";
    cfg.bind = "127.0.0.1";
    cfg.port = 0;
    cfg.data_dir = dir;
    cfg.services = {service("kvs", "kvs", map{{atom("path"), binary::from("kvs.db")}}),
                    service("echo", "echo", term())};
    server::service_registry registry;
    services::register_builtin(registry);
    asio::io_context server_ioc;
    auto created = server::server::create(
        server_ioc, cfg, crypto::noise::keypair::generate(), registry,
        std::make_shared<spdlog::logger>("bench", std::make_shared<spdlog::sinks::null_sink_mt>()));
    if (!created) throw std::runtime_error("server: " + created.error().front());
    auto& srv = **created;
    srv.start();
    std::vector<std::thread> server_threads;
    for (int i = 0; i < 2; ++i) server_threads.emplace_back([&] { server_ioc.run(); });

    asio::io_context client_ioc;
    auto work = asio::make_work_guard(client_ioc);
    std::thread client_thread([&] { client_ioc.run(); });
    {
      client_pool kvs(client_ioc, srv.local_endpoint().port(), srv.fingerprint(), "kvs");
      client_pool echo(client_ioc, srv.local_endpoint().port(), srv.fingerprint(), "echo");

      std::fprintf(stderr, "durable puts...\n");
      std::vector<std::int64_t> written(clients, 0);
      const double puts = kvs.closed_loop(length, [&](int c, std::int64_t n) {
        written[static_cast<std::size_t>(c)] = n + 1;
        return term(tuple(atom("put"), key_of(c, n), value_of(n)));
      });
      // Lookups of keys that exist, and echo of a message of the same shape, alternated twice.
      const auto lookup = [&](int c, std::int64_t n) {
        const auto count = std::max<std::int64_t>(written[static_cast<std::size_t>(c)], 1);
        return term(tuple(atom("lookup"), key_of(c, n % count)));
      };
      const auto echo_request = [&](int c, std::int64_t n) {
        return term(tuple(atom("lookup"), key_of(c, n)));
      };
      double lookups = 0, echoes = 0;
      for (int round = 0; round < 2; ++round) {
        std::fprintf(stderr, "echo rpcs (round %d)...\n", round + 1);
        echoes += echo.closed_loop(length, echo_request) / 2;
        std::fprintf(stderr, "lookups (round %d)...\n", round + 1);
        lookups += kvs.closed_loop(length, lookup) / 2;
      }
      kvs.close();
      echo.close();

      const double put_ratio = puts / loop_puts, lookup_ratio = lookups / echoes;
      std::printf("%-34s %12s %12s %8s %6s %s\n", "scenario", "ours/s", "baseline/s", "ratio",
                  "goal", "met");
      std::printf("%-34s %12.0f %12.0f %7.1fx %5.1fx %s\n", "durable puts vs 1 txn per put", puts,
                  loop_puts, put_ratio, put_goal, put_ratio >= put_goal ? "yes" : "NO");
      std::printf("%-34s %12.0f %12.0f %7.2fx %5.1fx %s\n", "lookups vs echo rpc", lookups, echoes,
                  lookup_ratio, lookup_goal, lookup_ratio >= lookup_goal ? "yes" : "NO");
    }
    asio::co_spawn(server_ioc, srv.shutdown(std::chrono::seconds(5)), asio::use_future).get();
    work.reset();
    client_thread.join();
    for (auto& t : server_threads) t.join();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kvs_bench: %s\n", e.what());
    return 1;
  }
}
