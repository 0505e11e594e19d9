// The SCRAM-like password proof of DESIGN.md §3 on libsodium: argon2id13 via
// crypto_pwhash, HMAC-SHA256 via crypto_auth_hmacsha256, SHA-256 via
// crypto_hash_sha256, and the server's derived salts via hkdf.cpp.
#include "capchan/core/crypto/password_proof.hpp"

#include <algorithm>
#include <string>

#include <sodium.h>

#include "capchan/core/crypto/hkdf.hpp"
#include "sodium_init.hpp"

namespace capchan::crypto {
namespace {

static_assert(password_salt_len == crypto_pwhash_SALTBYTES);
static_assert(scram_key_len == crypto_auth_hmacsha256_BYTES);
static_assert(scram_key_len == crypto_hash_sha256_BYTES);
static_assert(argon2id_min.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(argon2id_min.mem_limit == crypto_pwhash_argon2id_MEMLIMIT_MIN);
static_assert(argon2id_max.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_MAX);
static_assert(argon2id_interactive.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
static_assert(argon2id_interactive.mem_limit == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
static_assert(client_max_mem_limit == crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE);
// MEMLIMIT_MAX depends on SIZE_MAX; argon2id_max is the 64-bit value.
static_assert(argon2id_max.mem_limit == crypto_pwhash_argon2id_MEMLIMIT_MAX,
              "capchan assumes a 64-bit size_t");

constexpr std::string_view client_key_label = "Client Key";
constexpr std::string_view server_key_label = "Server Key";
constexpr std::string_view fake_salt_label = "capchan fake salt";
constexpr std::string_view config_salt_label = "capchan config salt";
constexpr std::string_view fake_keys_label = "capchan fake keys";

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

void wipe(std::span<std::uint8_t> bytes) {
  sodium_memzero(bytes.data(), bytes.size());
}

// HMAC(key, AuthMessage), over the three parts in turn.
scram_key hmac_auth_message(std::span<const std::uint8_t> key, const auth_message& message) {
  scram_key out{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, message.handshake_hash.data(),
                                message.handshake_hash.size());
  crypto_auth_hmacsha256_update(&state, message.login_frame.data(), message.login_frame.size());
  crypto_auth_hmacsha256_update(&state, message.challenge_frame.data(),
                                message.challenge_frame.size());
  crypto_auth_hmacsha256_final(&state, out.data());
  sodium_memzero(&state, sizeof state);
  return out;
}

scram_key sha256(std::span<const std::uint8_t> data) {
  scram_key out{};
  crypto_hash_sha256(out.data(), data.data(), data.size());
  return out;
}

void xor_into(scram_key& target, const scram_key& mask) {
  for (std::size_t i = 0; i < target.size(); ++i) target[i] ^= mask[i];
}

result<salted_password> derive_salted_password(std::string_view password, const password_salt& salt,
                                               const argon2id_params& params) {
  detail::ensure_sodium_initialized();
  std::array<std::uint8_t, scram_key_len> out{};
  // crypto_pwhash declares its pointers nonnull; an empty view may have none.
  const char* text = password.empty() ? "" : password.data();
  if (crypto_pwhash(out.data(), out.size(), text, password.size(), salt.data(), params.ops_limit,
                    static_cast<std::size_t>(params.mem_limit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::error_code(errc::argon2id_failed);
  }
  salted_password salted(out);
  wipe(out);
  return salted;
}

// HKDF(salt = none, IKM = server secret, info = label ‖ 0x00 ‖ service).
void derive_from_server_secret(std::span<const std::uint8_t, 32> server_secret,
                               std::string_view label, std::string_view service,
                               std::span<std::uint8_t> out) {
  std::string info;
  info.reserve(label.size() + 1 + service.size());
  info.append(label);
  info.push_back('\0');
  info.append(service);
  // Cannot fail: the outputs here are at most 64 bytes.
  (void)hkdf({}, server_secret, as_bytes(info), out);
}

}  // namespace

// ---- parameters ------------------------------------------------------------

std::error_code check_argon2id_params(const argon2id_params& params) {
  if (params.ops_limit < argon2id_min.ops_limit || params.ops_limit > argon2id_max.ops_limit ||
      params.mem_limit < argon2id_min.mem_limit || params.mem_limit > argon2id_max.mem_limit) {
    return errc::argon2id_params_out_of_range;
  }
  return {};
}

std::error_code check_client_argon2id_params(const argon2id_params& params) {
  if (auto ec = check_argon2id_params(params)) return ec;
  if (params.ops_limit > client_max_ops_limit || params.mem_limit > client_max_mem_limit) {
    return errc::argon2id_params_over_client_cap;
  }
  return {};
}

// ---- secret holders --------------------------------------------------------

salted_password::salted_password(std::span<const std::uint8_t, scram_key_len> bytes) {
  std::copy(bytes.begin(), bytes.end(), bytes_.begin());
}

salted_password::~salted_password() {
  wipe(bytes_);
}

password_verifier::~password_verifier() {
  wipe(stored_key);
  wipe(server_key);
}

// ---- client ----------------------------------------------------------------

result<salted_password> client_salted_password(std::string_view password, const password_salt& salt,
                                               const argon2id_params& params) {
  if (auto ec = check_client_argon2id_params(params)) return ec;
  return derive_salted_password(password, salt, params);
}

scram_key client_proof(const salted_password& salted, const auth_message& message) {
  scram_key client_key = hmac_sha256(salted.bytes(), as_bytes(client_key_label));
  scram_key stored_key = sha256(client_key);
  scram_key signature = hmac_auth_message(stored_key, message);
  xor_into(client_key, signature);  // now the proof
  wipe(stored_key);
  wipe(signature);
  return client_key;
}

bool verify_server_signature(const salted_password& salted, const auth_message& message,
                             std::span<const std::uint8_t> signature) {
  if (signature.size() != scram_key_len) return false;
  scram_key server_key = hmac_sha256(salted.bytes(), as_bytes(server_key_label));
  scram_key expected = hmac_auth_message(server_key, message);
  const bool match = sodium_memcmp(expected.data(), signature.data(), scram_key_len) == 0;
  wipe(server_key);
  wipe(expected);
  return match;
}

// ---- server ----------------------------------------------------------------

result<password_verifier> make_verifier(std::string_view password, const password_salt& salt,
                                        const argon2id_params& params) {
  if (auto ec = check_argon2id_params(params)) return ec;
  auto salted = derive_salted_password(password, salt, params);
  if (!salted) return salted.error();
  return make_verifier(*salted, salt, params);
}

password_verifier make_verifier(const salted_password& salted, const password_salt& salt,
                                const argon2id_params& params) {
  password_verifier verifier;
  verifier.salt = salt;
  verifier.params = params;
  scram_key client_key = hmac_sha256(salted.bytes(), as_bytes(client_key_label));
  verifier.stored_key = sha256(client_key);
  verifier.server_key = hmac_sha256(salted.bytes(), as_bytes(server_key_label));
  wipe(client_key);
  return verifier;
}

bool verify_client_proof(const password_verifier& verifier, const auth_message& message,
                         std::span<const std::uint8_t> proof) {
  if (proof.size() != scram_key_len) return false;
  // ClientKey' = ClientProof XOR HMAC(StoredKey, AuthMessage)
  scram_key client_key = hmac_auth_message(verifier.stored_key, message);
  for (std::size_t i = 0; i < scram_key_len; ++i) client_key[i] ^= proof[i];
  scram_key candidate = sha256(client_key);
  const bool match =
      sodium_memcmp(candidate.data(), verifier.stored_key.data(), scram_key_len) == 0;
  wipe(client_key);
  wipe(candidate);
  return match;
}

scram_key server_signature(const password_verifier& verifier, const auth_message& message) {
  return hmac_auth_message(verifier.server_key, message);
}

// ---- salts -----------------------------------------------------------------

password_salt random_salt() {
  detail::ensure_sodium_initialized();
  password_salt salt{};
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

password_salt fake_salt(std::span<const std::uint8_t, 32> server_secret, std::string_view service) {
  password_salt salt{};
  derive_from_server_secret(server_secret, fake_salt_label, service, salt);
  return salt;
}

password_salt config_password_salt(std::span<const std::uint8_t, 32> server_secret,
                                   std::string_view service) {
  password_salt salt{};
  derive_from_server_secret(server_secret, config_salt_label, service, salt);
  return salt;
}

password_verifier fake_verifier(std::span<const std::uint8_t, 32> server_secret,
                                std::string_view service) {
  password_verifier verifier;
  verifier.salt = fake_salt(server_secret, service);
  verifier.params = argon2id_interactive;
  std::array<std::uint8_t, 2 * scram_key_len> keys{};
  derive_from_server_secret(server_secret, fake_keys_label, service, keys);
  std::copy_n(keys.begin(), scram_key_len, verifier.stored_key.begin());
  std::copy_n(keys.begin() + scram_key_len, scram_key_len, verifier.server_key.begin());
  wipe(keys);
  return verifier;
}

}  // namespace capchan::crypto
