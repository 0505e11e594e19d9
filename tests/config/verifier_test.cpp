// Verifier strings (DESIGN.md §3) survive a round trip and damage is refused.
#include <catch2/catch.hpp>

#include "capchan/config/verifier.hpp"

using namespace capchan::config;

TEST_CASE("verifier strings round trip", "[config]") {
  verifier v;
  for (std::size_t i = 0; i < v.salt.size(); ++i) v.salt[i] = static_cast<std::uint8_t>(i);
  for (std::size_t i = 0; i < 32; ++i) {
    v.stored_key[i] = static_cast<std::uint8_t>(0xA0 + i);
    v.server_key[i] = static_cast<std::uint8_t>(0x10 * (i % 16));
  }
  v.ops_limit = 2;
  v.mem_limit = 67108864;
  const std::string text = format_verifier(v);
  // Salt 00..0f in standard padded base64.
  CHECK_THAT(text, Catch::StartsWith("scram-argon2id$v=1$t=2,m=67108864$AAECAwQFBgcICQoLDA0ODw==$"));
  const auto back = parse_verifier(text);
  REQUIRE(back.has_value());
  CHECK(*back == v);
}

TEST_CASE("damaged verifier strings are refused with the part named", "[config]") {
  verifier v;
  const std::string good = format_verifier(v);
  CHECK(parse_verifier(good).has_value());
  auto error_of = [](std::string_view text) {
    auto r = parse_verifier(text);
    REQUIRE_FALSE(r.has_value());
    return r.error();
  };
  CHECK_THAT(error_of("scram-sha256$v=1$..."), Catch::Contains("does not start with"));
  CHECK_THAT(error_of(good.substr(0, good.rfind('$'))), Catch::Contains("expected 4 fields"));
  CHECK_THAT(error_of("scram-argon2id$v=1$t=x,m=1$a$b$c"), Catch::Contains("t=<OpsLimit>"));
  std::string short_salt = good;
  short_salt.replace(short_salt.find("AAAAAAAAAAAAAAAAAAAAAA=="), 24, "AAAA");
  CHECK_THAT(error_of(short_salt), Catch::Contains("salt"));
  CHECK_THAT(error_of(good + "AA"), Catch::Contains("ServerKey"));
}
