// Blocking handlers (service_registry::add_blocking): they run on a pool of
// limits.blocking_workers threads, never on the I/O threads, and end their
// channels the way coroutine handlers do.
#include <catch2/catch.hpp>

#include "capchan/core/text.hpp"
#include "raw_peer.hpp"
#include "server_fixture.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using capchan::test::closed_reason;
using capchan::test::eventually;
using capchan::test::server_fixture;

namespace {

term sleep_call(int ms, term reply) { return tuple(atom("sleep"), ms, std::move(reply)); }

}  // namespace

TEST_CASE("a blocking handler answers calls, pushes casts back and sees normal on close", "[integration]") {
  server_fixture f;
  auto ch = f.connect("blocking");
  REQUIRE(ch.has_value());
  const auto r = ch->rpc(tuple(atom("lookup"), atom("joe")), 5s);
  REQUIRE(r.has_value());
  CHECK(text::print(*r) == "{lookup,joe}");
  REQUIRE(ch->cast(atom("hello")).has_value());
  const auto pushed = ch->receive_for(5s);
  REQUIRE(pushed.has_value());
  REQUIRE(std::holds_alternative<client::push>(*pushed));
  CHECK(std::get<client::push>(*pushed).message == atom("hello"));
  ch->close();
  const auto reasons = f.probes->wait_closed(1);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == atom("normal"));
}

TEST_CASE("blocking handlers wait for a free worker and never stall the I/O threads", "[integration]") {
  config::limits_config limits;
  limits.blocking_workers = 2;
  server_fixture f(limits);
  const auto& counters = f.srv->counters();

  auto a = f.connect("blocking");
  auto b = f.connect("blocking");
  REQUIRE(a.has_value());
  REQUIRE(b.has_value());
  // Both workers block until released by the end of their sleep.
  auto slow_a = a->async_rpc(sleep_call(1500, atom("a")));
  auto slow_b = b->async_rpc(sleep_call(1500, atom("b")));
  REQUIRE(eventually([&] { return counters.blocking_running.load() == 2; }));

  // A third blocking channel is welcomed, but its handler waits for a worker.
  auto c = f.connect("blocking");
  REQUIRE(c.has_value());
  REQUIRE(eventually([&] { return counters.blocking_waiting.load() == 1; }));
  const auto early = c->rpc(atom("first"), 200ms);
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().code == client::errc::timeout);

  // Coroutine services go on meanwhile: the I/O threads are free.
  auto echo = f.connect("echo");
  REQUIRE(echo.has_value());
  const auto e = echo->rpc(atom("ping"), 1s);
  REQUIRE(e.has_value());
  CHECK(*e == atom("ping"));
  CHECK(counters.blocking_running.load() == 2);

  // When a worker frees up, the waiting handler runs and answers.
  CHECK(slow_a.get().value() == atom("a"));
  CHECK(slow_b.get().value() == atom("b"));
  a->close();
  const auto late = c->rpc(atom("second"), 5s);
  REQUIRE(late.has_value());
  CHECK(*late == atom("second"));
  CHECK(counters.blocking_waiting.load() == 0);
}

TEST_CASE("a blocking handler that throws closes its channel with handler_error", "[integration]") {
  server_fixture f;
  auto ch = f.connect("blocking");
  REQUIRE(ch.has_value());
  const auto r = ch->rpc(tuple(atom("throw"), binary::from("disk on fire")), 5s);
  REQUIRE_FALSE(r.has_value());
  CHECK(text::print(closed_reason(*ch)) == R"({handler_error,<<"disk on fire">>})");
  CHECK(f.srv->counters().handler_errors.load() == 1);
  // The next channel of the same service is served.
  auto next = f.connect("blocking");
  REQUIRE(next.has_value());
  CHECK(next->rpc(atom("ok"), 5s).value() == atom("ok"));
}

TEST_CASE("shutdown ends blocking handlers waiting in receive and leaves nothing running", "[integration]") {
  server_fixture f;
  auto ch = f.connect("blocking");
  REQUIRE(ch.has_value());
  REQUIRE(ch->rpc(atom("ready"), 5s).has_value());
  f.shutdown();
  const auto reasons = f.probes->wait_closed(1);
  REQUIRE(reasons.size() == 1);
  CHECK(text::print(reasons[0]) == "{shutdown,server_stopping}");
  const auto& counters = f.srv->counters();
  CHECK(counters.blocking_running.load() == 0);
  CHECK(counters.blocking_waiting.load() == 0);
  CHECK(counters.handlers_running.load() == 0);
  CHECK(text::print(closed_reason(*ch)) == "{shutdown,server_stopping}");
}
