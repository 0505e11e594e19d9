// Server and client together over real sockets on 127.0.0.1 (DESIGN.md §3–§5):
// the book's name-server session, authentication failures, many rpcs in
// flight, rpc timeouts, close reasons on both sides, and shutdown.
#include <catch2/catch.hpp>

#include <future>
#include <set>

#include "capchan/core/text.hpp"
#include "server_fixture.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using capchan::test::closed_reason;
using capchan::test::server_fixture;

TEST_CASE("the book's name-server session through the C++ API", "[integration]") {
  server_fixture f;
  auto ch = f.connect("nameServer");
  REQUIRE(ch.has_value());
  REQUIRE(ch->cast(tuple(atom("store"), atom("joe"), charlist("writing a book"))).has_value());
  const auto joe = ch->rpc(tuple(atom("lookup"), atom("joe")), 5s);
  REQUIRE(joe.has_value());
  CHECK(text::print(*joe) == R"({ok,"writing a book"})");
  const auto jim = ch->rpc(tuple(atom("lookup"), atom("jim")), 5s);
  REQUIRE(jim.has_value());
  CHECK(text::print(*jim) == "undefined");

  // One store per service entry, shared by its channels.
  auto other = f.connect("nameServer");
  REQUIRE(other.has_value());
  CHECK(text::print(other->rpc(tuple(atom("lookup"), atom("joe")), 5s).value()) == R"({ok,"writing a book"})");
}

TEST_CASE("wrong password and unknown service fail alike and the server goes on", "[integration]") {
  server_fixture f;
  auto wrong = f.connect("nameServer", "not the password");
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == client::errc::auth_failed);
  auto unknown = f.connect("noSuchService", "secret");
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == client::errc::auth_failed);
  // The server's answer is the same; the client's message names what it asked for.
  CHECK_THAT(wrong.error().message(), Catch::StartsWith("authentication failed: unknown service or wrong password"));
  CHECK_THAT(unknown.error().message(), Catch::StartsWith("authentication failed: unknown service or wrong password"));
  CHECK(wrong.error().reason == unknown.error().reason);
  CHECK(f.srv->counters().auth_failed.load() == 2);

  auto good = f.connect("echo");
  REQUIRE(good.has_value());
  CHECK(good->rpc(atom("ping"), 5s).value() == term(atom("ping")));
}

TEST_CASE("100 rpcs in flight on one channel each get their own answer", "[integration]") {
  server_fixture f;
  auto ch = f.connect("echo");
  REQUIRE(ch.has_value());
  std::vector<std::future<client::result<term>>> pending;
  for (int i = 0; i < 100; ++i) pending.push_back(ch->async_rpc(tuple(atom("n"), i), 10s));
  for (int i = 0; i < 100; ++i) {
    auto r = pending[static_cast<std::size_t>(i)].get();
    REQUIRE(r.has_value());
    CHECK(*r == tuple(atom("n"), i));
  }
  CHECK(f.srv->counters().rpcs.load() == 100);
}

TEST_CASE("after an rpc timeout the next rpc gets its own reply", "[integration]") {
  server_fixture f;
  auto ch = f.connect("probe");
  REQUIRE(ch.has_value());
  const auto slow = ch->rpc(tuple(atom("sleep"), 300, atom("late")), 50ms);
  REQUIRE_FALSE(slow.has_value());
  CHECK(slow.error().code == client::errc::timeout);
  // The late reply arrives while this rpc waits; it must not be taken for it.
  const auto next = ch->rpc(tuple(atom("sleep"), 600, atom("mine")), 5s);
  REQUIRE(next.has_value());
  CHECK(*next == term(atom("mine")));
  CHECK(ch->is_open());
}

TEST_CASE("the handler sees normal when the client closes", "[integration]") {
  server_fixture f;
  auto ch = f.connect("probe");
  REQUIRE(ch.has_value());
  REQUIRE(ch->rpc(atom("hello"), 5s).has_value());
  ch->close();
  CHECK(ch->close_reason() == term(atom("normal")));
  const auto reasons = f.probes->wait_closed(1);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0] == term(atom("normal")));
}

TEST_CASE("a handler that throws closes its channel with handler_error", "[integration]") {
  server_fixture f;
  auto ch = f.connect("probe");
  REQUIRE(ch.has_value());
  auto r = ch->rpc(tuple(atom("throw"), binary::from("boom")), 5s);
  REQUIRE_FALSE(r.has_value());
  INFO(r.error().message());
  CHECK(closed_reason(*ch) == tuple(atom("handler_error"), binary::from("boom")));
  CHECK(f.srv->counters().handler_errors.load() == 1);
  // Only that channel: the server goes on.
  auto good = f.connect("probe");
  REQUIRE(good.has_value());
  CHECK(good->rpc(atom("still here"), 5s).has_value());
}

TEST_CASE("pushes reach the client in order", "[integration]") {
  server_fixture f;
  auto ch = f.connect("echo");
  REQUIRE(ch.has_value());
  CHECK(ch->rpc(tuple(atom("push"), 50, atom("x")), 5s).value() == tuple(atom("ok"), 50));
  for (int i = 0; i < 50; ++i) {
    auto in = ch->receive_for(5s);
    REQUIRE(in.has_value());
    REQUIRE(std::holds_alternative<client::push>(*in));
    CHECK(std::get<client::push>(*in).message == term(atom("x")));
  }
}

TEST_CASE("shutdown closes channels with {shutdown, server_stopping} and leaves nothing alive", "[integration]") {
  server_fixture f;
  auto a = f.connect("probe");
  auto b = f.connect("nameServer");
  REQUIRE((a.has_value() && b.has_value()));
  REQUIRE(a->rpc(atom("hi"), 5s).has_value());
  f.shutdown();
  const term stopping = tuple(atom("shutdown"), atom("server_stopping"));
  CHECK(closed_reason(*a) == stopping);
  CHECK(closed_reason(*b) == stopping);
  CHECK(f.probes->wait_closed(1).at(0) == stopping);
  const auto& m = f.srv->counters();
  CHECK(m.connections_open.load() == 0);
  CHECK(m.channels_open.load() == 0);
  CHECK(m.handlers_running.load() == 0);
  CHECK(m.handshakes_in_progress.load() == 0);
}
