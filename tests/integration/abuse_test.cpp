// Abuse of a running server (DESIGN.md §3 "Bad input", §4 limits): each test
// sends what a client must not, checks the answer and the counter of the limit
// it hit, then checks that a well-behaved client is still served.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>
#include <future>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "capchan/core/etf.hpp"
#include "raw_peer.hpp"
#include "server_fixture.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using capchan::test::eventually;
using capchan::test::server_fixture;
namespace asio = boost::asio;

namespace {

constexpr std::uint16_t close_protocol_error = 1002;
constexpr std::uint16_t close_unsupported_data = 1003;
constexpr std::uint16_t close_too_big = 1009;

// The well-behaved client every abuse test ends with: it logs in and its
// rpc gets its own answer.
void check_served(const server_fixture& f) {
  auto ch = f.connect("echo");
  REQUIRE(ch.has_value());
  const term question = tuple(atom("still"), atom("served"));
  const auto answer = ch->rpc(question, 5s);
  REQUIRE(answer.has_value());
  CHECK(*answer == question);
}

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

// The close code the server ended the WebSocket with (the test fails if it
// ended it without a close frame).
std::uint16_t close_code(test::raw_channel& raw) {
  const auto m = raw.read_until_closed();
  INFO("the read ended with: " << m.ec.message());
  REQUIRE(m.close_code != 0);
  return m.close_code;
}

// The close reason the one probe handler of a test saw.
term probe_closed(const server_fixture& f) {
  const auto reasons = f.probes->wait_closed(1);
  REQUIRE(reasons.size() == 1);
  return reasons[0];
}

// A raw channel logged in to the "probe" service.
std::unique_ptr<test::raw_channel> probe_channel(const server_fixture& f, int receive_buffer = 0) {
  auto raw = std::make_unique<test::raw_channel>(f.port, receive_buffer);
  REQUIRE(raw->handshake());
  const auto answer = raw->login("probe", "secret");
  REQUIRE(answer.has_value());
  REQUIRE(std::holds_alternative<frames::welcome>(*answer));
  return raw;
}

// The plaintext of `{call, Id, <<...>>}` whose record (plaintext and tag) is
// exactly `record_size` bytes.
std::vector<std::uint8_t> call_of_record_size(std::int64_t id, std::size_t record_size) {
  std::vector<std::uint8_t> probe;
  frames::encode_to(probe, frames::call{id, binary()});
  const std::size_t payload = record_size - crypto::noise::tag_len - probe.size();
  std::vector<std::uint8_t> out;
  frames::encode_to(out, frames::call{id, binary(std::vector<std::uint8_t>(payload, 0x42))});
  REQUIRE(out.size() + crypto::noise::tag_len == record_size);
  return out;
}

// This process's resident set, from /proc/self/statm.
std::size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

}  // namespace

TEST_CASE("bytes that are not HTTP end that connection, are counted, and the server goes on", "[abuse]") {
  server_fixture f;
  auto before = f.connect("echo");
  REQUIRE(before.has_value());

  // The first bytes of a TLS ClientHello, then noise.
  const std::string tls("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
  const auto answer = test::http_exchange(f.port, tls + std::string(200, '\xff'));
  REQUIRE(answer.has_value());  // the server hung up
  CHECK(answer->empty());       // without a word
  // Request headers over the server's 8 KiB limit.
  const auto oversized =
      test::http_exchange(f.port, "GET /healthz HTTP/1.1\r\nX-Fill: " + std::string(10'000, 'a') + "\r\n\r\n");
  REQUIRE(oversized.has_value());
  CHECK(oversized->find("200 OK") == std::string::npos);

  const auto& m = f.srv->counters();
  CHECK(eventually([&] { return m.http_bad_requests.load() == 2; }));
  CHECK(m.http_requests.load() == 0);
  // The channel opened before is untouched.
  CHECK(before->rpc(atom("before"), 5s).value() == term(atom("before")));
  check_served(f);
}

TEST_CASE("HTTP to another path gets 404, an upgrade without capchan.v1 gets 400, /healthz answers", "[abuse]") {
  server_fixture f;
  const auto not_found = test::http_get(f.port, "/admin");
  REQUIRE(not_found.has_value());
  CHECK_THAT(*not_found, Catch::StartsWith("HTTP/1.1 404"));

  const auto health = test::http_get(f.port, "/healthz");
  REQUIRE(health.has_value());
  CHECK_THAT(*health, Catch::StartsWith("HTTP/1.1 200") && Catch::EndsWith("\r\n\r\nok\n"));

  const auto no_subprotocol = test::http_exchange(f.port,
                                                  "GET /capchan HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                  "Sec-WebSocket-Version: 13\r\n\r\n");
  REQUIRE(no_subprotocol.has_value());
  CHECK_THAT(*no_subprotocol, Catch::StartsWith("HTTP/1.1 400") && Catch::Contains("capchan.v1"));

  // /metrics counts itself too.
  const auto metrics = test::http_get(f.port, "/metrics");
  REQUIRE(metrics.has_value());
  CHECK_THAT(*metrics, Catch::StartsWith("HTTP/1.1 200") && Catch::Contains("\ncapchan_http_requests_total 4\n"));
  check_served(f);
}

TEST_CASE("a text WebSocket message gets close 1003 before and after login", "[abuse]") {
  server_fixture f;
  {
    test::raw_channel raw(f.port);
    REQUIRE(raw.write(bytes_of("hello"), true));
    CHECK(close_code(raw) == close_unsupported_data);
  }
  auto raw = probe_channel(f);
  REQUIRE(raw->write(bytes_of("{call, 1, hello}"), true));
  CHECK(close_code(*raw) == close_unsupported_data);
  CHECK(probe_closed(f) == frames::protocol_error("text message"));
  CHECK(f.srv->counters().protocol_errors.load() == 2);
  check_served(f);
}

TEST_CASE("a message over the size limit gets close 1009 before and after login", "[abuse]") {
  config::limits_config limits;
  limits.max_message = 64 * 1024;
  server_fixture f(limits);
  const auto& m = f.srv->counters();
  {
    // Before welcome the limit is 4 KiB: 4096 bytes are read (and refused
    // as a Noise message 1), 4097 are not read at all.
    test::raw_channel at_limit(f.port);
    REQUIRE(at_limit.write(std::vector<std::uint8_t>(4096, 0x5a)));
    CHECK(close_code(at_limit) == close_protocol_error);
    test::raw_channel over(f.port);
    CHECK(over.write_refused(std::vector<std::uint8_t>(4097, 0x5a)) == close_too_big);
    // Counted once Beast's read, which sent the close, returns to the session.
    CHECK(eventually([&] { return m.messages_too_big.load() == 1; }));
  }
  auto raw = probe_channel(f);
  // After welcome: a record of exactly max_message is served ...
  raw->send_plaintext(call_of_record_size(1, limits.max_message));
  const auto reply = raw->read_frames();
  REQUIRE(reply.has_value());
  REQUIRE(reply->size() == 1);
  REQUIRE(std::holds_alternative<frames::reply>(reply->front()));
  CHECK(std::get<frames::reply>(reply->front()).id == 1);
  // ... one byte more is not.
  const auto over = raw->seal_plaintext(call_of_record_size(2, limits.max_message + 1));
  CHECK(raw->write_refused(over) == close_too_big);
  CHECK(probe_closed(f) == frames::protocol_error("message over max_message"));
  CHECK(m.messages_too_big.load() == 2);
  CHECK(m.rpcs.load() == 1);
  check_served(f);
}

TEST_CASE("garbage after the Noise handshake closes that channel only", "[abuse]") {
  server_fixture f;
  auto bystander = f.connect("probe");
  REQUIRE(bystander.has_value());
  REQUIRE(bystander->rpc(atom("before"), 5s).has_value());
  const std::vector<std::uint8_t> garbage(100, 0xa5);
  {
    // Before login.
    test::raw_channel raw(f.port);
    REQUIRE(raw.handshake());
    REQUIRE(raw.write(garbage));
    CHECK(close_code(raw) == close_protocol_error);
  }
  // After login: no capchan frame comes back (the peer is not trusted), only
  // the WebSocket close.
  auto raw = probe_channel(f);
  REQUIRE(raw->write(garbage));
  const auto next = raw->read();
  CHECK(next.ec);  // the first read ends the connection: no message came before the close
  CHECK(next.close_code == close_protocol_error);
  CHECK(probe_closed(f) == frames::protocol_error("record failed authentication"));
  CHECK(f.srv->counters().decrypt_failures.load() == 2);

  // The other channel goes on.
  CHECK(bystander->rpc(atom("after"), 5s).value() == term(atom("after")));
  CHECK(bystander->is_open());
  CHECK(f.probes->wait_closed(2, 0ms).size() == 1);
  check_served(f);
}

TEST_CASE("a replayed or reordered record is refused and closes the channel with protocol_error", "[abuse]") {
  server_fixture f;
  auto raw = probe_channel(f);
  SECTION("replayed") {
    const auto record = raw->send_frame(frames::call{1, atom("once")});
    const auto reply = raw->read_frames();
    REQUIRE(reply.has_value());
    REQUIRE(reply->size() == 1);
    REQUIRE(std::holds_alternative<frames::reply>(reply->front()));
    CHECK(std::get<frames::reply>(reply->front()).message == term(atom("once")));
    REQUIRE(raw->write(record));  // the same ciphertext again
  }
  SECTION("reordered") {
    const auto first = raw->seal(frames::call{1, atom("first")});  // never sent
    const auto second = raw->seal(frames::call{2, atom("second")});
    REQUIRE(raw->write(second));
  }
  const auto next = raw->read();
  CHECK(next.ec);  // the first read ends the connection: no message came before the close
  CHECK(next.close_code == close_protocol_error);
  CHECK(probe_closed(f) == frames::protocol_error("record failed authentication"));
  const auto& m = f.srv->counters();
  CHECK(m.decrypt_failures.load() == 1);
  CHECK(m.rpcs.load() <= 1);  // nothing after the bad record reached the handler
  check_served(f);
}

TEST_CASE("an authentic peer that breaks the protocol is told why, then closed with 1002", "[abuse]") {
  server_fixture f;
  auto raw = probe_channel(f);
  std::string expected;
  SECTION("undecodable ETF") {
    const std::vector<std::uint8_t> not_etf = {131, 255, 1, 2, 3};
    raw->send_plaintext(not_etf);
    expected = "undecodable frame";
  }
  SECTION("a term that is no frame") {
    raw->send_plaintext(etf::encode(tuple(atom("hello"), atom("world"))));
    expected = "";
  }
  SECTION("a login frame after welcome") {
    raw->send_frame(frames::login{"probe"});
    expected = "frame out of phase";
  }
  SECTION("a call Id that is not a positive integer") {
    raw->send_plaintext(etf::encode(tuple(atom("call"), 0, atom("x"))));
    expected = "";
  }
  SECTION("a call Id already in flight") {
    raw->send_frame(frames::call{7, tuple(atom("sleep"), 200, atom("a"))});
    raw->send_frame(frames::call{7, atom("b")});
    expected = "call Id 7 is already in flight";
  }
  const auto told = raw->read_frames();
  REQUIRE(told.has_value());
  REQUIRE(told->size() == 1);
  const auto* close = std::get_if<frames::close>(&told->front());
  REQUIRE(close != nullptr);
  const auto* reason = close->reason.as_tuple();
  REQUIRE(reason != nullptr);
  REQUIRE(reason->elements.size() == 2);
  CHECK(reason->elements[0] == term(atom("protocol_error")));
  REQUIRE(reason->elements[1].is_binary());
  CHECK_THAT(std::string(reason->elements[1].as_binary()->view()), Catch::StartsWith(expected));
  CHECK(close_code(*raw) == close_protocol_error);
  CHECK(probe_closed(f) == close->reason);
  CHECK(f.srv->counters().protocol_errors.load() == 1);
  check_served(f);
}

TEST_CASE("a Noise message 1 that is no usable key gets close 1002", "[abuse]") {
  server_fixture f;
  test::raw_channel raw(f.port);
  // The all-zero X25519 point: Diffie-Hellman with it gives no secret.
  REQUIRE(raw.write(std::vector<std::uint8_t>(crypto::noise::message_1_len, 0)));
  CHECK(close_code(raw) == close_protocol_error);
  CHECK(f.srv->counters().protocol_errors.load() == 1);
  check_served(f);
}

TEST_CASE("1000 connections that never finish the handshake: max_handshakes and handshake_timeout hold",
          "[abuse]") {
  config::limits_config limits;
  limits.max_handshakes = 16;
  limits.handshake_timeout = 500ms;
  server_fixture f(limits);
  const auto& m = f.srv->counters();

  asio::io_context ioc;
  const asio::ip::tcp::endpoint server(asio::ip::make_address("127.0.0.1"), f.port);
  const std::string_view unfinished = "GET /capchan HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  std::vector<asio::ip::tcp::socket> stalled;
  stalled.reserve(1000);
  std::int64_t most_in_progress = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    auto& s = stalled.emplace_back(ioc);
    s.connect(server);
    boost::system::error_code ec;  // a refused connection may be reset already
    asio::write(s, asio::buffer(unfinished), ec);
    most_in_progress = std::max(most_in_progress, m.handshakes_in_progress.load());
  }
  const auto connected = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return m.connections_total.load() == 1000; }));

  // At the door: never more than 16 unauthenticated connections; the rest
  // are refused and counted. Slots free up only by timing out, at most
  // once per handshake_timeout each.
  CHECK(most_in_progress <= 16);
  const auto periods = 1 + (connected - started) / limits.handshake_timeout;
  CHECK(m.rejected_max_handshakes.load() >= static_cast<std::uint64_t>(1000 - 16 * periods));
  // Every connection that got a slot times out, none of them early.
  REQUIRE(eventually([&] { return m.handshakes_in_progress.load() == 0; }));
  CHECK(std::chrono::steady_clock::now() - started >= limits.handshake_timeout);
  CHECK(m.rejected_max_handshakes.load() + m.handshake_timeouts.load() == 1000);
  CHECK(m.handshake_timeouts.load() >= 16);
  CHECK(m.handshakes_ok.load() == 0);

  // The good client logs in right after, while the stalled sockets are still
  // open on their side, and /metrics shows what happened.
  check_served(f);
  const auto metrics = test::http_get(f.port, "/metrics");
  REQUIRE(metrics.has_value());
  CHECK_THAT(*metrics, Catch::Contains("\ncapchan_rejected_max_handshakes_total " +
                                       std::to_string(m.rejected_max_handshakes.load()) + "\n"));
  CHECK_THAT(*metrics, Catch::Contains("\ncapchan_handshake_timeouts_total " +
                                       std::to_string(m.handshake_timeouts.load()) + "\n"));
}

TEST_CASE("max_connections refuses the connection over it, counted", "[abuse]") {
  config::limits_config limits;
  limits.max_connections = 3;
  server_fixture f(limits);
  const auto& m = f.srv->counters();
  auto a = f.connect("echo");
  auto b = f.connect("echo");
  REQUIRE((a.has_value() && b.has_value()));
  test::raw_tcp third(f.port);
  REQUIRE(eventually([&] { return m.connections_open.load() == 3; }));
  test::raw_tcp fourth(f.port);
  CHECK(fourth.read_to_end().has_value());  // hung up on at once
  CHECK(m.rejected_max_connections.load() == 1);
  a->close();
  REQUIRE(eventually([&] { return m.connections_open.load() == 2; }));
  check_served(f);
}

TEST_CASE("a client that never reads is closed with {overload, outbox} and the outbox stays bounded", "[abuse]") {
  config::limits_config limits;
  limits.outbox = 256 * 1024;
  server_fixture f(limits);
  const auto& m = f.srv->counters();
  // 128 KiB of pushes per request: a client that reads keeps up.
  const term request = tuple(atom("push"), 8, binary(std::vector<std::uint8_t>(16 * 1024, 0x42)));
  {
    auto reader = f.connect("probe");
    REQUIRE(reader.has_value());
    for (int i = 0; i < 16; ++i) {
      REQUIRE(reader->rpc(request, 5s).value() == tuple(atom("ok"), 8));
      for (int j = 0; j < 8; ++j) {
        const auto in = reader->receive_for(5s);
        REQUIRE(in.has_value());
        REQUIRE(std::holds_alternative<client::push>(*in));
      }
    }
    CHECK(reader->is_open());
  }
  REQUIRE(f.probes->wait_closed(1).at(0) == term(atom("normal")));
  CHECK(m.overload_closes.load() == 0);

  // A client that asks for pushes and never reads them (a small receive
  // buffer, so the kernel does not read for it for long).
  const auto resident_before = resident_bytes();
  auto raw = probe_channel(f, 4096);
  int requests = 0;
  const bool overloaded = eventually(
      [&] {
        raw->send_frame(frames::cast{request});
        ++requests;
        return f.probes->wait_closed(2, 0ms).size() == 2;
      },
      10s);
  REQUIRE(overloaded);
  INFO(requests << " requests of 128 KiB");
  CHECK(f.probes->wait_closed(2).at(1) == tuple(atom("overload"), atom("outbox")));
  CHECK(m.overload_closes.load() == 1);
  // The outbox of one connection never held more than the limit, and the
  // bytes it held are released.
  CHECK(m.outbox_peak_bytes.load() <= static_cast<std::int64_t>(limits.outbox));
  CHECK(m.outbox_peak_bytes.load() > static_cast<std::int64_t>(limits.outbox / 2));
  CHECK(eventually([&] { return m.outbox_bytes.load() == 0; }));
  const auto resident_after = resident_bytes();
  CHECK(resident_after < resident_before + 16 * 1024 * 1024);
  check_served(f);
}

TEST_CASE("a full mailbox stops reading that socket and is counted", "[abuse]") {
  config::limits_config limits;
  limits.mailbox = 4;
  server_fixture f(limits);
  auto ch = f.connect("probe");
  REQUIRE(ch.has_value());
  // The handler sleeps on the first call while 20 more queue up behind it.
  auto slow = ch->async_rpc(tuple(atom("sleep"), 200, atom("slow")), 5s);
  std::vector<std::future<client::result<term>>> queued;
  for (int i = 0; i < 20; ++i) queued.push_back(ch->async_rpc(tuple(atom("n"), i), 5s));
  CHECK(slow.get().value() == term(atom("slow")));
  for (int i = 0; i < 20; ++i) CHECK(queued[static_cast<std::size_t>(i)].get().value() == tuple(atom("n"), i));
  CHECK(f.srv->counters().mailbox_full.load() > 0);
  check_served(f);
}

TEST_CASE("a peer that stops answering is closed at idle_timeout, counted", "[abuse]") {
  config::limits_config limits;
  limits.idle_timeout = 300ms;
  server_fixture f(limits);
  auto raw = probe_channel(f);  // logs in, then never reads: no pong ever comes
  CHECK(probe_closed(f) == term(atom("timeout")));
  CHECK(f.srv->counters().idle_timeouts.load() == 1);
  check_served(f);
}

TEST_CASE("a peer that never answers the close cannot hold shutdown past the grace period", "[abuse]") {
  server_fixture f;  // the close handshake may take handshake_timeout: 10 s
  auto raw = probe_channel(f);  // logs in, then never reads
  const auto started = std::chrono::steady_clock::now();
  f.shutdown(200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < 5s);
  CHECK(probe_closed(f) == tuple(atom("shutdown"), atom("server_stopping")));
  const auto& m = f.srv->counters();
  CHECK(m.connections_open.load() == 0);
  CHECK(m.channels_open.load() == 0);
  CHECK(m.handlers_running.load() == 0);
}

TEST_CASE("a flood of wrong passwords is refused and counted, then the right one logs in", "[abuse]") {
  server_fixture f;
  constexpr int workers = 4, per_worker = 50;
  std::vector<std::future<int>> refused;
  for (int w = 0; w < workers; ++w) {
    refused.push_back(std::async(std::launch::async, [&f, w] {
      int n = 0;
      for (int i = 0; i < per_worker; ++i) {
        auto wrong = f.connect("nameServer", "guess-" + std::to_string(w) + "-" + std::to_string(i));
        if (!wrong && wrong.error().code == client::errc::auth_failed) ++n;
      }
      return n;
    }));
  }
  int total = 0;
  for (auto& r : refused) total += r.get();
  CHECK(total == workers * per_worker);
  const auto& m = f.srv->counters();
  CHECK(m.auth_failed.load() == workers * per_worker);
  CHECK(eventually([&] { return m.connections_open.load() == 0 && m.handshakes_in_progress.load() == 0; }));

  auto good = f.connect("nameServer");
  REQUIRE(good.has_value());
  CHECK(good->rpc(tuple(atom("lookup"), atom("joe")), 5s).value() == term(atom("undefined")));
  CHECK(m.handshakes_ok.load() == 1);
}
