// The kvs service's requests over real channels, with a real SQLite file
// (docs/kvs.md "Requests"): the book's store/lookup, put, delete, list
// paging and prefixes, cas under a race, watch across reconnects, bad
// requests.
#include <catch2/catch.hpp>

#include <future>
#include <set>

#include "kvs_fixture.hpp"

using namespace capchan;
using namespace capchan::test;

namespace {

term key_n(int i) {
  return binary::from("node/" + std::to_string(1000 + i));
}

}  // namespace

TEST_CASE("kvs: the book's store and lookup, and a lookup after a store on one channel sees it",
          "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto ch = s.connect();
  REQUIRE(ch.cast(parse(R"({store, joe, "writing a book"})")).has_value());
  CHECK(show(call(ch, parse("{lookup, joe}"))) == R"({ok,"writing a book"})");
  CHECK(show(call(ch, parse("{lookup, jim}"))) == "undefined");
  // Casts are not acknowledged, yet the next lookup on the channel sees each one.
  for (int i = 0; i < 200; ++i) {
    REQUIRE(ch.cast(tuple(atom("store"), i, tuple(atom("v"), i))).has_value());
    REQUIRE(call(ch, tuple(atom("lookup"), i)) == tuple(atom("ok"), tuple(atom("v"), i)));
  }
  // Another channel of the same entry shares the store.
  auto other = s.connect();
  CHECK(show(call(other, parse("{lookup, joe}"))) == R"({ok,"writing a book"})");
  CHECK(std::filesystem::exists(dir.path() / "kvs.db"));
}

TEST_CASE("kvs: put, delete, and keys compared exactly", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto ch = s.connect();
  CHECK(call(ch, parse("{put, 1, int}")) == term(atom("ok")));
  CHECK(call(ch, parse("{put, 1.0, float}")) == term(atom("ok")));
  CHECK(call(ch, parse(R"({put, "joe", string})")) == term(atom("ok")));
  CHECK(call(ch, parse(R"({put, <<"joe">>, binary})")) == term(atom("ok")));
  CHECK(call(ch, parse("{put, #{a => [1, {2}]}, map}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, 1}"))) == "{ok,int}");
  CHECK(show(call(ch, parse("{lookup, 1.0}"))) == "{ok,float}");
  CHECK(show(call(ch, parse(R"({lookup, "joe"})"))) == "{ok,string}");
  CHECK(show(call(ch, parse(R"({lookup, <<"joe">>})"))) == "{ok,binary}");
  CHECK(show(call(ch, parse("{lookup, joe}"))) == "undefined");
  CHECK(show(call(ch, parse("{lookup, #{a => [1, {2}]}}"))) == "{ok,map}");
  CHECK(call(ch, parse("{delete, 1}")) == term(atom("ok")));
  CHECK(call(ch, parse("{delete, 1}")) == term(atom("ok")));  // absent: still ok
  CHECK(show(call(ch, parse("{lookup, 1}"))) == "undefined");
  CHECK(show(call(ch, parse("{lookup, 1.0}"))) == "{ok,float}");
  // A put replaces.
  CHECK(call(ch, parse("{put, 1.0, again}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, 1.0}"))) == "{ok,again}");
}

TEST_CASE("kvs: list pages through a prefix, kind by kind, with a continuation", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"max_page", term(10)}}));
  auto ch = s.connect();
  for (int i = 0; i < 25; ++i)
    REQUIRE(call(ch, tuple(atom("put"), key_n(i), i)) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, <<"nod">>, short})")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, <<"other">>, x})")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, "node/x", string})")) == term(atom("ok")));
  REQUIRE(call(ch, parse("{put, node_atom, atom}")) == term(atom("ok")));
  REQUIRE(call(ch, parse("{put, {node, 1}, tuple}")) == term(atom("ok")));

  // limit 7 (below max_page), following {more, LastK}.
  std::vector<term> seen;
  term request = parse(R"({list, <<"node/">>, #{limit => 7}})");
  int pages = 0;
  for (;;) {
    const term page = call(ch, request);
    const auto& e = page.as_tuple()->elements;
    REQUIRE(e.at(0) == term(atom("ok")));
    const auto items = e.at(1).as_list()->elements();
    CHECK(items.size() <= 7);
    for (const auto& item : items) seen.push_back(item);
    ++pages;
    if (e.at(2) == term(atom("done"))) break;
    const term last = e.at(2).as_tuple()->elements.at(1);
    CHECK(last == items.back().as_tuple()->elements.at(0));
    request =
        tuple(atom("list"), binary::from("node/"), map{{atom("limit"), 7}, {atom("after"), last}});
  }
  CHECK(pages == 4);
  REQUIRE(seen.size() == 25);
  for (int i = 0; i < 25; ++i) CHECK(seen[static_cast<std::size_t>(i)] == tuple(key_n(i), i));

  // A limit above max_page gets max_page.
  const term capped = call(ch, parse(R"({list, <<"node/">>, #{limit => 1000}})"));
  CHECK(capped.as_tuple()->elements.at(1).as_list()->size() == 10);
  CHECK(capped.as_tuple()->elements.at(2).as_tuple()->elements.at(0) == term(atom("more")));

  // Prefixes select by kind.
  CHECK(show(call(ch, parse(R"({list, "no"})"))) == R"({ok,[{"node/x",string}],done})");
  CHECK(show(call(ch, parse("{list, node}"))) == "{ok,[{node_atom,atom}],done}");
  CHECK(show(call(ch, parse(R"({list, <<"o">>})"))) == "{ok,[{<<\"other\">>,x}],done}");
  CHECK(show(call(ch, parse(R"({list, <<"zz">>})"))) == "{ok,[],done}");
  CHECK(show(call(ch, parse(R"({list, <<"nod">>, #{limit => 2}})"))) ==
        R"({ok,[{<<"nod">>,short},{<<"node/1000">>,0}],{more,<<"node/1000">>}})");

  // '_' lists everything: atoms, strings, binaries, then the rest.
  std::vector<term> all;
  term next = parse("{list, '_'}");
  for (;;) {
    const term page = call(ch, next);
    const auto& e = page.as_tuple()->elements;
    for (const auto& item : e.at(1).as_list()->elements())
      all.push_back(item.as_tuple()->elements.at(0));
    if (e.at(2) == term(atom("done"))) break;
    next = tuple(atom("list"), atom("_"), map{{atom("after"), e.at(2).as_tuple()->elements.at(1)}});
  }
  REQUIRE(all.size() == 30);
  CHECK(all.front() == term(atom("node_atom")));
  CHECK(all[1] == parse(R"("node/x")"));
  CHECK(all[2] == parse(R"(<<"nod">>)"));
  CHECK(all.back() == parse("{node, 1}"));

  // Deleted keys leave the listing.
  REQUIRE(call(ch, tuple(atom("delete"), key_n(0))) == term(atom("ok")));
  const term after_delete = call(ch, parse(R"({list, <<"node/">>, #{limit => 1}})"));
  CHECK(after_delete.as_tuple()->elements.at(1) == term(list{tuple(key_n(1), 1)}));
}

TEST_CASE("kvs: a list page is bounded by max_page_bytes but holds at least one item", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"max_page_bytes", term(1000)}}));
  auto ch = s.connect();
  const term big = binary(std::vector<std::uint8_t>(600, 'x'));
  for (int i = 0; i < 3; ++i)
    REQUIRE(call(ch, tuple(atom("put"), key_n(i), big)) == term(atom("ok")));
  const term huge = binary(std::vector<std::uint8_t>(5000, 'y'));
  REQUIRE(call(ch, tuple(atom("put"), binary::from("zzz"), huge)) == term(atom("ok")));
  int pages = 0;
  std::size_t items = 0;
  term request = parse("{list, '_'}");
  for (;;) {
    const term page = call(ch, request);
    const auto& e = page.as_tuple()->elements;
    const auto n = e.at(1).as_list()->size();
    CHECK(n == 1);  // two 600-byte values exceed 1000 bytes; the 5000-byte one comes alone
    items += n;
    ++pages;
    if (e.at(2) == term(atom("done"))) break;
    request =
        tuple(atom("list"), atom("_"), map{{atom("after"), e.at(2).as_tuple()->elements.at(1)}});
  }
  CHECK(items == 4);
  CHECK(pages == 4);
}

TEST_CASE("kvs: cas with undefined for absent, and its conflict answer", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto ch = s.connect();
  CHECK(call(ch, parse("{cas, leader, undefined, a}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{cas, leader, undefined, b}"))) == "{error,{conflict,a}}");
  CHECK(show(call(ch, parse("{cas, leader, b, c}"))) == "{error,{conflict,a}}");
  CHECK(call(ch, parse("{cas, leader, a, c}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, leader}"))) == "{ok,c}");
  // New = undefined deletes; then Current is undefined.
  CHECK(call(ch, parse("{cas, leader, c, undefined}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, leader}"))) == "undefined");
  CHECK(show(call(ch, parse("{cas, leader, c, d}"))) == "{error,{conflict,undefined}}");
  // Exact comparison: 1 is not 1.0.
  CHECK(call(ch, parse("{put, n, 1}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{cas, n, 1.0, 2}"))) == "{error,{conflict,1}}");
}

TEST_CASE("kvs: 10 clients racing cas on one key, exactly one winner per round", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  constexpr int clients = 10, rounds = 30;
  std::vector<client::sync::channel> chans;
  for (int c = 0; c < clients; ++c) chans.push_back(s.connect());
  term expected = atom("undefined");
  for (int r = 0; r < rounds; ++r) {
    std::vector<std::future<client::result<term>>> answers;
    for (int c = 0; c < clients; ++c) {
      answers.push_back(chans[static_cast<std::size_t>(c)].async_rpc(
          tuple(atom("cas"), atom("counter"), expected, tuple(r, c)), 10s));
    }
    int winners = 0;
    term winner;
    std::vector<term> conflicts;
    for (int c = 0; c < clients; ++c) {
      const term reply = answers[static_cast<std::size_t>(c)].get().value();
      if (reply == term(atom("ok"))) {
        ++winners;
        winner = tuple(r, c);
      } else {
        conflicts.push_back(reply);
      }
    }
    REQUIRE(winners == 1);
    // Every loser saw the winner's value.
    for (const auto& reply : conflicts)
      CHECK(reply == tuple(atom("error"), tuple(atom("conflict"), winner)));
    CHECK(call(chans[0], parse("{lookup, counter}")) == tuple(atom("ok"), winner));
    expected = winner;
  }
}

TEST_CASE("kvs: a watcher from revision R sees every later event once, in order, across reconnects",
          "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  // Some history before R.
  std::int64_t from = 0;
  {
    auto w = s.connect();
    for (int i = 0; i < 5; ++i)
      REQUIRE(call(w, tuple(atom("put"), atom("early"), i)) == term(atom("ok")));
    auto probe = s.connect();
    const term ok = call(probe, parse("{watch, '_'}"));
    from = *ok.as_tuple()->elements.at(1).as_int64() + 1;
    CHECK(from == 6);
  }

  // The writer: 6 sessions of 40 changes, each with an ephemeral key that
  // its close deletes; the watcher reconnects twice while it writes.
  constexpr int sessions = 6, per_session = 40;
  std::string writer_error;  // Catch assertions are for the test's own thread
  std::thread writer([&] {
    const auto ok = [](const term& reply) {
      if (reply != term(atom("ok"))) throw std::runtime_error("the writer got " + show(reply));
    };
    try {
      for (int sn = 0; sn < sessions; ++sn) {
        auto w = s.connect();
        ok(call(w, tuple(atom("put"), tuple(atom("presence"), sn), atom("here"),
                         map{{atom("ephemeral"), atom("true")}})));
        for (int i = 0; i < per_session; ++i) {
          const term k = tuple(atom("k"), i % 7);
          ok(call(w, i % 5 == 4 ? tuple(atom("delete"), k) : tuple(atom("put"), k, tuple(sn, i))));
        }
        w.close();
      }
    } catch (const std::exception& e) {
      writer_error = e.what();
    }
  });

  std::vector<term> events;
  std::int64_t next = from;
  const auto take = [&](client::sync::channel& ch) {
    const term e = next_push(ch);
    REQUIRE(*e.as_tuple()->elements.at(1).as_int64() == next);  // in order, none missed, none twice
    ++next;
    events.push_back(e);
    return e;
  };
  for (int reconnect = 0; reconnect < 3; ++reconnect) {
    auto w = s.connect();
    const term ok = call(w, tuple(atom("watch"), atom("_"), next));
    REQUIRE(ok.as_tuple()->elements.at(0) == term(atom("ok")));
    for (int i = 0; i < 60; ++i) take(w);
  }
  writer.join();
  REQUIRE(writer_error.empty());
  {
    // Until the last session's presence key is gone (its channel's end reaches the server).
    auto w = s.connect();
    REQUIRE(call(w, tuple(atom("watch"), atom("_"), next)).as_tuple()->elements.at(0) ==
            term(atom("ok")));
    const term last_presence = tuple(atom("presence"), sessions - 1);
    for (;;) {
      const term e = take(w);
      if (e.as_tuple()->elements.at(2) == term(atom("delete")) &&
          e.as_tuple()->elements.at(3) == last_presence)
        break;
    }
  }
  // Every session's presence key came and went.
  std::set<term> presence_puts, presence_deletes;
  for (const auto& e : events) {
    const auto& el = e.as_tuple()->elements;
    const auto* k = el.at(3).as_tuple();
    if (!k || k->elements.at(0) != term(atom("presence"))) continue;
    (el.at(2) == term(atom("put")) ? presence_puts : presence_deletes).insert(el.at(3));
  }
  CHECK(presence_puts.size() == sessions);
  CHECK(presence_deletes.size() == sessions);

  // The same history, replayed in one go from R, is identical, and ends where we are.
  auto replay = s.connect();
  REQUIRE(call(replay, tuple(atom("watch"), atom("_"), from)) == tuple(atom("ok"), next - 1));
  for (const auto& e : events) CHECK(next_push(replay) == e);
}

TEST_CASE("kvs: watch filters by prefix, refuses a second watch, and unwatch ends it", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto w = s.connect();
  auto ch = s.connect();
  REQUIRE(call(w, parse(R"({watch, <<"svc/">>})")) == parse("{ok, 0}"));
  CHECK(show(call(w, parse("{watch, '_'}"))) == "{error,already_watching}");
  REQUIRE(call(ch, parse(R"({put, <<"other">>, 1})")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, <<"svc/a">>, 2})")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, "svc/a", 3})")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({delete, <<"svc/a">>})")) == term(atom("ok")));
  CHECK(show(next_push(w)) == R"({kvs,2,put,<<"svc/a">>,2})");
  CHECK(show(next_push(w)) == R"({kvs,4,delete,<<"svc/a">>})");
  CHECK(call(w, atom("unwatch")) == term(atom("ok")));
  REQUIRE(call(ch, parse(R"({put, <<"svc/b">>, 5})")) == term(atom("ok")));
  // After unwatch nothing more arrives; a new watch from 5 replays what it missed.
  REQUIRE(call(w, parse(R"({watch, <<"svc/">>, 5})")) == parse("{ok, 5}"));
  CHECK(show(next_push(w)) == R"({kvs,5,put,<<"svc/b">>,5})");
  CHECK_FALSE(w.receive_for(100ms).has_value());
}

TEST_CASE("kvs: a watch from a compacted revision is refused with the oldest one kept", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"history", term(10)}}));
  auto ch = s.connect();
  for (int i = 0; i < 25; ++i)
    REQUIRE(call(ch, tuple(atom("put"), atom("k"), i)) == term(atom("ok")));
  CHECK(show(call(ch, parse("{watch, '_', 15}"))) == "{error,{compacted,16}}");
  CHECK(show(call(ch, parse("{watch, '_', 1}"))) == "{error,{compacted,16}}");
  REQUIRE(call(ch, parse("{watch, '_', 16}")) == parse("{ok, 25}"));
  for (int rev = 16; rev <= 25; ++rev) {
    CHECK(next_push(ch) == tuple(atom("kvs"), rev, atom("put"), atom("k"), rev - 1));
  }
}

TEST_CASE("kvs: bad requests get {error, Reason} and the channel goes on", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"max_ttl", term(binary::from("1m"))}}));
  auto ch = s.connect();
  const auto reason_of = [&](const char* request) {
    const term reply = call(ch, parse(request));
    const auto* t = reply.as_tuple();
    REQUIRE(t);
    REQUIRE(t->elements.size() == 2);
    CHECK(t->elements[0] == term(atom("error")));
    return t->elements[1];
  };
  CHECK(show(reason_of("{frobnicate, 1}")) == "{unknown_request,{frobnicate,1}}");
  CHECK(show(reason_of("hello")) == "{unknown_request,hello}");
  CHECK(show(reason_of("{}")) == "{unknown_request,{}}");
  const auto badarg_text = [&](const char* request) {
    const term reason = reason_of(request);
    REQUIRE(reason.as_tuple());
    CHECK(reason.as_tuple()->elements.at(0) == term(atom("badarg")));
    return std::string(reason.as_tuple()->elements.at(1).as_binary()->view());
  };
  CHECK_THAT(badarg_text("{put, k}"), Catch::StartsWith("put: expected {put, Key, Value}"));
  CHECK_THAT(badarg_text("{put, k, v, ephemeral}"), Catch::Contains("#{ephemeral => true}"));
  CHECK_THAT(badarg_text("{put, k, v, #{lease => 1, ephemeral => true}}"),
             Catch::Contains("not both"));
  CHECK_THAT(badarg_text("{put, k, v, #{lease => -1}}"), Catch::Contains("positive integer"));
  CHECK_THAT(badarg_text("{lookup, a, b}"), Catch::StartsWith("lookup: expected {lookup, Key}"));
  CHECK_THAT(badarg_text("{list, 42}"), Catch::Contains("prefix must be"));
  CHECK_THAT(badarg_text("{list, '_', #{limit => 0}}"), Catch::Contains("limit"));
  CHECK_THAT(badarg_text("{list, '_', #{page => 1}}"),
             Catch::Contains("#{limit => N, after => Key}"));
  CHECK_THAT(badarg_text("{cas, k, v}"), Catch::StartsWith("cas: expected"));
  CHECK_THAT(badarg_text("{watch, '_', -1}"), Catch::Contains(">= 0"));
  CHECK_THAT(badarg_text("{watch, [1, a]}"), Catch::Contains("prefix must be"));
  CHECK_THAT(badarg_text("{lease_grant, 0}"), Catch::Contains("positive integer"));
  CHECK_THAT(badarg_text("{lease_grant, 60001}"), Catch::Contains("1 to 60000 ms"));
  CHECK_THAT(badarg_text("{lease_keepalive, x}"), Catch::Contains("positive integer"));
  CHECK(show(reason_of("{lease_revoke, 99}")) == "{no_lease,99}");
  CHECK(show(reason_of("{put, k, v, #{lease => 99}}")) == "{no_lease,99}");
  // Casts it does not understand are dropped; the channel serves on.
  REQUIRE(ch.cast(parse("{lookup, k}")).has_value());
  REQUIRE(ch.cast(parse("{put, k}")).has_value());
  CHECK(call(ch, parse("{put, k, v}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, k}"))) == "{ok,v}");
  CHECK(ch.is_open());
}

TEST_CASE("kvs: without a path the store lives in memory", "[kvs]") {
  scratch_dir dir;
  {
    kvs_server s(dir.path(), term());
    auto ch = s.connect();
    REQUIRE(ch.cast(parse("{store, joe, book}")).has_value());
    CHECK(show(call(ch, parse("{lookup, joe}"))) == "{ok,book}");
    CHECK(show(call(ch, parse("{list, '_'}"))) == "{ok,[{joe,book}],done}");
  }
  CHECK(std::filesystem::is_empty(dir.path()));
  kvs_server again(dir.path(), term());
  auto ch = again.connect();
  CHECK(show(call(ch, parse("{lookup, joe}"))) == "undefined");
}

TEST_CASE("kvs: every read goes through the writer with readers = 0", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"readers", term(0)}}));
  auto ch = s.connect();
  REQUIRE(call(ch, parse("{put, a, 1}")) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, a}"))) == "{ok,1}");
  CHECK(show(call(ch, parse("{list, a}"))) == "{ok,[{a,1}],done}");
}

namespace {

std::uint64_t stat(client::sync::channel& ch, const char* name) {
  const term reply = call(ch, atom("stats"));
  const term* v = reply.as_tuple()->elements.at(1).as_map()->find(term(atom(name)));
  REQUIRE(v);
  return static_cast<std::uint64_t>(*v->as_int64());
}

}  // namespace

TEST_CASE("kvs: concurrent puts share transactions, at most max_batch each", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"max_batch", term(3)}}));
  std::vector<client::sync::channel> chans;
  for (int c = 0; c < 10; ++c) chans.push_back(s.connect());
  std::vector<std::future<client::result<term>>> answers;
  for (int i = 0; i < 20; ++i) {
    for (int c = 0; c < 10; ++c) {
      answers.push_back(
          chans[static_cast<std::size_t>(c)].async_rpc(tuple(atom("put"), tuple(c, i), i), 20s));
    }
  }
  for (auto& a : answers) REQUIRE(a.get().value() == term(atom("ok")));
  auto& ch = chans[0];
  CHECK(stat(ch, "revision") == 200);
  CHECK(stat(ch, "requests") >= 200);
  CHECK(stat(ch, "largest_batch") <= 3);
  CHECK(stat(ch, "transactions") >= 200 / 3);
  CHECK(stat(ch, "failed_transactions") == 0);
}

TEST_CASE("kvs: a channel has at most max_inflight requests queued in the store", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args({{"max_inflight", term(4)}}));
  auto ch = s.connect();
  std::vector<std::future<client::result<term>>> answers;
  for (int i = 0; i < 100; ++i) answers.push_back(ch.async_rpc(tuple(atom("put"), i, i), 20s));
  for (auto& a : answers) REQUIRE(a.get().value() == term(atom("ok")));
  CHECK(stat(ch, "queued_max") <= 4);
  CHECK(stat(ch, "queued") == 0);
  // The channel served every request, in order.
  CHECK(show(call(ch, parse("{list, '_', #{limit => 2}}"))) == "{ok,[{0,0},{1,1}],{more,1}}");
}
