// capchan:// URL parsing (DESIGN.md §3).
#include <catch2/catch.hpp>

#include "capchan/client/url.hpp"

using namespace capchan::client;

TEST_CASE("a full capchan URL parses into host, port, service and key", "[client]") {
  auto u = parse_url("capchan://example.org:1234/nameServer?key=SHA256:abc-_XYZ");
  REQUIRE(u);
  CHECK(u->host == "example.org");
  CHECK(u->port == 1234);
  CHECK(u->service == "nameServer");
  CHECK(u->key == "SHA256:abc-_XYZ");
  CHECK(u->host_port() == "example.org:1234");
  CHECK(u->to_string() == "capchan://example.org:1234/nameServer?key=SHA256:abc-_XYZ");
}

TEST_CASE("URL without key, with IPv4, IPv6 and a percent-encoded service", "[client]") {
  auto v4 = parse_url("capchan://127.0.0.1:9/kvs");
  REQUIRE(v4);
  CHECK(v4->host == "127.0.0.1");
  CHECK(v4->key.empty());

  auto v6 = parse_url("capchan://[::1]:65535/a%20b%2Fc");
  REQUIRE(v6);
  CHECK(v6->host == "::1");
  CHECK(v6->port == 65535);
  CHECK(v6->service == "a b/c");
  CHECK(v6->host_port() == "[::1]:65535");
  CHECK(v6->to_string() == "capchan://[::1]:65535/a%20b%2Fc");
  CHECK(parse_url(v6->to_string())->service == "a b/c");

  auto upper = parse_url("CAPCHAN://Example.ORG:1/s");
  REQUIRE(upper);
  CHECK(upper->host == "example.org");  // host names are case-insensitive; known_hosts keys are lower case
}

TEST_CASE("malformed URLs are refused with a reason", "[client]") {
  auto refused = [](std::string_view url, std::string_view why) {
    auto u = parse_url(url);
    INFO(url);
    REQUIRE_FALSE(u);
    CHECK(u.error().code == errc::bad_url);
    CHECK_THAT(u.error().message(), Catch::Contains(std::string(why)));
  };
  refused("http://h:1/s", "scheme");
  refused("capchan://h/s", "missing port");
  refused("capchan://h:0/s", "port");
  refused("capchan://h:65536/s", "port");
  refused("capchan://h:12x/s", "port");
  refused("capchan://h:1", "missing /SERVICE");
  refused("capchan://h:1/", "missing service");
  refused("capchan://:1/s", "missing host");
  refused("capchan://::1:1/s", "brackets");
  refused("capchan://[::1/s", "unclosed");
  refused("capchan://user:pw@h:1/s", "passwords never go in URLs");
  refused("capchan://h:1/s?kye=SHA256:x", "unknown query parameter 'kye'");
  refused("capchan://h:1/s?key=abc", "fingerprint");
  refused("capchan://h:1/s?key=SHA256:a&key=SHA256:b", "twice");
  refused("capchan://h:1/a%2", "%-escape");
  refused("capchan://h:1/s#frag", "fragment");
}
