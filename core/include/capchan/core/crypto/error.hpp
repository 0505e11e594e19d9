// Errors of capchan's crypto (DESIGN.md §3): HKDF, the Noise NX handshake and
// transport, and the password proof. They are std::error_codes in the
// "capchan.crypto" category so that the WebSocket layer can pass them on
// unchanged; messages say what went wrong in words a person can act on.
// Nothing on the handshake or transport path throws.
#pragma once

#include <system_error>

#include <boost/system/result.hpp>

namespace capchan::crypto {

enum class errc {
  // HKDF (RFC 5869 §2.3): L > 255 * HashLen.
  hkdf_output_too_long = 1,
  // HKDF-Expand (RFC 5869 §2.3): PRK shorter than HashLen.
  hkdf_key_too_short,
  // A handshake step called before its turn, twice, or after a failure
  // (Noise rev 34 §5.3: a failed HandshakeState is dead).
  handshake_out_of_order,
  // A handshake message shorter than its pattern needs, or over 65,535 bytes.
  bad_handshake_message,
  // X25519 gave the all-zero shared secret: the peer sent a low-order point.
  low_order_point,
  // AEAD authentication failed: tampered, replayed, reordered or wrong key.
  decrypt_failed,
  // The nonce reached 2^64-1, which Noise reserves (rev 34 §5.1).
  nonce_exhausted,
  // Transport encryption without a key: the handshake has not been split.
  no_key,
  // An output buffer whose size is not the one the operation writes.
  buffer_size_mismatch,
  // argon2id OpsLimit / MemLimit outside what libsodium accepts.
  argon2id_params_out_of_range,
  // argon2id parameters over the client's cap (a hostile server's request).
  argon2id_params_over_client_cap,
  // crypto_pwhash itself failed: in practice, not enough memory.
  argon2id_failed,
};

const std::error_category& crypto_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), crypto_category()};
}

// Results of crypto operations that produce a value.
template <class T>
using result = boost::system::result<T, std::error_code>;

}  // namespace capchan::crypto

template <>
struct std::is_error_code_enum<capchan::crypto::errc> : std::true_type {};
