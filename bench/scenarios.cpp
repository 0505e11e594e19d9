// Scenarios a..g of capchan-bench and the Redis baseline (scenarios.hpp).
// Counts and lengths are for a full run (the whole suite in a few minutes on
// 2 cores); --quick shrinks them to prove the harness works, not to measure.
#include "scenarios.hpp"

#include <algorithm>
#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <boost/asio/co_spawn.hpp>

#include "baselines.hpp"
#include "capchan/client/password_cache.hpp"
#include "kvs_baseline.hpp"
#include "load.hpp"
#include "redis_baseline.hpp"

namespace capchan::bench {
namespace asio = boost::asio;
using namespace std::chrono_literals;
namespace {

constexpr std::size_t payload_bytes = 64;
constexpr int many_channels = 50;
constexpr int pipeline_depth = 16;

template <class... Args>
void progress(const char* format, Args... args) {
  std::fprintf(stderr, "  ");
  std::fprintf(stderr, format, args...);
  std::fputc('\n', stderr);
}

double mean(const std::vector<double>& v) {
  return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

std::string rounds_note(const std::vector<double>& per_round, int decimals) {
  return "range " + range_text(per_round, decimals) + " over " + std::to_string(per_round.size()) + " rounds";
}

// Opens `n` connections of one kind, `parallel` at a time.
template <class Conn, class Open>
std::vector<std::unique_ptr<Conn>> open_many(asio::io_context& ioc, std::size_t n, Open open,
                                             std::size_t parallel = 16) {
  std::vector<std::unique_ptr<Conn>> out(n);
  auto opener = [&](std::size_t first) -> asio::awaitable<void> {
    for (std::size_t i = first; i < n; i += parallel) out[i] = co_await open();
  };
  std::vector<std::future<void>> running;
  for (std::size_t k = 0; k < std::min(parallel, n); ++k) {
    running.push_back(asio::co_spawn(ioc, opener(k), asio::use_future));
  }
  for (auto& f : running) f.get();
  return out;
}

template <class Conn>
void close_all(asio::io_context& ioc, std::vector<std::unique_ptr<Conn>>& conns) {
  for (auto& c : conns) run_on(ioc, c->close());
  conns.clear();
}

// ---- (a) rpc latency -----------------------------------------------------------

void latency(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const std::size_t warmup = env.quick ? 100 : 2'000;
  const std::size_t per_round = env.quick ? 100 : 5'000;
  const int rounds = env.quick ? 1 : 4;
  auto capchan = run_on(ioc, echo_rpc_conn::connect(env.target, payload_bytes));
  auto raw = run_on(ioc, raw_tcp_client::connect(env.raw->port(), payload_bytes));
  auto ws = run_on(ioc, ws_client::connect(env.ws->port(), payload_bytes));
  progress("warm-up: %zu round trips each", warmup);
  run_on(ioc, latency_series(*capchan, warmup, nullptr));
  run_on(ioc, latency_series(*raw, warmup, nullptr));
  run_on(ioc, latency_series(*ws, warmup, nullptr));
  std::vector<double> capchan_us, raw_us, ws_us;
  std::vector<double> capchan_p50, raw_p50, ws_p50, ratio;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: %zu round trips each (capchan, raw TCP, plain WebSocket)", r, rounds, per_round);
    std::vector<double> c, t, w;
    run_on(ioc, latency_series(*capchan, per_round, &c));
    run_on(ioc, latency_series(*raw, per_round, &t));
    run_on(ioc, latency_series(*ws, per_round, &w));
    capchan_p50.push_back(summarize(c).p50);
    raw_p50.push_back(summarize(t).p50);
    ws_p50.push_back(summarize(w).p50);
    ratio.push_back(capchan_p50.back() / raw_p50.back());
    capchan_us.insert(capchan_us.end(), c.begin(), c.end());
    raw_us.insert(raw_us.end(), t.begin(), t.end());
    ws_us.insert(ws_us.end(), w.begin(), w.end());
  }
  run_on(ioc, capchan->close());
  raw->close();
  const auto sc = summarize(capchan_us), st = summarize(raw_us), sw = summarize(ws_us);
  const auto rows = [&](const char* name, const latency_summary& s, const std::vector<double>& p50s) {
    out.add(std::string(name) + " p50", s.p50, "us", rounds_note(p50s, 1));
    out.add(std::string(name) + " p99", s.p99, "us");
    out.add(std::string(name) + " p99.9", s.p999, "us");
  };
  rows("capchan rpc (echo)", sc, capchan_p50);
  rows("raw TCP ping-pong", st, raw_p50);
  rows("plain WebSocket ping-pong", sw, ws_p50);
  out.add("capchan p50 / plain WebSocket p50", sc.p50 / sw.p50, "x");
  out.goals.push_back({"p50 capchan rpc / raw TCP", sc.p50 / st.p50, 1.2, true,
                       "per-round ratios " + range_text(ratio, 2) +
                           "; capchan adds a WebSocket frame, an AEAD record and ETF frames each way"});
  env.capchan_rpc_p50 = sc.p50;
  env.latency = {{"capchan rpc", std::move(capchan_us)},
                 {"raw TCP", std::move(raw_us)},
                 {"plain WebSocket", std::move(ws_us)}};
}

// ---- (b) 50 channels, closed loop, and (c) pipelined -------------------------

std::chrono::milliseconds phase_length(const bench_env& env) { return env.quick ? 200ms : 2'000ms; }

void closed_loop_50(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const int rounds = env.quick ? 1 : 3;
  const auto length = phase_length(env);
  auto capchan = open_many<echo_rpc_conn>(ioc, many_channels,
                                          [&] { return echo_rpc_conn::connect(env.target, payload_bytes); });
  auto raw = open_many<raw_tcp_client>(ioc, many_channels,
                                       [&] { return raw_tcp_client::connect(env.raw->port(), payload_bytes); });
  auto ws = open_many<ws_client>(ioc, many_channels, [&] { return ws_client::connect(env.ws->port(), payload_bytes); });
  std::vector<double> c, t, w, ratio;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: %lld ms each (capchan, raw TCP, plain WebSocket)", r, rounds,
             static_cast<long long>(length.count()));
    c.push_back(closed_loop(ioc, capchan, 1, length));
    t.push_back(closed_loop(ioc, raw, 1, length));
    w.push_back(closed_loop(ioc, ws, 1, length));
    ratio.push_back(c.back() / t.back());
  }
  close_all(ioc, capchan);
  for (auto& conn : raw) conn->close();
  out.add("capchan rpc/s, 50 channels", mean(c), "rpc/s", rounds_note(c, 0));
  out.add("raw TCP round trips/s, 50 connections", mean(t), "rt/s", rounds_note(t, 0));
  out.add("plain WebSocket round trips/s, 50 connections", mean(w), "rt/s", rounds_note(w, 0));
  out.goals.push_back({"rpc/s capchan / raw TCP, 50 connections", mean(c) / mean(t), 0.7, false,
                       "per-round ratios " + range_text(ratio, 2)});
}

void pipelined(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const int rounds = env.quick ? 1 : 3;
  const auto length = phase_length(env);
  auto capchan = open_many<echo_rpc_conn>(ioc, many_channels,
                                          [&] { return echo_rpc_conn::connect(env.target, payload_bytes); });
  std::vector<double> deep, one, ratio;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: %lld ms with %d rpcs in flight per channel, then with 1", r, rounds,
             static_cast<long long>(length.count()), pipeline_depth);
    deep.push_back(closed_loop(ioc, capchan, pipeline_depth, length));
    one.push_back(closed_loop(ioc, capchan, 1, length));
    ratio.push_back(deep.back() / one.back());
  }
  close_all(ioc, capchan);
  out.add("capchan rpc/s, 50 channels x 16 in flight", mean(deep), "rpc/s", rounds_note(deep, 0));
  out.add("capchan rpc/s, 50 channels x 1 (as in b)", mean(one), "rpc/s", rounds_note(one, 0));
  out.goals.push_back({"pipelined rpc/s / closed-loop rpc/s", mean(deep) / mean(one), 4.0, false,
                       "per-round ratios " + range_text(ratio, 2)});
}

// ---- (d) casts ----------------------------------------------------------------

void casts(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const int rounds = env.quick ? 1 : 3;
  const std::size_t n = env.quick ? 2'000 : 300'000;
  auto ch = run_on(ioc, open_channel(env.target, "echo"));
  run_on(ioc, cast_burst(ch, n / 10, payload_bytes));  // warm-up
  std::vector<double> rates;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: %zu casts", r, rounds, n);
    const auto before = env.server->metric("capchan_casts_in_total");
    rates.push_back(run_on(ioc, cast_burst(ch, n, payload_bytes)));
    const auto after = env.server->metric("capchan_casts_in_total");
    if (!before || !after) throw std::runtime_error("cannot read capchan_casts_in_total from /metrics");
    const auto counted = static_cast<std::size_t>(*after - *before);
    if (counted != n) {
      throw std::runtime_error("the server counted " + std::to_string(counted) + " casts, not the " +
                               std::to_string(n) + " sent");
    }
  }
  run_on(ioc, ch.close());
  out.add("casts/s from one client (server count checked)", mean(rates), "casts/s", rounds_note(rates, 0));
  out.goals.push_back({"casts/s / 500k", mean(rates) / 500'000, 1.0, false, ""});
}

// ---- (e) connection rate ---------------------------------------------------------

void connect_rate(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const int rounds = env.quick ? 1 : 4;
  const std::size_t capchan_n = env.quick ? 20 : 400;
  const std::size_t raw_n = env.quick ? 100 : 3'000;
  const auto raw_port = env.raw->port();
  auto raw_loop = [raw_port](std::size_t n) -> asio::awaitable<void> {
    for (std::size_t i = 0; i < n; ++i) co_await raw_tcp_connect_close(raw_port);
  };
  run_on(ioc, connect_login_close(env.target, capchan_n / 10));  // warm-up
  run_on(ioc, raw_loop(raw_n / 10));
  std::vector<double> c, t, ratio;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: %zu capchan connect+login+close, %zu raw TCP connect+close", r, rounds, capchan_n,
             raw_n);
    auto start = bench_clock::now();
    run_on(ioc, connect_login_close(env.target, capchan_n));
    c.push_back(static_cast<double>(capchan_n) / seconds_of(bench_clock::now() - start));
    start = bench_clock::now();
    run_on(ioc, raw_loop(raw_n));
    t.push_back(static_cast<double>(raw_n) / seconds_of(bench_clock::now() - start));
    ratio.push_back(c.back() / t.back());
  }
  out.add("capchan connect + login + close /s (cached password)", mean(c), "conn/s", rounds_note(c, 0));
  out.add("raw TCP connect + close /s", mean(t), "conn/s", rounds_note(t, 0));
  out.add("argon2id runs in the client, whole run", static_cast<double>(env.target.passwords->derivations()), "",
          "the rest came from the password cache");
  out.goals.push_back({"connects/s capchan / raw TCP", mean(c) / mean(t), 0.2, false,
                       "per-round ratios " + range_text(ratio, 3)});
}

// ---- (f) memory per idle channel ---------------------------------------------------

// Polls a gauge of the server until it reads `want` (channels open or
// closed on the server's side lag the client's by a moment).
bool wait_for_metric(const capchan_server_process& server, const std::string& name, double want) {
  const auto deadline = bench_clock::now() + 30s;
  while (bench_clock::now() < deadline) {
    if (server.metric(name) == want) return true;
    std::this_thread::sleep_for(20ms);
  }
  return false;
}

void memory_per_channel(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  // A server of its own: the shared one keeps heap that the scenarios
  // before this one freed, and new channels would reuse it unmeasured.
  std::filesystem::create_directories(env.dir / "f");
  capchan_server_process fresh(env.server_binary, env.dir / "f", env.target.password, env.server_threads);
  capchan_target fresh_target = env.target;
  fresh_target.port = fresh.port();
  fresh_target.fingerprint = fresh.fingerprint();
  const std::vector<std::size_t> steps =
      env.quick ? std::vector<std::size_t>{50, 100} : std::vector<std::size_t>{1'000, 10'000};
  const auto open_idle = [&] {
    return [&]() -> asio::awaitable<std::unique_ptr<client::channel>> {
      auto ch = co_await open_channel(fresh_target, "echo");
      co_return std::make_unique<client::channel>(std::move(ch));
    };
  };
  // The server's own start-up allocations settle after a few channels.
  auto warm = open_many<client::channel>(ioc, 10, open_idle());
  for (auto& ch : warm) run_on(ioc, ch->close());
  warm.clear();
  if (!wait_for_metric(fresh, "capchan_channels_open", 0)) throw std::runtime_error("warm-up channels did not close");
  const auto base = rss_bytes(fresh.pid());
  if (!base) throw std::runtime_error("cannot read the server's VmRSS");
  std::vector<std::unique_ptr<client::channel>> held;
  double last_per_channel = 0;
  bool all_held = true;
  for (const std::size_t target : steps) {
    progress("opening idle authenticated channels: %zu to %zu", held.size(), target);
    const auto start = bench_clock::now();
    auto more = open_many<client::channel>(ioc, target - held.size(), open_idle(), 64);
    const double rate = static_cast<double>(more.size()) / seconds_of(bench_clock::now() - start);
    for (auto& ch : more) held.push_back(std::move(ch));
    const bool counted = wait_for_metric(fresh, "capchan_channels_open", static_cast<double>(target));
    all_held = all_held && counted;
    const auto rss = rss_bytes(fresh.pid());
    if (!rss) throw std::runtime_error("cannot read the server's VmRSS");
    last_per_channel = static_cast<double>(*rss - *base) / static_cast<double>(target);
    const std::string n = std::to_string(target);
    out.add("server RSS per idle channel at " + n, last_per_channel / 1024, "KiB",
            "RSS " + std::to_string(*rss / 1024) + " KiB, " + std::to_string(*base / 1024) + " KiB before");
    out.add("channels open on the server at " + n, fresh.metric("capchan_channels_open").value_or(-1), "",
            counted ? "all held" : "NOT all held");
    out.add("connect + login rate while opening them (64 at a time)", rate, "conn/s");
  }
  progress("closing %zu channels", held.size());
  std::vector<std::future<void>> closing;
  for (auto& ch : held) closing.push_back(asio::co_spawn(ioc, ch->close(), asio::use_future));
  for (auto& f : closing) f.get();
  held.clear();
  wait_for_metric(fresh, "capchan_channels_open", 0);
  const std::string top = std::to_string(steps.back());
  goal g{"server RSS per idle channel at " + top + " / 10 KiB", last_per_channel / (10 * 1024), 1.0, true, ""};
  if (!all_held) {
    g.ratio = 1e9;  // shown as short: the channels were not all held
    g.short_because = "not every channel was held open";
  }
  out.goals.push_back(g);
}

// ---- (g) kvs -----------------------------------------------------------------------

term kvs_key(int conn, std::int64_t n) { return binary::from("c" + std::to_string(conn) + "/" + std::to_string(n)); }
term kvs_value(std::int64_t n) { return tuple(atom("node"), n, binary::from("10.0.0.1:4369")); }

void kvs(bench_env& env, scenario_report& out) {
  auto& ioc = *env.ioc;
  const auto length = phase_length(env);
  progress("baseline: one transaction per put, %lld ms (file in %s)", static_cast<long long>(length.count()),
           env.dir.c_str());
  const double loop_puts = one_transaction_per_put(env.dir / "one-txn-per-put.db", length);

  std::vector<std::int64_t> written(many_channels, 0);
  const auto put = [&](int c, std::int64_t n) {
    written[static_cast<std::size_t>(c)] = n + 1;
    return term(tuple(atom("put"), kvs_key(c, n), kvs_value(n)));
  };
  // Lookups of keys that exist; the echo rpc sends a message of the same shape.
  const auto lookup = [&](int c, std::int64_t n) {
    const auto count = std::max<std::int64_t>(written[static_cast<std::size_t>(c)], 1);
    return term(tuple(atom("lookup"), kvs_key(c, n % count)));
  };
  const auto echo = [](int c, std::int64_t n) { return term(tuple(atom("lookup"), kvs_key(c, n))); };
  int index = 0;
  auto open = [&](const char* service, request_conn::request_fn fn) {
    return [&, service, fn]() -> asio::awaitable<std::unique_ptr<request_conn>> {
      const int i = index++;
      auto ch = co_await open_channel(env.target, service);
      co_return std::make_unique<request_conn>(std::move(ch), i, fn);
    };
  };
  auto putters = open_many<request_conn>(ioc, many_channels, open("kvs", put), 1);
  index = 0;
  auto lookers = open_many<request_conn>(ioc, many_channels, open("kvs", lookup), 1);
  index = 0;
  auto echoes = open_many<request_conn>(ioc, many_channels, open("echo", echo), 1);

  progress("durable puts, 50 clients, %lld ms", static_cast<long long>(length.count()));
  const double puts = closed_loop(ioc, putters, 1, length);
  std::vector<double> l, e;
  const int rounds = env.quick ? 1 : 2;
  for (int r = 1; r <= rounds; ++r) {
    progress("round %d of %d: echo rpcs, then lookups, 50 clients", r, rounds);
    e.push_back(closed_loop(ioc, echoes, 1, length));
    l.push_back(closed_loop(ioc, lookers, 1, length));
  }
  close_all(ioc, putters);
  close_all(ioc, lookers);
  close_all(ioc, echoes);
  out.add("kvs durable puts/s, 50 clients", puts, "puts/s");
  out.add("one transaction per put (same file format), 1 writer", loop_puts, "puts/s");
  out.add("kvs lookups/s, 50 clients", mean(l), "rpc/s", rounds_note(l, 0));
  out.add("echo rpc/s, 50 clients, same message shape", mean(e), "rpc/s", rounds_note(e, 0));
  out.goals.push_back({"durable puts/s / one-txn-per-put loop", puts / loop_puts, 10.0, false, ""});
  out.goals.push_back({"lookups/s / echo rpc/s", mean(l) / mean(e), 0.5, false, ""});
}

// ---- Redis ------------------------------------------------------------------------

void redis(bench_env& env, scenario_report& out) {
  const auto found = find_redis();
  if (!found) {
    out.skipped = "redis-server not installed (apt-get install redis-server redis-tools)";
    return;
  }
  run_redis_baseline(*found, env.dir, env.quick, out);
  if (env.capchan_rpc_p50 > 0) {
    for (const auto& f : std::vector<figure>(out.figures)) {
      if (f.name == "redis GET p50, 1 client") {
        out.add("capchan rpc p50 (a) / redis GET p50", env.capchan_rpc_p50 / f.value, "x");
      }
    }
  }
}

}  // namespace

std::vector<scenario> all_scenarios() {
  return {
      {"a", "rpc latency, 1 channel, 64-byte payload", latency},
      {"b", "50 channels, closed loop", closed_loop_50},
      {"c", "pipelined: 50 channels x 16 rpcs in flight", pipelined},
      {"d", "casts from one client", casts},
      {"e", "connect + login per second, cached salted password", connect_rate},
      {"f", "RSS per idle authenticated channel", memory_per_channel},
      {"g", "kvs: durable puts and lookups, 50 clients", kvs},
      {"redis", "Redis on loopback (redis-benchmark), for reference", redis},
  };
}

}  // namespace capchan::bench
