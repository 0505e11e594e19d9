// The blocking client API (DESIGN.md §5): its own I/O thread, thread-safe
// blocking methods, futures for rpcs in flight.
#include <thread>

#include <catch2/catch.hpp>

#include "capchan/client/sync.hpp"
#include "capchan/core/text.hpp"
#include "client_test_support.hpp"
#include "test_responder.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using client::errc;
using test::client_fixture;
using test::test_responder;

TEST_CASE("sync: connect, rpc, cast, receive, close", "[client]") {
  test_responder server;
  client_fixture f;
  auto ch = capchan::sync::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
  REQUIRE_RESULT(ch);
  CHECK(ch->server_fingerprint() == server.fingerprint());
  CHECK(ch->rpc(atom("ping"), 5s).value() == term(atom("ping")));
  REQUIRE(ch->cast(tuple(atom("push_back"), 7)));
  auto in = ch->receive();
  REQUIRE(std::holds_alternative<client::push>(in));
  CHECK(std::get<client::push>(in).message == term(7));
  CHECK_FALSE(ch->receive_for(10ms));
  ch->close();
  CHECK_FALSE(ch->is_open());
  CHECK(ch->close_reason() == term(atom("normal")));
  auto end = ch->receive();
  REQUIRE(std::holds_alternative<client::chan_closed>(end));
}

TEST_CASE("sync: rpcs from several threads and futures in flight at once", "[client]") {
  test_responder server;
  client_fixture f;
  auto ch = capchan::sync::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
  REQUIRE_RESULT(ch);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::future<client::result<term>>> futures;
      for (int i = 0; i < 25; ++i) futures.push_back(ch->async_rpc(tuple(t, i), 10s));
      for (int i = 0; i < 25; ++i) {
        auto r = futures[i].get();
        if (r && *r == term(tuple(t, i))) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(good == 100);
}

TEST_CASE("sync: a blocked receive() wakes with chan_closed when another thread closes", "[client]") {
  test_responder server;
  client_fixture f;
  auto ch = capchan::sync::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
  REQUIRE_RESULT(ch);
  client::incoming last;
  std::thread receiver([&] {
    for (;;) {
      last = ch->receive();
      if (std::holds_alternative<client::chan_closed>(last)) return;
    }
  });
  ch->close();
  receiver.join();
  CHECK(std::get<client::chan_closed>(last).reason == term(atom("normal")));
}

TEST_CASE("sync: errors come back as results and the destructor closes", "[client]") {
  test_responder server;
  client_fixture f;
  auto wrong = capchan::sync::connect("127.0.0.1", server.port(), "svc", "bad", term(), f.options());
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == errc::auth_failed);

  auto url = client::parse_url("capchan://127.0.0.1:" + std::to_string(server.port()) + "/svc?key=" + server.fingerprint());
  REQUIRE(url);
  {
    auto ch = capchan::sync::connect(*url, "secret");  // known_hosts untouched: the key is given
    REQUIRE_RESULT(ch);
    auto r = ch->rpc(atom("hold"), 50ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::timeout);
    CHECK_THROWS_AS(r.value(), std::system_error);
    // Leaves scope without close(): the destructor closes and joins.
  }
  CHECK(server.logins() == 1);
}
