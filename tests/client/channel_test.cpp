// The coroutine client API against the test responder over real sockets on
// 127.0.0.1 (DESIGN.md §3, §5): handshake, key checks, login, rpc, pushes,
// close reasons and limits.
//
// No co_await inside a Catch macro: CHECK/REQUIRE name their expression more
// than once, and GCC 12 evaluates a co_await there each time.
#include <catch2/catch.hpp>

#include "capchan/client/channel.hpp"
#include "capchan/client/password_cache.hpp"
#include "capchan/core/text.hpp"
#include "client_test_support.hpp"
#include "test_responder.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using client::errc;
using test::client_fixture;
using test::run_coroutine;
using test::test_responder;
namespace asio = boost::asio;

namespace {

const term& pushed(const client::incoming& in) {
  REQUIRE(std::holds_alternative<client::push>(in));
  return std::get<client::push>(in).message;
}

const term& closed_with(const client::incoming& in) {
  REQUIRE(std::holds_alternative<client::chan_closed>(in));
  return std::get<client::chan_closed>(in).reason;
}

}  // namespace

TEST_CASE("connect, rpc, cast, push and close over a real socket", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    CHECK(ch->is_open());
    CHECK(ch->server_fingerprint() == server.fingerprint());
    CHECK(ch->service() == "svc");

    auto v = co_await ch->rpc(tuple(atom("echo"), 42), 5s);
    REQUIRE(v);
    CHECK(*v == term(tuple(atom("echo"), 42)));

    auto cast = co_await ch->cast(tuple(atom("push_back"), atom("hello")));
    REQUIRE(cast);
    auto hello = co_await ch->receive();
    CHECK(pushed(hello) == term(atom("hello")));

    auto none = co_await ch->receive_for(10ms);
    CHECK_FALSE(none);

    co_await ch->close();
    CHECK_FALSE(ch->is_open());
    CHECK(ch->close_reason() == term(atom("normal")));
    auto end = co_await ch->receive();
    CHECK(closed_with(end) == term(atom("normal")));
    auto end_again = co_await ch->receive();  // every time
    CHECK(closed_with(end_again) == term(atom("normal")));

    auto after = co_await ch->rpc(atom("x"), 1s);
    REQUIRE_FALSE(after);
    CHECK(after.error().code == errc::closed);
    CHECK(after.error().reason == term(atom("normal")));
    auto cast_after = co_await ch->cast(atom("x"));
    REQUIRE_FALSE(cast_after);
    CHECK(cast_after.error().code == errc::closed);
  });
  CHECK(server.logins() == 1);
  // Trust on first use: one loud note, and the key recorded.
  REQUIRE(f.notes.size() == 1);
  CHECK_THAT(f.notes[0], Catch::Contains("first connection to 127.0.0.1:" + std::to_string(server.port())));
  CHECK_THAT(f.notes[0], Catch::Contains(server.fingerprint()));
  CHECK_THAT(f.notes[0], Catch::Contains((f.dir / "known_hosts").string()));
  CHECK_THAT(test::read_file(f.dir / "known_hosts"),
             Catch::Contains("127.0.0.1:" + std::to_string(server.port()) + " " + server.fingerprint()));
}

TEST_CASE("the server key: known_hosts then strict, --key must match", "[client]") {
  test_responder server;
  client_fixture f;
  const std::string where = "127.0.0.1:" + std::to_string(server.port());
  run_coroutine([&]() -> asio::awaitable<void> {
    // First use records, second use matches without a note.
    for (int i = 0; i < 2; ++i) {
      auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
      REQUIRE_RESULT(ch);
      co_await ch->close();
    }
    CHECK(f.notes.size() == 1);

    // A recorded key that differs: refused, with the file and line to fix.
    test::write_file(f.dir / "known_hosts", where + " SHA256:someoneElsesKeyxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n");
    auto changed = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_FALSE(changed.has_value());
    CHECK(changed.error().code == errc::server_key_mismatch);
    CHECK_THAT(changed.error().message(), Catch::Contains("remove line 1 from '" + (f.dir / "known_hosts").string() + "'"));
    CHECK(server.logins() == 2);  // nothing was sent to the server after its key

    // A given key wins over known_hosts and leaves it alone.
    auto o = f.options();
    o.key = server.fingerprint();
    auto given = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
    REQUIRE_RESULT(given);
    co_await given->close();
    o.key = "SHA256:notTheRightKeyxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    auto wrong = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == errc::server_key_mismatch);
    CHECK_THAT(wrong.error().message(), Catch::Contains("--key"));

    // The same through a capchan:// URL with ?key=.
    auto url = client::parse_url("capchan://" + where + "/svc?key=" + server.fingerprint());
    REQUIRE(url);
    auto o2 = f.options();
    o2.known_hosts = f.dir / "untouched";
    auto by_url = co_await client::connect(*url, "secret", term(), o2);
    REQUIRE_RESULT(by_url);
    co_await by_url->close();
    CHECK_FALSE(std::filesystem::exists(f.dir / "untouched"));
  });
}

TEST_CASE("login failures: wrong password, unknown service, a server without the password", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto wrong = co_await client::connect("127.0.0.1", server.port(), "svc", "not it", term(), f.options());
    REQUIRE_FALSE(wrong.has_value());
    CHECK(wrong.error().code == errc::auth_failed);
    CHECK_THAT(wrong.error().message(), Catch::Contains("unknown service or wrong password"));
    auto unknown = co_await client::connect("127.0.0.1", server.port(), "nope", "secret", term(), f.options());
    REQUIRE_FALSE(unknown.has_value());
    CHECK(unknown.error().code == errc::auth_failed);
  });
  CHECK(server.logins() == 0);

  test_responder impostor(test::responder_options{.forge_welcome = true});
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", impostor.port(), "svc", "secret", term(), f.options());
    REQUIRE_FALSE(ch.has_value());
    CHECK(ch.error().code == errc::auth_failed);
    CHECK_THAT(ch.error().message(), Catch::Contains("did not prove that it knows the password"));
  });
}

TEST_CASE("connection failures: nothing listening, not capchan, no subprotocol, too slow", "[client]") {
  client_fixture f;
  test_responder refusing(test::responder_options{.refuse_upgrade = true});
  test_responder no_subprotocol(test::responder_options{.answer_subprotocol = false});
  test_responder stalling(test::responder_options{.stall = true});
  run_coroutine([&]() -> asio::awaitable<void> {
    auto nothing = co_await client::connect("127.0.0.1", test::unused_port(), "svc", "secret", term(), f.options());
    REQUIRE_FALSE(nothing.has_value());
    CHECK(nothing.error().code == errc::connection_refused);
    CHECK_THAT(nothing.error().message(), Catch::Contains("nothing listens on 127.0.0.1:"));

    auto refused = co_await client::connect("127.0.0.1", refusing.port(), "svc", "secret", term(), f.options());
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code == errc::connection_refused);
    CHECK_THAT(refused.error().message(), Catch::Contains("HTTP 400"));

    auto bare = co_await client::connect("127.0.0.1", no_subprotocol.port(), "svc", "secret", term(), f.options());
    REQUIRE_FALSE(bare.has_value());
    CHECK(bare.error().code == errc::protocol_error);
    CHECK_THAT(bare.error().message(), Catch::Contains("capchan.v1"));

    auto o = f.options();
    o.handshake_timeout = 200ms;
    const auto start = std::chrono::steady_clock::now();
    auto slow = co_await client::connect("127.0.0.1", stalling.port(), "svc", "secret", term(), o);
    REQUIRE_FALSE(slow.has_value());
    CHECK(slow.error().code == errc::timeout);
    CHECK(std::chrono::steady_clock::now() - start < 5s);
  });
}

TEST_CASE("ArgsC reaches the server and is the empty list when none is given", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto plain = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(plain);
    auto none = co_await plain->rpc(atom("args"), 5s);
    CHECK(none.value() == term());
    co_await plain->close();
    const term args = tuple(atom("user"), charlist("joe"));
    auto with = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", args, f.options());
    REQUIRE_RESULT(with);
    auto given = co_await with->rpc(atom("args"), 5s);
    CHECK(given.value() == args);
    co_await with->close();
  });
}

TEST_CASE("many rpcs in flight on one channel each get their own reply", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    std::vector<asio::awaitable<void>> tasks;
    int answered = 0;
    for (int i = 0; i < 64; ++i) {
      tasks.push_back([](client::channel& c, int n, int& count) -> asio::awaitable<void> {
        auto v = co_await c.rpc(tuple(atom("n"), n), 10s);
        REQUIRE(v);
        CHECK(*v == term(tuple(atom("n"), n)));
        ++count;
      }(*ch, i, answered));
    }
    co_await test::all_of(std::move(tasks));
    CHECK(answered == 64);
    co_await ch->close();
  });
}

TEST_CASE("a timed-out rpc leaves the channel usable and its late reply is dropped", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    auto held = co_await ch->rpc(atom("hold"), 100ms);
    REQUIRE_FALSE(held);
    CHECK(held.error().code == errc::timeout);
    CHECK(ch->is_open());
    // The server now answers the held call and this one in one message,
    // the late reply first: lib_chan would hand `held` to this rpc.
    auto released = co_await ch->rpc(atom("release"), 5s);
    REQUIRE(released);
    CHECK(*released == term(atom("released")));
    auto after = co_await ch->rpc(atom("after"), 5s);
    CHECK(after.value() == term(atom("after")));
    co_await ch->close();
    CHECK(ch->close_reason() == term(atom("normal")));
  });
}

TEST_CASE("{fail, Id, Reason} is a remote error carrying the reason", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    const term reason = tuple(atom("handler_error"), binary::from("boom"));
    auto r = co_await ch->rpc(tuple(atom("fail"), reason), 5s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::remote_error);
    CHECK(r.error().reason == reason);
    CHECK_THAT(r.error().message(), Catch::Contains("{handler_error,<<\"boom\">>}"));
    CHECK(ch->is_open());
    co_await ch->close();
  });
}

TEST_CASE("the server's {close, Reason} ends the channel and fails pending rpcs with it", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    const term why = tuple(atom("shutdown"), atom("server_stopping"));
    std::vector<asio::awaitable<void>> tasks;
    tasks.push_back([](client::channel& c, term why) -> asio::awaitable<void> {
      auto r = co_await c.rpc(atom("hold"), client::no_timeout);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::closed);
      CHECK(r.error().reason == why);
    }(*ch, why));
    tasks.push_back([](client::channel& c, term why) -> asio::awaitable<void> {
      auto first = co_await c.rpc(atom("first"), 5s);  // answered: hold is in
      CHECK(first.value() == term(atom("first")));
      auto r = co_await c.rpc(tuple(atom("close"), why), 5s);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::closed);
      CHECK(r.error().reason == why);
    }(*ch, why));
    co_await test::all_of(std::move(tasks));
    auto end = co_await ch->receive();
    CHECK(closed_with(end) == why);
    CHECK_FALSE(ch->is_open());
    CHECK(ch->close_reason() == why);
    co_await ch->close();  // already ended: just waits
  });
}

TEST_CASE("a dropped TCP connection is `disconnected`", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    auto r = co_await ch->rpc(atom("drop"), 5s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::closed);
    CHECK(r.error().reason == term(atom("disconnected")));
    auto end = co_await ch->receive();
    CHECK(closed_with(end) == term(atom("disconnected")));
  });
}

TEST_CASE("idle_timeout: a server that stops answering ends the channel with `timeout`", "[client]") {
  test_responder server;
  client_fixture f;
  auto o = f.options();
  o.idle_timeout = 300ms;  // pings at 150 ms, gives up at 300 ms without a byte
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
    REQUIRE_RESULT(ch);
    // Idle but answering pings: the channel stays up past the timeout.
    asio::steady_timer pause(co_await asio::this_coro::executor, 600ms);
    co_await pause.async_wait(asio::use_awaitable);
    CHECK(ch->is_open());
    auto r = co_await ch->rpc(atom("stall"), client::no_timeout);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::closed);
    CHECK(r.error().reason == term(atom("timeout")));
  });
}

TEST_CASE("a server that breaks the protocol gets {protocol_error, Text}", "[client]") {
  test_responder server;
  client_fixture f;
  for (const char* what : {"bad_id", "garbage"}) {
    run_coroutine([&]() -> asio::awaitable<void> {
      auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
      REQUIRE_RESULT(ch);
      auto r = co_await ch->rpc(atom(what), 5s);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::closed);
      // result::error() returns a copy: keep it while pointing into it.
      const term reason = r.error().reason;
      INFO(text::print(reason));
      const term* tag = reason.element(0);
      REQUIRE(tag);
      CHECK(tag->is_atom("protocol_error"));
      CHECK_THAT(std::string(reason.element(1)->as_binary()->view()),
                 Catch::Contains(std::string_view(what) == "bad_id" ? "never sent" : "undecodable"));
      co_await ch->close();
    });
  }
  // The server is still there for a well-behaved client.
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    auto ok = co_await ch->rpc(atom("ok"), 5s);
    CHECK(ok.value() == term(atom("ok")));
    co_await ch->close();
  });
}

TEST_CASE("pushes arrive in order, also several in one message", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    auto ok = co_await ch->rpc(tuple(atom("push"), 5), 5s);
    CHECK(ok.value() == term(atom("ok")));
    for (int i = 1; i <= 5; ++i) {
      auto in = co_await ch->receive();
      CHECK(pushed(in) == term(tuple(atom("push"), i)));
    }
    co_await ch->close();
  });
}

TEST_CASE("max_pushes: with the push queue full the client stops reading", "[client]") {
  test_responder server;
  client_fixture f;
  auto o = f.options();
  o.max_pushes = 3;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
    REQUIRE_RESULT(ch);
    // Ten pushes, one message each, then the reply: with three untaken
    // pushes the reader pauses, so the reply is not read in time.
    auto r = co_await ch->rpc(tuple(atom("push_each"), 10), 300ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::timeout);
    // Taking pushes resumes reading; all ten arrive, in order.
    for (int i = 1; i <= 10; ++i) {
      auto in = co_await ch->receive();
      CHECK(pushed(in) == term(tuple(atom("push"), i)));
    }
    // The late `ok` was dropped; the channel works.
    auto next = co_await ch->rpc(atom("next"), 5s);
    CHECK(next.value() == term(atom("next")));
    co_await ch->close();
  });
}

TEST_CASE("max_message: too large to send is refused, too large to receive closes", "[client]") {
  test_responder server;
  client_fixture f;
  auto o = f.options();
  o.max_message = 1024;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
    REQUIRE_RESULT(ch);
    const term big = binary(std::vector<std::uint8_t>(2000, 7));
    auto r = co_await ch->rpc(big, 5s);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == errc::message_too_large);
    auto c = co_await ch->cast(big);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == errc::message_too_large);
    const term fits = binary(std::vector<std::uint8_t>(900, 7));
    auto echoed = co_await ch->rpc(fits, 5s);
    CHECK(echoed.value() == fits);

    // 200 pushes in one message are far over 1 KiB.
    auto over = co_await ch->rpc(tuple(atom("push"), 200), 5s);
    REQUIRE_FALSE(over);
    CHECK(over.error().code == errc::closed);
    const term reason = over.error().reason;
    REQUIRE(reason.element(0));
    CHECK(reason.element(0)->is_atom("protocol_error"));
  });
}

TEST_CASE("close() fails the rpcs still pending with `normal`", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    std::vector<asio::awaitable<void>> tasks;
    tasks.push_back([](client::channel& c) -> asio::awaitable<void> {
      auto r = co_await c.rpc(atom("hold"), client::no_timeout);
      REQUIRE_FALSE(r);
      CHECK(r.error().code == errc::closed);
      CHECK(r.error().reason == term(atom("normal")));
    }(*ch));
    tasks.push_back([](client::channel& c) -> asio::awaitable<void> {
      auto x = co_await c.rpc(atom("x"), 5s);  // answered: hold is in
      CHECK(x.value() == term(atom("x")));
      co_await c.close();
    }(*ch));
    co_await test::all_of(std::move(tasks));
  });
}

TEST_CASE("a channel dropped without close() still closes and leaves no work", "[client]") {
  test_responder server;
  client_fixture f;
  run_coroutine([&]() -> asio::awaitable<void> {
    auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), f.options());
    REQUIRE_RESULT(ch);
    auto x = co_await ch->rpc(atom("x"), 5s);
    CHECK(x.value() == term(atom("x")));
  });
  // run_coroutine returned: the I/O coroutines ended on their own.
  SUCCEED();
}

TEST_CASE("a shared password cache lets reconnects skip argon2id", "[client]") {
  test_responder server;
  client_fixture f;
  auto o = f.options();
  o.passwords = std::make_shared<client::password_cache>();
  run_coroutine([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto ch = co_await client::connect("127.0.0.1", server.port(), "svc", "secret", term(), o);
      REQUIRE_RESULT(ch);
      co_await ch->close();
    }
  });
  CHECK(server.logins() == 3);
  CHECK(o.passwords->derivations() == 1);
  CHECK(o.passwords->hits() == 2);
}
