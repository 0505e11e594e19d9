// capchan:// URL parsing (DESIGN.md §3). Strict on purpose: a typo in `?key=`
// must not silently turn off the key check, and a password has no place in
// a URL that ends up in shell history.
#include "capchan/client/url.hpp"

#include <cctype>
#include <charconv>
#include <ostream>

namespace capchan::client {
namespace {

constexpr std::string_view scheme = "capchan://";

error bad(std::string_view url, std::string what) {
  return error(errc::bad_url, what + " in '" + std::string(url) + "' (expected capchan://HOST:PORT/SERVICE?key=SHA256:...)");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string host_port(std::string_view host, std::uint16_t port) {
  std::string h = lowercase(host);
  if (h.find(':') != std::string::npos) h = "[" + h + "]";
  return h + ":" + std::to_string(port);
}

std::string channel_url::host_port() const { return client::host_port(host, port); }

std::string channel_url::to_string() const {
  std::string out(scheme);
  out += host_port();
  out += '/';
  static constexpr char digits[] = "0123456789ABCDEF";
  for (unsigned char c : service) {
    if (unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  if (!key.empty()) out += "?key=" + key;
  return out;
}

std::ostream& operator<<(std::ostream& os, const channel_url& url) { return os << url.to_string(); }

result<channel_url> parse_url(std::string_view url) {
  if (url.size() < scheme.size() || lowercase(url.substr(0, scheme.size())) != scheme) {
    return bad(url, "missing capchan:// scheme");
  }
  std::string_view rest = url.substr(scheme.size());
  if (rest.find('#') != std::string_view::npos) return bad(url, "unexpected #fragment");

  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad(url, "missing /SERVICE");
  std::string_view authority = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  if (authority.find('@') != std::string_view::npos) {
    return bad(url, "user or password before '@' (passwords never go in URLs; use CAPCHAN_PASSWORD or --password-file)");
  }

  channel_url out;
  std::string_view port_text;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad(url, "unclosed '[' in IPv6 host");
    out.host = lowercase(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.starts_with(':')) return bad(url, "missing port");
    port_text = after.substr(1);
  } else {
    const std::size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) return bad(url, "missing port");
    out.host = lowercase(authority.substr(0, colon));
    if (out.host.find(':') != std::string::npos) {
      return bad(url, "IPv6 host without brackets (write [::1]:PORT)");
    }
    port_text = authority.substr(colon + 1);
  }
  if (out.host.empty()) return bad(url, "missing host");
  for (unsigned char c : out.host) {
    if (std::isspace(c) || c == '%' || c == '/' || c == '?') return bad(url, "invalid character in host");
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return bad(url, "port '" + std::string(port_text) + "' is not a number from 1 to 65535");
  }
  out.port = static_cast<std::uint16_t>(port);

  std::string_view path = rest, query;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  if (path.empty()) return bad(url, "missing service name");
  if (!percent_decode(path, out.service)) return bad(url, "bad %-escape in service name");

  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (param.empty()) continue;
    if (!param.starts_with("key=")) {
      // Only `key` exists; a misspelt one must not silently skip the check.
      return bad(url, "unknown query parameter '" + std::string(param.substr(0, param.find('='))) + "' (only key= is known)");
    }
    if (!out.key.empty()) return bad(url, "key= given twice");
    if (!percent_decode(param.substr(4), out.key)) return bad(url, "bad %-escape in key");
    if (!out.key.starts_with("SHA256:")) return bad(url, "key must be a fingerprint 'SHA256:...'");
  }
  return out;
}

}  // namespace capchan::client
