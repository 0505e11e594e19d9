// The real capchan-server process, SIGKILLed while a client writes
// (issue 5's acceptance): after every restart each acknowledged put is
// there. Also what a crash leaves of ephemeral keys, and a refused file
// stopping the server from starting.
#include <signal.h>

#include <catch2/catch.hpp>

#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <set>

#include "capchan/client/password_cache.hpp"
#include "kvs_fixture.hpp"
#include "listening_line.hpp"
#include "process.hpp"

using namespace capchan;
using namespace capchan::test;

namespace {

// A capchan-server with one kvs service on 127.0.0.1:0, started from a
// config file in `dir`.
class server_process {
 public:
  explicit server_process(const std::filesystem::path& config)
      : child_({CAPCHAN_SERVER, "--config", config.string(), "--log-level", "error", "--threads",
                "2"}) {
    const auto listening = read_listening_line(child_, "capchan-server");
    port_ = listening.port;
    fingerprint_ = listening.fingerprint;
  }

  client::sync::channel connect(const std::shared_ptr<client::password_cache>& passwords) const {
    return connect_kvs(port_, fingerprint_, passwords);
  }

  pid_t pid() const { return child_.pid(); }
  // SIGTERM (a graceful stop), and the exit code; nullopt if still running after 30 s.
  std::optional<int> terminate() {
    child_.signal(SIGTERM);
    return child_.wait(30s);
  }
  // SIGKILL, and reap.
  void kill() {
    ::kill(child_.pid(), SIGKILL);
    child_.wait();
  }

 private:
  child_process child_;
  std::uint16_t port_ = 0;
  std::string fingerprint_;
};

std::filesystem::path write_config(const std::filesystem::path& dir) {
  const auto path = dir / "server.toml";
  std::ofstream(path) << R"(port = 0
bind = "127.0.0.1"
key_file = "server.key"
data_dir = "data"

[[service]]
name = "kvs"
password = "secret"
argon2id_ops = 1
argon2id_mem = "8KiB"
handler = "kvs"
args = { path = "kvs.db" }
)";
  return path;
}

term seq_key(std::int64_t n) {
  return binary::from("p/" + std::to_string(n));
}

// Every key under <<"p/">> with its value, page by page.
std::map<term, term> all_puts(client::sync::channel& ch) {
  std::map<term, term> out;
  term request = parse(R"({list, <<"p/">>})");
  for (;;) {
    const term page = call(ch, request);
    const auto& e = page.as_tuple()->elements;
    for (const auto& item : e.at(1).as_list()->elements()) {
      out.emplace(item.as_tuple()->elements.at(0), item.as_tuple()->elements.at(1));
    }
    if (e.at(2) == term(atom("done"))) return out;
    request = tuple(atom("list"), binary::from("p/"),
                    map{{atom("after"), e.at(2).as_tuple()->elements.at(1)}});
  }
}

}  // namespace

TEST_CASE("kvs crash: every acknowledged put survives SIGKILL of the server, 50 times",
          "[kvs][crash]") {
  scratch_dir dir;
  const auto config = write_config(dir.path());
  const auto passwords = std::make_shared<client::password_cache>();
  const auto seed = std::random_device{}();
  INFO("random seed " << seed);
  std::mt19937 random(seed);
  constexpr int cycles = 50;
  constexpr std::size_t window = 16;  // puts in flight, so that commits group
  std::set<std::int64_t> acked;
  std::int64_t next = 0, lost = 0, found = 0;

  for (int cycle = 0; cycle <= cycles; ++cycle) {
    server_process server(config);
    auto ch = server.connect(passwords);
    // Every put acknowledged before any earlier kill is here, with its value.
    const auto stored = all_puts(ch);
    found = 0;
    for (const auto n : acked) {
      const auto it = stored.find(seq_key(n));
      if (it != stored.end() && it->second == term(n)) {
        ++found;
      } else if (++lost <= 10) {  // the first few are enough to read
        FAIL_CHECK("acknowledged put " << n << " is missing after restart " << cycle);
      }
    }
    if (cycle == cycles) break;

    // Write until the server dies at a random moment.
    std::uniform_int_distribution<int> delay_ms(0, 60);
    const auto delay = std::chrono::milliseconds(delay_ms(random));
    std::thread killer([&server, delay] {
      std::this_thread::sleep_for(delay);  // the random moment is the point
      ::kill(server.pid(), SIGKILL);
    });
    std::deque<std::pair<std::int64_t, std::future<client::result<term>>>> in_flight;
    bool alive = true;
    while (alive) {
      while (in_flight.size() < window) {
        const std::int64_t n = next++;
        in_flight.emplace_back(n, ch.async_rpc(tuple(atom("put"), seq_key(n), n), 5s));
      }
      auto [n, answer] = std::move(in_flight.front());
      in_flight.pop_front();
      const auto reply = answer.get();
      if (reply && *reply == term(atom("ok"))) {
        acked.insert(n);
      } else {
        alive = false;
      }
    }
    for (auto& [n, answer] : in_flight) {
      const auto reply =
          answer.get();  // answered before the kill reached the socket: acknowledged too
      if (reply && *reply == term(atom("ok"))) acked.insert(n);
    }
    killer.join();
    server.kill();
  }
  std::cout << "kvs crash test: " << cycles << " SIGKILLs, acked " << acked.size() << ", found "
            << found << ", lost " << lost << "\n";
  CHECK(lost == 0);
  CHECK(found == static_cast<std::int64_t>(acked.size()));
  CHECK(acked.size() > static_cast<std::size_t>(cycles));
}

TEST_CASE("kvs crash: ephemeral keys a crash leaves are deleted at the next start, with events",
          "[kvs][crash]") {
  scratch_dir dir;
  const auto config = write_config(dir.path());
  const auto passwords = std::make_shared<client::password_cache>();
  {
    server_process server(config);
    auto ch = server.connect(passwords);
    REQUIRE(call(ch, parse("{put, durable, 1}")) == term(atom("ok")));
    REQUIRE(call(ch, parse("{put, node, up, #{ephemeral => true}}")) == term(atom("ok")));
    server.kill();
  }
  // What the crash left: the commits are in the WAL, not yet in the file.
  const auto wal = dir.path() / "data" / "kvs.db-wal";
  REQUIRE(std::filesystem::exists(wal));
  CHECK(std::filesystem::file_size(wal) > 0);
  server_process server(config);
  auto ch = server.connect(passwords);
  CHECK(show(call(ch, parse("{list, '_'}"))) == "{ok,[{durable,1}],done}");
  REQUIRE(call(ch, parse("{watch, '_', 1}")) == parse("{ok, 3}"));
  CHECK(show(next_push(ch)) == "{kvs,1,put,durable,1}");
  CHECK(show(next_push(ch)) == "{kvs,2,put,node,up}");
  CHECK(show(next_push(ch)) == "{kvs,3,delete,node}");
}

TEST_CASE("kvs crash: every put survives a clean stop (SIGTERM) of capchan-server", "[kvs]") {
  scratch_dir dir;
  const auto config = write_config(dir.path());
  const auto passwords = std::make_shared<client::password_cache>();
  {
    server_process server(config);
    auto ch = server.connect(passwords);
    for (int n = 0; n < 100; ++n)
      REQUIRE(call(ch, tuple(atom("put"), seq_key(n), n)) == term(atom("ok")));
    REQUIRE(ch.cast(parse("{store, joe, book}")).has_value());  // the book's cast, then a stop
    REQUIRE(show(call(ch, parse("{lookup, joe}"))) == "{ok,book}");
    CHECK(server.terminate() == std::optional<int>(0));
  }
  // A clean stop folds the WAL into the file.
  CHECK_FALSE(std::filesystem::exists(dir.path() / "data" / "kvs.db-wal"));
  server_process server(config);
  auto ch = server.connect(passwords);
  const auto stored = all_puts(ch);
  CHECK(stored.size() == 100);
  for (int n = 0; n < 100; ++n) CHECK(stored.at(seq_key(n)) == term(n));
  CHECK(show(call(ch, parse("{lookup, joe}"))) == "{ok,book}");
}

TEST_CASE("kvs crash: capchan-server refuses to start on a corrupt or foreign data file and names it",
          "[kvs]") {
  scratch_dir dir;
  const auto config = write_config(dir.path());
  const auto file = dir.path() / "data" / "kvs.db";
  std::filesystem::create_directories(dir.path() / "data");
  const auto refused = [&](const std::string& why) {
    const auto r = run_process({CAPCHAN_SERVER, "--config", config.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());  // it never listened
    CHECK_THAT(r.err, Catch::Contains(file.string() + ": " + why));
    CHECK_THAT(r.err,
               Catch::Contains("nothing was started") || Catch::Contains("refused to start"));
  };
  std::ofstream(file) << std::string(8192, 'x');
  refused("cannot be read as a SQLite database");
  std::filesystem::remove(file);
  sqlite_exec(file, "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT)");
  refused("is a SQLite database of another program");
}
