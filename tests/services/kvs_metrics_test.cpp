// What the kvs store shows of itself (docs/kvs.md "Metrics"): its families
// in the server's /metrics, scraped over HTTP, and a cast write the disk
// refuses, which closes its channel and is counted.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

#include "kvs_fixture.hpp"

using namespace capchan;
using namespace capchan::test;

namespace {

// GET /metrics from 127.0.0.1:port over plain TCP; the body. The server
// answers one request and closes; a read that waits 10 s fails the test.
std::string scrape(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval limit{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const bool sent = connected && ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
                                     static_cast<ssize_t>(request.size());
  std::string answer;
  char buffer[4096];
  ssize_t n = 0;
  while (sent && (n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, n);
  ::close(fd);
  REQUIRE(sent);
  REQUIRE(n == 0);  // the server closed: the whole answer is here
  REQUIRE(answer.starts_with("HTTP/1.1 200"));
  const auto body = answer.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  return answer.substr(body + 4);
}

// The samples of a Prometheus text page, "name{labels}" -> value, and how
// many times each family's TYPE line appears.
struct exposition {
  std::map<std::string, std::int64_t> samples;
  std::map<std::string, int> types;
};

exposition parse_exposition(const std::string& text) {
  exposition e;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with("# TYPE ")) {
      e.types[line.substr(7, line.find(' ', 7) - 7)]++;
      continue;
    }
    if (line.empty() || line.starts_with("#")) continue;
    const auto space = line.rfind(' ');
    REQUIRE(space != std::string::npos);
    e.samples[line.substr(0, space)] = std::stoll(line.substr(space + 1));
  }
  return e;
}

// `name` of the service "kvs".
std::string kvs_sample(const std::string& name) {
  return "capchan_" + name + "{service=\"kvs\"}";
}

std::int64_t stat_of(client::sync::channel& ch, const char* name) {
  const term reply = call(ch, atom("stats"));
  const term* v = reply.as_tuple()->elements.at(1).as_map()->find(term(atom(name)));
  REQUIRE(v);
  return *v->as_int64();
}

}  // namespace

TEST_CASE("kvs metrics: /metrics shows each kvs store's revision, keys, commits and watchers",
          "[kvs]") {
  scratch_dir dir;
  // Two kvs entries: each family once, with a sample per service.
  auto config = kvs_config(dir.path(), kvs_args());
  auto second = config.services.front();
  second.name = "kvs \"two\"";  // a label value that needs escaping
  second.args = kvs_args({}, "two.db");
  config.services.push_back(second);
  kvs_server s(config);
  auto ch = s.connect();
  for (int i = 0; i < 20; ++i) REQUIRE(call(ch, tuple(atom("put"), i, i)) == term(atom("ok")));
  REQUIRE(call(ch, parse("{delete, 3}")) == term(atom("ok")));
  REQUIRE(call(ch, parse("{put, 4, again}")) == term(atom("ok")));  // a key replaced, not added
  REQUIRE(call(ch, parse("{lease_grant, 60000}")).as_tuple()->elements.at(0) == term(atom("ok")));
  auto w = s.connect();
  REQUIRE(call(w, parse("{put, node, up, #{ephemeral => true}}")) == term(atom("ok")));
  REQUIRE(call(w, parse("{watch, '_'}")) == parse("{ok, 23}"));

  const auto m = parse_exposition(scrape(s.port()));
  CHECK(m.samples.at(kvs_sample("kvs_revision")) == 23);
  CHECK(m.samples.at(kvs_sample("kvs_keys")) == 20);  // 20 puts, 1 delete, 1 ephemeral
  CHECK(m.samples.at(kvs_sample("kvs_watchers")) == 1);
  CHECK(m.samples.at(kvs_sample("kvs_leases")) == 1);
  CHECK(m.samples.at(kvs_sample("kvs_queued")) == 0);
  // Every write and the watch went through the writer; each answered after a commit.
  CHECK(m.samples.at(kvs_sample("kvs_requests_total")) == 25);
  CHECK(m.samples.at(kvs_sample("kvs_transactions_total")) >= 1);
  CHECK(m.samples.at(kvs_sample("kvs_transactions_total")) <= 26);  // + the start's
  CHECK(m.samples.at(kvs_sample("kvs_largest_batch")) >= 1);
  CHECK(m.samples.at(kvs_sample("kvs_failed_transactions_total")) == 0);
  CHECK(m.samples.at(kvs_sample("kvs_failed_casts_total")) == 0);
  // The same numbers as the stats request.
  CHECK(m.samples.at(kvs_sample("kvs_transactions_total")) == stat_of(ch, "transactions"));
  CHECK(stat_of(ch, "keys") == 20);
  // The second store: empty, and its name escaped.
  CHECK(m.samples.at(R"(capchan_kvs_keys{service="kvs \"two\""})") == 0);
  CHECK(m.samples.at(R"(capchan_kvs_revision{service="kvs \"two\""})") == 0);
  for (const char* family : {"kvs_revision", "kvs_keys", "kvs_requests_total"})
    CHECK(m.types.at(std::string("capchan_") + family) == 1);
  // The server's own counters are still there.
  CHECK(m.samples.count("capchan_channels_open") == 1);

  // The end of `w` deletes its ephemeral key and ends its watch in one
  // transaction: once the delete's event is out, both are counted.
  auto probe = s.connect();
  REQUIRE(call(probe, parse("{watch, '_'}")) == parse("{ok, 23}"));
  w.close();
  CHECK(show(next_push(probe)) == "{kvs,24,delete,node}");
  const auto after = parse_exposition(scrape(s.port()));
  CHECK(after.samples.at(kvs_sample("kvs_keys")) == 19);
  CHECK(after.samples.at(kvs_sample("kvs_revision")) == 24);
  CHECK(after.samples.at(kvs_sample("kvs_watchers")) == 1);  // probe's
}

TEST_CASE("kvs: a cast whose write the disk refuses closes its channel with the reason, counted",
          "[kvs]") {
  scratch_dir dir;
  kvs_server s(dir.path(), kvs_args());
  auto other = s.connect();
  REQUIRE(call(other, parse("{put, before, 1}")) == term(atom("ok")));
  // A real refusal from SQLite inside the store's transaction: another
  // program adds a trigger to the live file that aborts writes of one key.
  sqlite_exec(dir.path() / "kvs.db",
              "CREATE TRIGGER refuse_poison BEFORE INSERT ON kv "
              "WHEN NEW.name = CAST('poison' AS BLOB) "
              "BEGIN SELECT RAISE(ABORT, 'the test refuses this key'); END;");

  auto caster = s.connect();
  REQUIRE(caster.cast(parse("{store, poison, 1}")).has_value());
  const auto in = caster.receive_for(10s);
  REQUIRE(in.has_value());
  const auto* closed = std::get_if<client::chan_closed>(&*in);
  REQUIRE(closed);
  INFO(show(closed->reason));
  const auto* reason = closed->reason.as_tuple();
  REQUIRE(reason);
  REQUIRE(reason->elements.size() == 2);
  CHECK(reason->elements[0] == term(atom("kvs_error")));
  const auto* failure = reason->elements[1].as_tuple();
  REQUIRE(failure);
  CHECK(failure->elements.at(0) == term(atom("store_failed")));
  REQUIRE(failure->elements.at(1).as_binary());
  CHECK_THAT(std::string(failure->elements.at(1).as_binary()->view()),
             Catch::Contains("the test refuses this key"));
  CHECK_FALSE(caster.is_open());

  // Nothing of it was applied; a call gets the same failure as its reply;
  // every other write goes on.
  CHECK(call(other, parse("{lookup, poison}")) == term(atom("undefined")));
  const term refused = call(other, parse("{put, poison, 2}"));
  CHECK_THAT(show(refused), Catch::StartsWith("{error,{storage,<<\""));
  CHECK(other.is_open());
  CHECK(call(other, parse("{put, later, 2}")) == term(atom("ok")));
  CHECK(stat_of(other, "failed_casts") == 1);
  CHECK(stat_of(other, "failed_transactions") == 2);
  const auto m = parse_exposition(scrape(s.port()));
  CHECK(m.samples.at(kvs_sample("kvs_failed_casts_total")) == 1);
  CHECK(m.samples.at(kvs_sample("kvs_failed_transactions_total")) == 2);
  CHECK(m.samples.at(kvs_sample("kvs_keys")) == 2);
}
