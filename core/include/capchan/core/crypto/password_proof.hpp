// capchan's password proof (DESIGN.md §3): SCRAM (RFC 5802 §3) with argon2id
// instead of PBKDF2, bound to the Noise channel by the handshake hash h.
//
//   SaltedPassword  = argon2id13(password, Salt, OpsLimit, MemLimit), 32 bytes
//   ClientKey       = HMAC(SaltedPassword, "Client Key")
//   StoredKey       = SHA256(ClientKey)
//   ServerKey       = HMAC(SaltedPassword, "Server Key")
//   AuthMessage     = h ‖ login frame bytes ‖ challenge frame bytes
//   ClientProof     = ClientKey XOR HMAC(StoredKey, AuthMessage)
//   ServerSignature = HMAC(ServerKey, AuthMessage)
//
// The server keeps only a password_verifier (salt, parameters, StoredKey,
// ServerKey) and never runs argon2id per login; the password never leaves the
// client. The verifier's text form belongs to config/, not here. All HMACs
// are HMAC-SHA256; comparisons are constant-time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

#include "capchan/core/crypto/error.hpp"

namespace capchan::crypto {

inline constexpr std::size_t password_salt_len = 16;  // crypto_pwhash_SALTBYTES
inline constexpr std::size_t scram_key_len = 32;      // SHA-256 output

using password_salt = std::array<std::uint8_t, password_salt_len>;
// StoredKey, ServerKey, ClientProof and ServerSignature are all 32 bytes.
using scram_key = std::array<std::uint8_t, scram_key_len>;

// argon2id cost. MemLimit is in bytes, as libsodium's crypto_pwhash takes it
// and as the verifier string writes it.
struct argon2id_params {
  std::uint64_t ops_limit = 0;
  std::uint64_t mem_limit = 0;
  friend bool operator==(const argon2id_params&, const argon2id_params&) = default;
};

// libsodium's range for argon2id (checked against <sodium.h> in the .cpp).
inline constexpr argon2id_params argon2id_min{1, 8 * 1024};
inline constexpr argon2id_params argon2id_max{4294967295u, 4398046510080u};
// crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE: capchan's default,
// and what unknown services advertise.
inline constexpr argon2id_params argon2id_interactive{2, 64u * 1024 * 1024};

// The server picks the cost and the client pays it, so a hostile or broken
// server could ask for terabytes of memory or days of work. A client refuses
// more than 1 GiB (libsodium's SENSITIVE level, its largest recommendation)
// and more than 16 passes (4x SENSITIVE's 4). Argon2id time grows with passes
// x memory: INTERACTIVE (2 x 64 MiB) takes about 0.25 s on the 2-core test
// machine, so the worst a server can demand is about 30 s and 1 GiB, once
// per (server key, service, salt) thanks to the client's cache. Real
// parameters must stay well below that anyway: the login has to finish within
// the server's handshake_timeout (10 s by default).
inline constexpr std::uint64_t client_max_ops_limit = 16;
inline constexpr std::uint64_t client_max_mem_limit = 1024u * 1024 * 1024;

// errc::argon2id_params_out_of_range outside libsodium's range.
[[nodiscard]] std::error_code check_argon2id_params(const argon2id_params& params);
// The same, then errc::argon2id_params_over_client_cap over the client caps.
[[nodiscard]] std::error_code check_client_argon2id_params(const argon2id_params& params);

// The argon2id output. Secret: whoever holds it can log in. Wiped on
// destruction; clients cache it per (server key, service, salt).
class salted_password {
 public:
  explicit salted_password(std::span<const std::uint8_t, scram_key_len> bytes);
  salted_password(const salted_password&) = default;
  salted_password& operator=(const salted_password&) = default;
  ~salted_password();
  std::span<const std::uint8_t, scram_key_len> bytes() const noexcept { return bytes_; }

 private:
  std::array<std::uint8_t, scram_key_len> bytes_{};
};

// What the server stores for a service. stored_key and server_key are
// secret-ish (server_key lets its holder impersonate the server): wiped on
// destruction.
struct password_verifier {
  password_salt salt{};
  argon2id_params params{};
  scram_key stored_key{};
  scram_key server_key{};
  ~password_verifier();
};

// The three parts of AuthMessage; they are hashed in turn, never copied
// together.
struct auth_message {
  std::span<const std::uint8_t, 32> handshake_hash;  // Noise h after message 2
  std::span<const std::uint8_t> login_frame;         // exact ETF bytes of {login, ...}
  std::span<const std::uint8_t> challenge_frame;     // exact ETF bytes of {challenge, ...}
};

// ---- client ----------------------------------------------------------------

// Runs argon2id for a challenge, after refusing parameters over the client
// caps. Takes as long as the parameters say (about 0.1 s for the defaults).
result<salted_password> client_salted_password(std::string_view password, const password_salt& salt,
                                               const argon2id_params& params);
scram_key client_proof(const salted_password& salted, const auth_message& message);
// True if `signature` is this server's ServerSignature (constant time).
bool verify_server_signature(const salted_password& salted, const auth_message& message,
                             std::span<const std::uint8_t> signature);

// ---- server ----------------------------------------------------------------

// The verifier of a password: argon2id within libsodium's range (no client
// cap: this is the operator's own choice). For config load and `capchan config`.
result<password_verifier> make_verifier(std::string_view password, const password_salt& salt,
                                        const argon2id_params& params);
// The verifier of an already derived SaltedPassword (no argon2id).
password_verifier make_verifier(const salted_password& salted, const password_salt& salt,
                                const argon2id_params& params);
// True if SHA256(proof XOR HMAC(StoredKey, AuthMessage)) == StoredKey,
// compared in constant time. A proof that is not 32 bytes is false.
bool verify_client_proof(const password_verifier& verifier, const auth_message& message,
                         std::span<const std::uint8_t> proof);
scram_key server_signature(const password_verifier& verifier, const auth_message& message);

// A fresh random salt, for a new verifier.
password_salt random_salt();

// Salts the server derives from its secret, the static X25519 private key:
//   HKDF-SHA256(salt = none, IKM = server secret,
//               info = label ‖ 0x00 ‖ service name bytes), 16 bytes.
// The fixed label comes first and the 0x00 ends it, so different labels or
// names never give the same info; the same name always gives the same salt.
//
// fake_salt (label "capchan fake salt"): the salt an unknown service
// advertises, so that it looks like a real one that stays the same across
// connections and restarts (DESIGN.md §3).
password_salt fake_salt(std::span<const std::uint8_t, 32> server_secret, std::string_view service);
// config_password_salt (label "capchan config salt"): the salt of a plaintext
// `password = "..."` in the config, stable across restarts.
password_salt config_password_salt(std::span<const std::uint8_t, 32> server_secret,
                                   std::string_view service);
// The verifier an unknown service is checked against, so that the server
// does the same work and gives the same answer as for a wrong password:
// fake_salt, argon2id_interactive, and StoredKey / ServerKey from the same
// HKDF with label "capchan fake keys" (no password can match them).
password_verifier fake_verifier(std::span<const std::uint8_t, 32> server_secret,
                                std::string_view service);

}  // namespace capchan::crypto
