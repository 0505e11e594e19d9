// HKDF (RFC 5869) on libsodium's HMAC-SHA256, and the "capchan.crypto" error
// category (this file is the base of core's crypto: noise.cpp and
// password_proof.cpp build on it).
#include "capchan/core/crypto/hkdf.hpp"

#include <algorithm>

#include <sodium.h>

namespace capchan::crypto {
namespace {

static_assert(hkdf_hash_len == crypto_auth_hmacsha256_BYTES);

class crypto_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "capchan.crypto"; }

  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::hkdf_output_too_long:
        return "HKDF output longer than 255 * 32 bytes (RFC 5869 §2.3)";
      case errc::hkdf_key_too_short:
        return "HKDF pseudorandom key shorter than 32 bytes (RFC 5869 §2.3)";
      case errc::handshake_out_of_order:
        return "Noise handshake step out of order or after a failed step";
      case errc::bad_handshake_message:
        return "Noise handshake message has the wrong length";
      case errc::low_order_point:
        return "peer sent a low-order X25519 public key (all-zero shared secret)";
      case errc::decrypt_failed:
        return "decryption failed: message tampered with, replayed, reordered or wrong key";
      case errc::nonce_exhausted:
        return "cipher nonce exhausted (2^64-1 messages); reconnect";
      case errc::no_key:
        return "transport cipher has no key: the Noise handshake is not finished";
      case errc::buffer_size_mismatch:
        return "output buffer size does not match the operation";
      case errc::argon2id_params_out_of_range:
        return "argon2id OpsLimit or MemLimit outside libsodium's supported range";
      case errc::argon2id_params_over_client_cap:
        return "server asked for argon2id parameters over this client's limit";
      case errc::argon2id_failed:
        return "argon2id failed (not enough memory?)";
    }
    return "unknown capchan crypto error";
  }
};

// T(i) = HMAC-Hash(PRK, T(i-1) | info | i), RFC 5869 §2.3.
void expand_into(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                 std::span<std::uint8_t> okm) {
  std::array<std::uint8_t, hkdf_hash_len> block{};
  crypto_auth_hmacsha256_state state;
  std::size_t written = 0;
  for (std::uint8_t counter = 1; written < okm.size(); ++counter) {
    crypto_auth_hmacsha256_init(&state, prk.data(), prk.size());
    if (counter > 1) crypto_auth_hmacsha256_update(&state, block.data(), block.size());
    crypto_auth_hmacsha256_update(&state, info.data(), info.size());
    crypto_auth_hmacsha256_update(&state, &counter, 1);
    crypto_auth_hmacsha256_final(&state, block.data());
    const std::size_t take = std::min(block.size(), okm.size() - written);
    std::copy_n(block.begin(), take, okm.begin() + static_cast<std::ptrdiff_t>(written));
    written += take;
  }
  sodium_memzero(block.data(), block.size());
  sodium_memzero(&state, sizeof state);
}

}  // namespace

const std::error_category& crypto_category() noexcept {
  static const crypto_error_category category;
  return category;
}

std::array<std::uint8_t, hkdf_hash_len> hmac_sha256(std::span<const std::uint8_t> key,
                                                    std::span<const std::uint8_t> data) {
  // HMAC pads a short key with zeros, so an empty key is HashLen zero bytes;
  // passing those keeps a null pointer away from libsodium's nonnull init.
  static constexpr std::array<std::uint8_t, hkdf_hash_len> zero_key{};
  if (key.empty()) key = zero_key;
  std::array<std::uint8_t, hkdf_hash_len> out{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, data.data(), data.size());
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

// RFC 5869 §2.2; no salt means HashLen zero bytes, which hmac_sha256 does.
hkdf_prk hkdf_extract(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm) {
  return hmac_sha256(salt, ikm);
}

std::error_code hkdf_expand(std::span<const std::uint8_t> prk, std::span<const std::uint8_t> info,
                            std::span<std::uint8_t> okm) {
  if (okm.size() > hkdf_max_output_len) return errc::hkdf_output_too_long;
  if (prk.size() < hkdf_hash_len) return errc::hkdf_key_too_short;
  expand_into(prk, info, okm);
  return {};
}

std::error_code hkdf(std::span<const std::uint8_t> salt, std::span<const std::uint8_t> ikm,
                     std::span<const std::uint8_t> info, std::span<std::uint8_t> okm) {
  if (okm.size() > hkdf_max_output_len) return errc::hkdf_output_too_long;
  hkdf_prk prk = hkdf_extract(salt, ikm);
  expand_into(prk, info, okm);
  sodium_memzero(prk.data(), prk.size());
  return {};
}

}  // namespace capchan::crypto
