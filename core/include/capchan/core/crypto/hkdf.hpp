// HMAC-SHA256 and HKDF (RFC 5869) on it, built on libsodium's
// crypto_auth_hmacsha256 because libsodium 1.0.18 has no HKDF (DESIGN.md §8).
//
// capchan uses it for Noise's HKDF (rev 34 §4.3: extract with the chaining key
// as salt, then expand with empty info) and for the server's derived salts
// (password_proof.hpp). Outputs are written into caller-owned buffers so that
// the caller decides how long key material lives and wipes it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>

#include "capchan/core/crypto/error.hpp"

namespace capchan::crypto {

// HashLen for SHA-256.
inline constexpr std::size_t hkdf_hash_len = 32;
// RFC 5869 §2.3: L <= 255 * HashLen.
inline constexpr std::size_t hkdf_max_output_len = 255 * hkdf_hash_len;

using hkdf_prk = std::array<std::uint8_t, hkdf_hash_len>;

// HMAC-SHA256(key, data) in one call (RFC 2104); any key length.
std::array<std::uint8_t, hkdf_hash_len> hmac_sha256(std::span<const std::uint8_t> key,
                                                    std::span<const std::uint8_t> data);

// RFC 5869 §2.2: PRK = HMAC-SHA256(salt, IKM). An empty salt means HashLen
// zero bytes, which HMAC treats the same way. The PRK is secret: wipe it.
hkdf_prk hkdf_extract(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm);

// RFC 5869 §2.3: fills `okm` (L = okm.size()) with T(1) | T(2) | ...
// Errors: hkdf_output_too_long if L > 255 * 32, hkdf_key_too_short if the
// PRK is shorter than 32 bytes; `okm` is untouched then.
[[nodiscard]] std::error_code hkdf_expand(std::span<const std::uint8_t> prk,
                                          std::span<const std::uint8_t> info,
                                          std::span<std::uint8_t> okm);

// Extract then expand, in one call (RFC 5869 §2).
[[nodiscard]] std::error_code hkdf(std::span<const std::uint8_t> salt,
                                   std::span<const std::uint8_t> ikm,
                                   std::span<const std::uint8_t> info, std::span<std::uint8_t> okm);

}  // namespace capchan::crypto
