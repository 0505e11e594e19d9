// Noise_NX_25519_ChaChaPoly_SHA256 (noiseprotocol.org, revision 34), the
// handshake and transport encryption of capchan's wire protocol (DESIGN.md §3):
//
//   NX:  -> e                  message 1, client to server: 32 bytes
//        <- e, ee, s, es       message 2, server to client: 32 + 48 + 16 bytes
//
// (sizes with the empty payloads capchan sends). The client learns and then
// checks the server's static key (its fingerprint); after Split() each side
// holds two cipher_states, and the handshake hash h binds the password proof
// to this very channel (password_proof.hpp).
//
// The types follow the spec's objects: cipher_state (§5.1), symmetric_state
// (§5.2), and the two roles of HandshakeState (§5.3) as handshake_initiator
// (client) and handshake_responder (server). Nothing here throws; failures are
// std::error_codes of crypto/error.hpp. Secrets are wiped when their object
// dies. Objects are not thread-safe: each belongs to one connection's strand.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "capchan/core/crypto/error.hpp"

namespace capchan::crypto::noise {

inline constexpr std::string_view protocol_name = "Noise_NX_25519_ChaChaPoly_SHA256";
// capchan's prologue (DESIGN.md §3): both sides mix it into h, so a peer
// speaking another protocol version fails the handshake.
inline constexpr std::string_view capchan_prologue = "capchan/1";

inline constexpr std::size_t dh_len = 32;    // §12.1 DHLEN for 25519
inline constexpr std::size_t hash_len = 32;  // §12.5 HASHLEN for SHA256
inline constexpr std::size_t key_len = 32;   // §5.1 cipher key
inline constexpr std::size_t tag_len = 16;   // ChaChaPoly authentication tag
// §3: handshake messages are at most 65,535 bytes. capchan lifts this cap for
// transport messages only (DESIGN.md §3; the caller enforces max_message).
inline constexpr std::size_t max_handshake_message_len = 65535;
// The two handshake messages with empty payloads.
inline constexpr std::size_t message_1_len = dh_len;
inline constexpr std::size_t message_2_len = dh_len + (dh_len + tag_len) + tag_len;

using public_key = std::array<std::uint8_t, dh_len>;
using handshake_hash = std::array<std::uint8_t, hash_len>;

// An X25519 key pair: the server's static key, or an ephemeral key.
class keypair {
 public:
  // A fresh key pair from libsodium's randombytes (§12.1 GENERATE_KEYPAIR).
  static keypair generate();
  // The key pair of a known private key (key_file, test vectors).
  static keypair from_private_key(std::span<const std::uint8_t, dh_len> private_key);

  keypair(const keypair&) = default;
  keypair& operator=(const keypair&) = default;
  ~keypair();

  const noise::public_key& public_key() const noexcept { return public_; }
  // Secret: for writing key_file and deriving the server's salts only.
  std::span<const std::uint8_t, dh_len> private_key() const noexcept { return private_; }

 private:
  keypair() = default;
  std::array<std::uint8_t, dh_len> private_{};
  noise::public_key public_{};
};

// "SHA256:" + unpadded base64url of SHA-256(public key), as OpenSSH prints
// keys (DESIGN.md §3): what a person compares and what known_hosts stores.
std::string fingerprint(const public_key& key);

// §5.1 CipherState: a key and a 64-bit nonce counter. Move-only, because a
// copy would encrypt two messages under the same key and nonce.
class cipher_state {
 public:
  cipher_state() = default;  // InitializeKey(empty): no key
  explicit cipher_state(std::span<const std::uint8_t, key_len> key);
  cipher_state(cipher_state&& other) noexcept;
  cipher_state& operator=(cipher_state&& other) noexcept;
  cipher_state(const cipher_state&) = delete;
  cipher_state& operator=(const cipher_state&) = delete;
  ~cipher_state();

  bool has_key() const noexcept { return has_key_; }
  std::uint64_t nonce() const noexcept { return nonce_; }
  // §5.1 SetNonce; for tests and for protocols that renumber. capchan never does.
  void set_nonce(std::uint64_t nonce) noexcept { nonce_ = nonce; }

  // §5.1 EncryptWithAd / DecryptWithAd, used by the handshake: without a key
  // the plaintext passes through unchanged, as the spec says. `out` must be
  // exactly the output size (input size plus or minus tag_len when keyed).
  // A failed decryption leaves the nonce where it was.
  [[nodiscard]] std::error_code encrypt_with_ad(std::span<const std::uint8_t> ad,
                                                std::span<const std::uint8_t> plaintext,
                                                std::span<std::uint8_t> out);
  [[nodiscard]] std::error_code decrypt_with_ad(std::span<const std::uint8_t> ad,
                                                std::span<const std::uint8_t> ciphertext,
                                                std::span<std::uint8_t> out);

  // Transport messages (§5 after Split, DESIGN.md §3): empty associated data,
  // any size. Unlike the *_with_ad forms these refuse to run without a key
  // (errc::no_key), so a cipher_state that was never split cannot send
  // plaintext by mistake. The span forms write exactly
  // plaintext.size() + tag_len (resp. ciphertext.size() - tag_len) bytes.
  [[nodiscard]] std::error_code encrypt(std::span<const std::uint8_t> plaintext,
                                        std::span<std::uint8_t> out);
  [[nodiscard]] std::error_code decrypt(std::span<const std::uint8_t> ciphertext,
                                        std::span<std::uint8_t> out);
  result<std::vector<std::uint8_t>> encrypt(std::span<const std::uint8_t> plaintext);
  result<std::vector<std::uint8_t>> decrypt(std::span<const std::uint8_t> ciphertext);

 private:
  std::error_code check_transport_ready() const noexcept;
  std::array<std::uint8_t, key_len> key_{};
  std::uint64_t nonce_ = 0;
  bool has_key_ = false;
};

// The two transport ciphers of one side after Split (§5.2): `send` encrypts
// this side's messages, `receive` decrypts the peer's.
struct transport_ciphers {
  cipher_state send;
  cipher_state receive;
};

// §5.2 SymmetricState: chaining key ck, handshake hash h and a cipher_state.
// The building block of the handshake classes below; public so that its
// steps can be tested one by one.
class symmetric_state {
 public:
  // InitializeSymmetric: h = the name padded with zeros if it fits in
  // HASHLEN bytes, else SHA-256(name); ck = h; no key.
  explicit symmetric_state(std::string_view protocol_name);
  symmetric_state(symmetric_state&&) noexcept = default;
  symmetric_state& operator=(symmetric_state&&) noexcept = default;
  ~symmetric_state();

  void mix_key(std::span<const std::uint8_t> input_key_material);
  void mix_hash(std::span<const std::uint8_t> data);
  // For psk handshakes (HKDF with 3 outputs); NX does not use it.
  void mix_key_and_hash(std::span<const std::uint8_t> input_key_material);
  // Append the ciphertext (resp. plaintext) to `out`.
  [[nodiscard]] std::error_code encrypt_and_hash(std::span<const std::uint8_t> plaintext,
                                                 std::vector<std::uint8_t>& out);
  [[nodiscard]] std::error_code decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                                 std::vector<std::uint8_t>& out);
  bool has_key() const noexcept { return cipher_.has_key(); }
  // GetHandshakeHash.
  const handshake_hash& hash() const noexcept { return h_; }
  // Split: first cipher initiator to responder, second responder to
  // initiator. Wipes ck: the symmetric_state is done afterwards.
  std::array<cipher_state, 2> split();

 private:
  std::array<std::uint8_t, hash_len> ck_{};
  handshake_hash h_{};
  cipher_state cipher_;
};

// The client's side of NX. Steps, in this order: write_message_1,
// read_message_2, then split (once). Any failed step kills the handshake
// (§5.3): later calls return errc::handshake_out_of_order.
class handshake_initiator {
 public:
  // `ephemeral` is for test vectors; without it a fresh key is generated.
  explicit handshake_initiator(std::span<const std::uint8_t> prologue,
                               std::optional<keypair> ephemeral = std::nullopt);

  // -> e, then the payload (in clear: there is no key yet).
  result<std::vector<std::uint8_t>> write_message_1(std::span<const std::uint8_t> payload = {});
  // <- e, ee, s, es, then the payload, which it returns. Fails with
  // bad_handshake_message, low_order_point or decrypt_failed.
  result<std::vector<std::uint8_t>> read_message_2(std::span<const std::uint8_t> message);

  // The server's static key, known after read_message_2: check its
  // fingerprint before trusting anything the server says.
  const public_key& remote_static_key() const noexcept { return remote_static_; }
  // h; final once read_message_2 succeeded.
  const handshake_hash& hash() const noexcept { return symmetric_.hash(); }
  result<transport_ciphers> split();

 private:
  enum class step { write_1, read_2, split, done, failed };
  step step_ = step::write_1;
  symmetric_state symmetric_;
  std::optional<keypair> ephemeral_;
  public_key remote_ephemeral_{};
  public_key remote_static_{};
};

// The server's side of NX. Steps: read_message_1, write_message_2, split.
class handshake_responder {
 public:
  handshake_responder(const keypair& static_key, std::span<const std::uint8_t> prologue,
                      std::optional<keypair> ephemeral = std::nullopt);

  // -> e, then the payload, which it returns. The client's key is checked
  // when it is first used, so a low-order key fails in write_message_2.
  result<std::vector<std::uint8_t>> read_message_1(std::span<const std::uint8_t> message);
  // <- e, ee, s, es, then the payload (encrypted).
  result<std::vector<std::uint8_t>> write_message_2(std::span<const std::uint8_t> payload = {});

  const handshake_hash& hash() const noexcept { return symmetric_.hash(); }
  result<transport_ciphers> split();

 private:
  enum class step { read_1, write_2, split, done, failed };
  step step_ = step::read_1;
  symmetric_state symmetric_;
  keypair static_;
  std::optional<keypair> ephemeral_;
  public_key remote_ephemeral_{};
};

}  // namespace capchan::crypto::noise
