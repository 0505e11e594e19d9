// What an eavesdropper and the server's log get to see (DESIGN.md §3 login:
// the password never leaves the client; §4 logging: never a password, proof
// or key). A relay between client and server records every byte; the log goes
// to a string at trace level.
#include <catch2/catch.hpp>

#include <sstream>

#include <spdlog/sinks/ostream_sink.h>

#include "capchan/config/verifier.hpp"
#include "capchan/core/hex.hpp"
#include "raw_peer.hpp"
#include "server_fixture.hpp"
#include "tcp_relay.hpp"

using namespace capchan;
using namespace std::chrono_literals;
using capchan::test::server_fixture;

namespace {

std::string as_text(const std::vector<std::uint8_t>& bytes) { return {bytes.begin(), bytes.end()}; }

// Standard base64 of a 32-byte key, as the verifier string writes it.
std::string base64_of_key(const std::vector<std::uint8_t>& key) {
  REQUIRE(key.size() == 32);
  config::verifier v;
  std::copy(key.begin(), key.end(), v.stored_key.begin());
  const std::string text = config::format_verifier(v);  // ...$<Salt>$<StoredKey>$<ServerKey>
  const auto end = text.rfind('$');
  const auto begin = text.rfind('$', end - 1) + 1;
  return text.substr(begin, end - begin);
}

// The forms a secret could leak in: its bytes, hex and base64.
std::vector<std::string> leak_forms(const std::vector<std::uint8_t>& secret) {
  return {as_text(secret), hex::encode(secret), base64_of_key(secret)};
}

}  // namespace

TEST_CASE("neither password nor proof appears on the wire or in the log, and payloads are encrypted", "[wire]") {
  const std::string password = "Zq7-correct-horse-battery-staple-X93";
  const std::string wrong_password = "Wr0ng-tuba-canary-password-81";
  const std::string payload = "PLAINTEXT-CANARY-d41d8cd98f00b204";
  std::ostringstream log;  // outlives the server that writes to it
  test::fixture_options options;
  options.password = password;
  options.log_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  options.log_level = "trace";
  server_fixture f(options);
  test::tcp_relay relay(f.port);

  // The client library through the relay: a wrong password, then the right
  // one with an rpc, a cast and the push it causes.
  auto wrong = client::sync::connect("127.0.0.1", relay.port(), "echo", wrong_password, term(), f.options());
  REQUIRE_FALSE(wrong.has_value());
  CHECK(wrong.error().code == client::errc::auth_failed);
  auto ch = client::sync::connect("127.0.0.1", relay.port(), "echo", password, term(), f.options());
  REQUIRE(ch.has_value());
  CHECK(ch->rpc(binary::from(payload), 5s).value() == term(binary::from(payload)));
  REQUIRE(ch->cast(tuple(atom("note"), binary::from(payload))).has_value());
  const auto pushed = ch->receive_for(5s);
  REQUIRE(pushed.has_value());
  CHECK(std::get<client::push>(*pushed).message == tuple(atom("note"), binary::from(payload)));
  ch->close();

  // A login driven by hand through the relay, to know the proof it sent.
  test::login_secrets secrets;
  {
    test::raw_channel raw(relay.port());
    REQUIRE(raw.handshake());
    const auto answer = raw.login("probe", password);
    REQUIRE(answer.has_value());
    REQUIRE(std::holds_alternative<frames::welcome>(*answer));
    raw.send_frame(frames::call{1, binary::from(payload)});
    const auto reply = raw.read_frames();
    REQUIRE(reply.has_value());
    secrets = raw.secrets();
  }
  REQUIRE(f.probes->wait_closed(1).size() == 1);

  f.shutdown();  // nothing writes to the log after this
  const std::string wire = relay.client_to_server() + relay.server_to_client();
  const std::string server_log = log.str();
  // The capture and the log are real: the upgrade goes in clear, and the
  // logins are logged.
  REQUIRE_THAT(wire, Catch::Contains("capchan.v1"));
  CHECK(wire.size() > 1000);
  REQUIRE_THAT(server_log, Catch::Contains("authenticated service=echo"));
  REQUIRE_THAT(server_log, Catch::Contains("auth failed service="));

  std::vector<std::pair<std::string, std::string>> secret_forms = {
      {"password", password}, {"wrong password", wrong_password}};
  for (const auto& [name, bytes] : {std::pair{"proof", secrets.client_proof},
                                    std::pair{"salted password", secrets.salted_password},
                                    std::pair{"stored key", secrets.stored_key}}) {
    for (auto& form : leak_forms(bytes)) secret_forms.emplace_back(name, form);
  }
  for (const auto& [name, form] : secret_forms) {
    INFO(name << ": " << hex::encode(std::span(reinterpret_cast<const std::uint8_t*>(form.data()), form.size())));
    CHECK(wire.find(form) == std::string::npos);
    CHECK(server_log.find(form) == std::string::npos);
  }
  CHECK(wire.find(payload) == std::string::npos);
}
