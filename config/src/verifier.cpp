// Verifier strings: strict parsing (every field present, exact lengths, one
// format version) so that a damaged config line is an error, not a service
// that nobody can log in to.
#include "capchan/config/verifier.hpp"

#include <sodium.h>

#include <charconv>
#include <vector>

namespace capchan::config {
namespace {

constexpr int base64_variant = sodium_base64_VARIANT_ORIGINAL;  // standard, padded

template <std::size_t N>
std::string to_base64(const std::array<std::uint8_t, N>& bytes) {
  std::string out(sodium_base64_ENCODED_LEN(N, base64_variant), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), N, base64_variant);
  out.pop_back();  // the terminating NUL sodium writes
  return out;
}

template <std::size_t N>
bool from_base64(std::string_view text, std::array<std::uint8_t, N>& out) {
  std::size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), N, text.data(), text.size(), nullptr, &len, &end,
                        base64_variant) != 0) {
    return false;
  }
  return len == N && end == text.data() + text.size();
}

std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == sep) {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool parse_number(std::string_view text, std::uint64_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

std::string format_verifier(const verifier& v) {
  return std::string(verifier_prefix) + "t=" + std::to_string(v.ops_limit) + ",m=" +
         std::to_string(v.mem_limit) + "$" + to_base64(v.salt) + "$" + to_base64(v.stored_key) +
         "$" + to_base64(v.server_key);
}

boost::system::result<verifier, std::string> parse_verifier(std::string_view text) {
  if (!text.starts_with(verifier_prefix)) {
    return std::string("does not start with \"") + std::string(verifier_prefix) + "\"";
  }
  const auto fields = split(text.substr(verifier_prefix.size()), '$');
  if (fields.size() != 4) return std::string("expected 4 fields after the version, found ") + std::to_string(fields.size());
  verifier v;
  const auto params = split(fields[0], ',');
  if (params.size() != 2 || !params[0].starts_with("t=") || !params[1].starts_with("m=") ||
      !parse_number(params[0].substr(2), v.ops_limit) || !parse_number(params[1].substr(2), v.mem_limit)) {
    return std::string("parameters must read t=<OpsLimit>,m=<MemLimit in bytes>");
  }
  if (!from_base64(fields[1], v.salt)) return std::string("salt is not 16 bytes of base64");
  if (!from_base64(fields[2], v.stored_key)) return std::string("StoredKey is not 32 bytes of base64");
  if (!from_base64(fields[3], v.server_key)) return std::string("ServerKey is not 32 bytes of base64");
  return v;
}

}  // namespace capchan::config
