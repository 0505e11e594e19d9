// capchan:// URLs (DESIGN.md §3): one string that says where a channel is and,
// optionally, which server key to expect.
//
//   capchan://HOST:PORT/SERVICE?key=SHA256:...
//
// HOST is a name, an IPv4 address or a bracketed IPv6 address ([::1]); PORT
// is required (capchan has no well-known port); SERVICE is percent-decoded
// (a service name may hold any bytes); `key` is the only query parameter.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "capchan/client/error.hpp"

namespace capchan::client {

// Not an aggregate, like connect_options (see there: GCC 12 and coroutines).
struct channel_url {
  channel_url() = default;

  std::string host;  // without brackets: "::1", "127.0.0.1", "example.org"
  std::uint16_t port = 0;
  std::string service;
  std::string key;  // expected fingerprint "SHA256:...", or empty

  // "host:port", "[::1]:port" for IPv6: the form known_hosts records.
  std::string host_port() const;
  // Back to a URL (percent-encoding the service where needed).
  std::string to_string() const;
};

std::ostream& operator<<(std::ostream& os, const channel_url& url);  // to_string()

// errc::bad_url with a detail that names the problem ("missing port", ...).
result<channel_url> parse_url(std::string_view url);

// "host:port", bracketing IPv6 literals: the key of a known_hosts line.
std::string host_port(std::string_view host, std::uint16_t port);

}  // namespace capchan::client
