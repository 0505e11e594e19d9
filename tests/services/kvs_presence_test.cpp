// Presence (docs/kvs.md "Presence"): ephemeral keys that go with their
// channel, however it ends, and leases that expire without keepalives.
#include <signal.h>

#include <catch2/catch.hpp>

#include "kvs_fixture.hpp"
#include "process.hpp"

using namespace capchan;
using namespace capchan::test;

namespace {

// Pushes until the delete of `key` (those before it are returned too).
std::vector<term> until_deleted(client::sync::channel& w, const term& key,
                                std::chrono::milliseconds limit) {
  std::vector<term> seen;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    seen.push_back(next_push(w, std::max(left, std::chrono::milliseconds(1))));
    const auto& e = seen.back().as_tuple()->elements;
    if (e.at(2) == term(atom("delete")) && e.at(3) == key) return seen;
  }
}

}  // namespace

TEST_CASE("kvs presence: an ephemeral key goes, with an event, when its channel closes", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto w = s.connect();
  REQUIRE(call(w, parse(R"({watch, <<"node/">>})")) == parse("{ok, 0}"));
  auto node = s.connect();
  auto other = s.connect();
  REQUIRE(call(node, parse(R"({put, <<"node/a">>, up, #{ephemeral => true}})")) ==
          term(atom("ok")));
  REQUIRE(call(node, parse(R"({put, <<"node/durable">>, up})")) == term(atom("ok")));
  // A key that an ephemeral put of `node` took over from `other` goes with `node`.
  REQUIRE(call(other, parse(R"({put, <<"node/b">>, other})")) == term(atom("ok")));
  REQUIRE(call(node, parse(R"({put, <<"node/b">>, up, #{ephemeral => true}})")) ==
          term(atom("ok")));
  // ... and one it made durable again stays.
  REQUIRE(call(node, parse(R"({put, <<"node/c">>, up, #{ephemeral => true}})")) ==
          term(atom("ok")));
  REQUIRE(call(other, parse(R"({put, <<"node/c">>, other})")) == term(atom("ok")));
  CHECK(show(call(other, parse(R"({lookup, <<"node/a">>})"))) == "{ok,up}");
  node.close();
  std::vector<term> deletes;
  for (const auto& e : until_deleted(w, binary::from("node/b"), 10s)) {
    if (e.as_tuple()->elements.at(2) == term(atom("delete")))
      deletes.push_back(e.as_tuple()->elements.at(3));
  }
  // Deleted in key order, in one go.
  CHECK(deletes == std::vector<term>{binary::from("node/a"), binary::from("node/b")});
  CHECK(show(call(other, parse(R"({list, <<"node/">>})"))) ==
        R"({ok,[{<<"node/c">>,other},{<<"node/durable">>,up}],done})");
}

TEST_CASE("kvs presence: a SIGKILLed client's ephemeral key is deleted within the idle timeout",
          "[kvs]") {
  scratch_dir dir;
  config::limits_config limits;
  limits.idle_timeout = 2s;
  kvs_server s(dir.path(), kvs_args(), limits);
  auto w = s.connect();
  REQUIRE(call(w, parse("{watch, '_'}")) == parse("{ok, 0}"));
  child_process client(
      {CAPCHAN_KVS_TEST_CLIENT, std::to_string(s.port()), s.fingerprint(), "{node, 42}"});
  REQUIRE(client.read_line() == std::optional<std::string>("registered"));
  CHECK(show(next_push(w)) == "{kvs,1,put,{node,42},alive}");
  ::kill(client.pid(), SIGKILL);
  CHECK(client.wait() == -1);
  const auto start = std::chrono::steady_clock::now();
  CHECK(show(next_push(w, 2s + 1s)) == "{kvs,2,delete,{node,42}}");
  CHECK(std::chrono::steady_clock::now() - start < 3s);
}

TEST_CASE("kvs presence: keepalives hold a lease, and its keys go when they stop", "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto w = s.connect();
  auto node = s.connect();
  REQUIRE(call(w, parse("{watch, '_'}")) == parse("{ok, 0}"));
  const term granted = call(node, parse("{lease_grant, 1000}"));
  REQUIRE(granted.as_tuple()->elements.at(0) == term(atom("ok")));
  const term id = granted.as_tuple()->elements.at(1);
  REQUIRE(call(node, tuple(atom("put"), atom("svc1"), atom("up"), map{{atom("lease"), id}})) ==
          term(atom("ok")));
  REQUIRE(call(node, tuple(atom("cas"), atom("svc2"), atom("undefined"), atom("up"),
                           map{{atom("lease"), id}})) == term(atom("ok")));
  REQUIRE(call(node, parse("{put, plain, up}")) == term(atom("ok")));
  // Keepalives for two TTLs: the keys stay.
  for (int i = 0; i < 10; ++i) {
    REQUIRE(call(node, tuple(atom("lease_keepalive"), id)) == term(atom("ok")));
    std::this_thread::sleep_for(200ms);  // the time that passes is the point of this test
  }
  CHECK(show(call(node, parse("{lookup, svc1}"))) == "{ok,up}");
  // The lease is not the channel's: closing it changes nothing.
  node.close();
  // Without keepalives it ends: its keys are deleted, the others stay.
  std::vector<term> pushes = until_deleted(w, atom("svc2"), 10s);
  CHECK(show(pushes.at(0)) == "{kvs,1,put,svc1,up}");
  CHECK(show(pushes.at(1)) == "{kvs,2,put,svc2,up}");
  CHECK(show(pushes.at(2)) == "{kvs,3,put,plain,up}");
  CHECK(show(pushes.at(3)) == "{kvs,4,delete,svc1}");
  CHECK(show(pushes.at(4)) == "{kvs,5,delete,svc2}");
  auto ch = s.connect();
  CHECK(show(call(ch, parse("{list, '_'}"))) == "{ok,[{plain,up}],done}");
  CHECK(call(ch, tuple(atom("lease_keepalive"), id)) ==
        tuple(atom("error"), tuple(atom("no_lease"), id)));
  CHECK(call(ch, tuple(atom("put"), atom("late"), 1, map{{atom("lease"), id}})) ==
        tuple(atom("error"), tuple(atom("no_lease"), id)));
}

TEST_CASE("kvs presence: revoking a lease deletes its keys at once, and ids are not reused",
          "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto ch = s.connect();
  const term first = call(ch, parse("{lease_grant, 60000}")).as_tuple()->elements.at(1);
  REQUIRE(call(ch, tuple(atom("put"), atom("a"), 1, map{{atom("lease"), first}})) ==
          term(atom("ok")));
  REQUIRE(call(ch, tuple(atom("lease_revoke"), first)) == term(atom("ok")));
  CHECK(show(call(ch, parse("{lookup, a}"))) == "undefined");
  CHECK(call(ch, tuple(atom("lease_revoke"), first)) ==
        tuple(atom("error"), tuple(atom("no_lease"), first)));
  const term second = call(ch, parse("{lease_grant, 60000}")).as_tuple()->elements.at(1);
  CHECK(*second.as_int64() > *first.as_int64());
}

TEST_CASE("kvs presence: a lease survives a restart with a fresh TTL, then expires", "[kvs]") {
  scratch_dir dir;
  term id;
  {
    kvs_server s(dir.path(), kvs_args());
    auto ch = s.connect();
    id = call(ch, parse("{lease_grant, 1500}")).as_tuple()->elements.at(1);
    REQUIRE(call(ch, tuple(atom("put"), atom("svc"), atom("up"), map{{atom("lease"), id}})) ==
            term(atom("ok")));
    REQUIRE(call(ch, parse("{put, eph, up, #{ephemeral => true}}")) == term(atom("ok")));
  }
  // Down for longer than the TTL: the clients could not have renewed it.
  std::this_thread::sleep_for(1600ms);
  kvs_server s(dir.path(), kvs_args());
  auto w = s.connect();
  // The ephemeral key went with its channel at shutdown; the leased one is still here.
  REQUIRE(call(w, parse("{watch, '_', 1}")) == parse("{ok, 3}"));
  CHECK(show(next_push(w)) == "{kvs,1,put,svc,up}");
  CHECK(show(next_push(w)) == "{kvs,2,put,eph,up}");
  CHECK(show(next_push(w)) == "{kvs,3,delete,eph}");
  auto ch = s.connect();
  CHECK(call(ch, tuple(atom("lease_keepalive"), id)) == term(atom("ok")));
  CHECK(show(next_push(w, 10s)) == "{kvs,4,delete,svc}");
}
