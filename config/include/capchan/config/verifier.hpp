// Password verifier strings (DESIGN.md §3): what the server stores instead of
// a password, so that a leaked config is not a leaked password.
//
//   scram-argon2id$v=1$t=<OpsLimit>,m=<MemLimit bytes>$<Salt>$<StoredKey>$<ServerKey>
//
// Salt (16 bytes), StoredKey and ServerKey (32 bytes each) in standard base64
// with padding.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>

namespace capchan::config {

struct verifier {
  std::array<std::uint8_t, 16> salt{};
  std::uint64_t ops_limit = 0;
  std::uint64_t mem_limit = 0;  // bytes
  std::array<std::uint8_t, 32> stored_key{};
  std::array<std::uint8_t, 32> server_key{};
  friend bool operator==(const verifier&, const verifier&) = default;
};

inline constexpr std::string_view verifier_prefix = "scram-argon2id$v=1$";

std::string format_verifier(const verifier& v);
// The error says which part is wrong, never echoing key material.
boost::system::result<verifier, std::string> parse_verifier(std::string_view text);

}  // namespace capchan::config
