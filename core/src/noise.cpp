// Noise_NX_25519_ChaChaPoly_SHA256, revision 34 of the Noise Protocol
// Framework (noiseprotocol.org/noise.html). Section numbers below are the
// spec's. DH is libsodium's X25519, the cipher its ChaCha20-Poly1305 IETF, the
// hash SHA-256 and HKDF the RFC 5869 one of hkdf.cpp (§4.3 is RFC 5869 with
// empty info).
#include "capchan/core/crypto/noise.hpp"

#include <algorithm>
#include <limits>

#include <sodium.h>

#include "capchan/core/crypto/hkdf.hpp"
#include "sodium_init.hpp"

namespace capchan::crypto::noise {
namespace {

static_assert(dh_len == crypto_scalarmult_BYTES && dh_len == crypto_scalarmult_SCALARBYTES);
static_assert(hash_len == crypto_hash_sha256_BYTES);
static_assert(key_len == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(tag_len == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);
static_assert(protocol_name.size() == hash_len, "NX's name fills h exactly (§5.2)");

// §5.1: n = 2^64-1 is reserved; a cipher that reached it is spent.
constexpr std::uint64_t max_nonce = std::numeric_limits<std::uint64_t>::max();

using nonce_bytes = std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES>;

// §12.3 ChaChaPoly: 32 bits of zeros followed by the little-endian 64-bit n.
nonce_bytes make_nonce(std::uint64_t n) {
  nonce_bytes nonce{};
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return nonce;
}

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// §4.3 HKDF(chaining_key, input_key_material, num_outputs) for 2 or 3
// outputs: RFC 5869 extract with the chaining key as salt, then expand with
// empty info into num_outputs * HASHLEN bytes.
template <std::size_t Outputs>
std::array<std::uint8_t, Outputs * hash_len> noise_hkdf(std::span<const std::uint8_t> chaining_key,
                                                        std::span<const std::uint8_t> ikm) {
  static_assert(Outputs == 2 || Outputs == 3);
  std::array<std::uint8_t, Outputs * hash_len> out{};
  hkdf_prk temp_key = hkdf_extract(chaining_key, ikm);
  // Cannot fail: the key is HASHLEN bytes and the output at most 3 * HASHLEN.
  (void)hkdf_expand(temp_key, {}, out);
  sodium_memzero(temp_key.data(), temp_key.size());
  return out;
}

// §12.1 DH(key_pair, public_key). libsodium returns -1 when the result is
// all zeros (a low-order public key); the explicit check states the rule here
// rather than rely on one library version's behaviour.
std::error_code dh(const keypair& local, const public_key& remote,
                   std::array<std::uint8_t, dh_len>& shared) {
  if (crypto_scalarmult(shared.data(), local.private_key().data(), remote.data()) != 0 ||
      sodium_is_zero(shared.data(), shared.size())) {
    sodium_memzero(shared.data(), shared.size());
    return errc::low_order_point;
  }
  return {};
}

// The ee / es tokens (§5.3): MixKey(DH(...)).
std::error_code mix_dh(symmetric_state& symmetric, const keypair& local, const public_key& remote) {
  std::array<std::uint8_t, dh_len> shared{};
  if (auto ec = dh(local, remote, shared)) return ec;
  symmetric.mix_key(shared);
  sodium_memzero(shared.data(), shared.size());
  return {};
}

}  // namespace

// ---- keypair ---------------------------------------------------------------

keypair keypair::generate() {
  detail::ensure_sodium_initialized();
  keypair pair;
  randombytes_buf(pair.private_.data(), pair.private_.size());
  crypto_scalarmult_base(pair.public_.data(), pair.private_.data());
  return pair;
}

keypair keypair::from_private_key(std::span<const std::uint8_t, dh_len> private_key) {
  detail::ensure_sodium_initialized();
  keypair pair;
  std::copy(private_key.begin(), private_key.end(), pair.private_.begin());
  crypto_scalarmult_base(pair.public_.data(), pair.private_.data());
  return pair;
}

keypair::~keypair() {
  sodium_memzero(private_.data(), private_.size());
}

std::string fingerprint(const public_key& key) {
  constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), key.data(), key.size());
  std::array<char, sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES, variant)> text{};
  sodium_bin2base64(text.data(), text.size(), digest.data(), digest.size(), variant);
  return "SHA256:" + std::string(text.data());
}

// ---- cipher_state (§5.1) ---------------------------------------------------

cipher_state::cipher_state(std::span<const std::uint8_t, key_len> key) : has_key_(true) {
  detail::ensure_sodium_initialized();  // selects the fast ChaCha20 code
  std::copy(key.begin(), key.end(), key_.begin());
}

cipher_state::cipher_state(cipher_state&& other) noexcept
    : key_(other.key_), nonce_(other.nonce_), has_key_(other.has_key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
  other.has_key_ = false;
  other.nonce_ = 0;
}

cipher_state& cipher_state::operator=(cipher_state&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    nonce_ = other.nonce_;
    has_key_ = other.has_key_;
    sodium_memzero(other.key_.data(), other.key_.size());
    other.has_key_ = false;
    other.nonce_ = 0;
  }
  return *this;
}

cipher_state::~cipher_state() {
  sodium_memzero(key_.data(), key_.size());
}

std::error_code cipher_state::encrypt_with_ad(std::span<const std::uint8_t> ad,
                                              std::span<const std::uint8_t> plaintext,
                                              std::span<std::uint8_t> out) {
  if (!has_key_) {
    if (out.size() != plaintext.size()) return errc::buffer_size_mismatch;
    std::copy(plaintext.begin(), plaintext.end(), out.begin());
    return {};
  }
  if (nonce_ == max_nonce) return errc::nonce_exhausted;
  if (out.size() != plaintext.size() + tag_len) return errc::buffer_size_mismatch;
  const nonce_bytes nonce = make_nonce(nonce_);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &written, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), key_.data());
  ++nonce_;
  return {};
}

std::error_code cipher_state::decrypt_with_ad(std::span<const std::uint8_t> ad,
                                              std::span<const std::uint8_t> ciphertext,
                                              std::span<std::uint8_t> out) {
  if (!has_key_) {
    if (out.size() != ciphertext.size()) return errc::buffer_size_mismatch;
    std::copy(ciphertext.begin(), ciphertext.end(), out.begin());
    return {};
  }
  if (nonce_ == max_nonce) return errc::nonce_exhausted;
  // Too short to hold a tag: nothing can authenticate it.
  if (ciphertext.size() < tag_len) return errc::decrypt_failed;
  if (out.size() != ciphertext.size() - tag_len) return errc::buffer_size_mismatch;
  const nonce_bytes nonce = make_nonce(nonce_);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key_.data()) != 0) {
    return errc::decrypt_failed;  // the nonce stays: the next genuine record still decrypts
  }
  ++nonce_;
  return {};
}

std::error_code cipher_state::check_transport_ready() const noexcept {
  if (!has_key_) return errc::no_key;
  return {};
}

std::error_code cipher_state::encrypt(std::span<const std::uint8_t> plaintext,
                                      std::span<std::uint8_t> out) {
  if (auto ec = check_transport_ready()) return ec;
  return encrypt_with_ad({}, plaintext, out);
}

std::error_code cipher_state::decrypt(std::span<const std::uint8_t> ciphertext,
                                      std::span<std::uint8_t> out) {
  if (auto ec = check_transport_ready()) return ec;
  return decrypt_with_ad({}, ciphertext, out);
}

result<std::vector<std::uint8_t>> cipher_state::encrypt(std::span<const std::uint8_t> plaintext) {
  if (auto ec = check_transport_ready()) return ec;
  std::vector<std::uint8_t> out(plaintext.size() + tag_len);
  if (auto ec = encrypt_with_ad({}, plaintext, out)) return ec;
  return out;
}

result<std::vector<std::uint8_t>> cipher_state::decrypt(std::span<const std::uint8_t> ciphertext) {
  if (auto ec = check_transport_ready()) return ec;
  if (ciphertext.size() < tag_len) return std::error_code(errc::decrypt_failed);
  std::vector<std::uint8_t> out(ciphertext.size() - tag_len);
  if (auto ec = decrypt_with_ad({}, ciphertext, out)) return ec;
  return out;
}

// ---- symmetric_state (§5.2) ------------------------------------------------

symmetric_state::symmetric_state(std::string_view name) {
  if (name.size() <= hash_len) {
    std::copy(name.begin(), name.end(), h_.begin());  // the rest stays zero
  } else {
    crypto_hash_sha256(h_.data(), as_bytes(name).data(), name.size());
  }
  ck_ = h_;
}

symmetric_state::~symmetric_state() {
  sodium_memzero(ck_.data(), ck_.size());
  sodium_memzero(h_.data(), h_.size());
}

void symmetric_state::mix_key(std::span<const std::uint8_t> input_key_material) {
  auto out = noise_hkdf<2>(ck_, input_key_material);
  std::copy_n(out.begin(), hash_len, ck_.begin());
  // HASHLEN is 32 = the cipher key length: no truncation needed (§5.2).
  cipher_ = cipher_state(std::span<const std::uint8_t, key_len>(out.data() + hash_len, key_len));
  sodium_memzero(out.data(), out.size());
}

void symmetric_state::mix_hash(std::span<const std::uint8_t> data) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, h_.data(), h_.size());
  crypto_hash_sha256_update(&state, data.data(), data.size());
  crypto_hash_sha256_final(&state, h_.data());
}

void symmetric_state::mix_key_and_hash(std::span<const std::uint8_t> input_key_material) {
  auto out = noise_hkdf<3>(ck_, input_key_material);
  std::copy_n(out.begin(), hash_len, ck_.begin());
  mix_hash(std::span<const std::uint8_t>(out.data() + hash_len, hash_len));
  cipher_ =
      cipher_state(std::span<const std::uint8_t, key_len>(out.data() + 2 * hash_len, key_len));
  sodium_memzero(out.data(), out.size());
}

std::error_code symmetric_state::encrypt_and_hash(std::span<const std::uint8_t> plaintext,
                                                  std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + (cipher_.has_key() ? tag_len : 0));
  const std::span<std::uint8_t> ciphertext = std::span(out).subspan(start);
  if (auto ec = cipher_.encrypt_with_ad(h_, plaintext, ciphertext)) {
    out.resize(start);
    return ec;
  }
  mix_hash(ciphertext);
  return {};
}

std::error_code symmetric_state::decrypt_and_hash(std::span<const std::uint8_t> ciphertext,
                                                  std::vector<std::uint8_t>& out) {
  const std::size_t overhead = cipher_.has_key() ? tag_len : 0;
  if (ciphertext.size() < overhead) return errc::decrypt_failed;
  const std::size_t start = out.size();
  out.resize(start + ciphertext.size() - overhead);
  if (auto ec = cipher_.decrypt_with_ad(h_, ciphertext, std::span(out).subspan(start))) {
    out.resize(start);
    return ec;
  }
  mix_hash(ciphertext);
  return {};
}

std::array<cipher_state, 2> symmetric_state::split() {
  auto out = noise_hkdf<2>(ck_, {});
  std::array<cipher_state, 2> ciphers{
      cipher_state(std::span<const std::uint8_t, key_len>(out.data(), key_len)),
      cipher_state(std::span<const std::uint8_t, key_len>(out.data() + hash_len, key_len))};
  sodium_memzero(out.data(), out.size());
  sodium_memzero(ck_.data(), ck_.size());
  return ciphers;
}

// ---- handshake_initiator: the client's NX (§5.3, §7.4) ---------------------

handshake_initiator::handshake_initiator(std::span<const std::uint8_t> prologue,
                                         std::optional<keypair> ephemeral)
    : symmetric_(protocol_name), ephemeral_(std::move(ephemeral)) {
  // Initialize(): MixHash(prologue); NX has no pre-message keys.
  symmetric_.mix_hash(prologue);
}

result<std::vector<std::uint8_t>> handshake_initiator::write_message_1(
    std::span<const std::uint8_t> payload) {
  if (step_ != step::write_1) return std::error_code(errc::handshake_out_of_order);
  if (payload.size() > max_handshake_message_len - message_1_len) {
    step_ = step::failed;
    return std::error_code(errc::bad_handshake_message);
  }
  if (!ephemeral_) ephemeral_.emplace(keypair::generate());
  std::vector<std::uint8_t> message;
  message.reserve(message_1_len + payload.size());
  // -> e
  const public_key& e = ephemeral_->public_key();
  message.insert(message.end(), e.begin(), e.end());
  symmetric_.mix_hash(e);
  // payload, in clear: there is no key yet (EncryptAndHash passes it through).
  if (auto ec = symmetric_.encrypt_and_hash(payload, message)) {
    step_ = step::failed;
    return ec;
  }
  step_ = step::read_2;
  return message;
}

result<std::vector<std::uint8_t>> handshake_initiator::read_message_2(
    std::span<const std::uint8_t> message) {
  if (step_ != step::read_2) return std::error_code(errc::handshake_out_of_order);
  step_ = step::failed;  // until every token below has succeeded
  auto fail = [this](std::error_code ec) -> result<std::vector<std::uint8_t>> {
    ephemeral_.reset();
    return ec;
  };
  if (message.size() < message_2_len || message.size() > max_handshake_message_len) {
    return fail(errc::bad_handshake_message);
  }
  // <- e
  std::copy_n(message.begin(), dh_len, remote_ephemeral_.begin());
  symmetric_.mix_hash(remote_ephemeral_);
  // ee
  if (auto ec = mix_dh(symmetric_, *ephemeral_, remote_ephemeral_)) return fail(ec);
  // s: the server's static key, encrypted under the ee key.
  std::vector<std::uint8_t> decrypted;
  if (auto ec = symmetric_.decrypt_and_hash(message.subspan(dh_len, dh_len + tag_len), decrypted)) {
    return fail(ec);
  }
  std::copy(decrypted.begin(), decrypted.end(), remote_static_.begin());
  // es (initiator side: DH(e, rs))
  if (auto ec = mix_dh(symmetric_, *ephemeral_, remote_static_)) return fail(ec);
  // payload
  std::vector<std::uint8_t> payload;
  if (auto ec = symmetric_.decrypt_and_hash(message.subspan(dh_len + dh_len + tag_len), payload)) {
    return fail(ec);
  }
  ephemeral_.reset();  // the ephemeral private key is no longer needed: wipe it now
  step_ = step::split;
  return payload;
}

result<transport_ciphers> handshake_initiator::split() {
  if (step_ != step::split) return std::error_code(errc::handshake_out_of_order);
  step_ = step::done;
  auto ciphers = symmetric_.split();
  return transport_ciphers{std::move(ciphers[0]), std::move(ciphers[1])};
}

// ---- handshake_responder: the server's NX ----------------------------------

handshake_responder::handshake_responder(const keypair& static_key,
                                         std::span<const std::uint8_t> prologue,
                                         std::optional<keypair> ephemeral)
    : symmetric_(protocol_name), static_(static_key), ephemeral_(std::move(ephemeral)) {
  symmetric_.mix_hash(prologue);
}

result<std::vector<std::uint8_t>> handshake_responder::read_message_1(
    std::span<const std::uint8_t> message) {
  if (step_ != step::read_1) return std::error_code(errc::handshake_out_of_order);
  step_ = step::failed;
  if (message.size() < message_1_len || message.size() > max_handshake_message_len) {
    return std::error_code(errc::bad_handshake_message);
  }
  // -> e
  std::copy_n(message.begin(), dh_len, remote_ephemeral_.begin());
  symmetric_.mix_hash(remote_ephemeral_);
  // payload, in clear
  std::vector<std::uint8_t> payload;
  if (auto ec = symmetric_.decrypt_and_hash(message.subspan(dh_len), payload)) return ec;
  step_ = step::write_2;
  return payload;
}

result<std::vector<std::uint8_t>> handshake_responder::write_message_2(
    std::span<const std::uint8_t> payload) {
  if (step_ != step::write_2) return std::error_code(errc::handshake_out_of_order);
  step_ = step::failed;
  auto fail = [this](std::error_code ec) -> result<std::vector<std::uint8_t>> {
    ephemeral_.reset();
    return ec;
  };
  if (payload.size() > max_handshake_message_len - message_2_len) {
    return fail(errc::bad_handshake_message);
  }
  if (!ephemeral_) ephemeral_.emplace(keypair::generate());
  std::vector<std::uint8_t> message;
  message.reserve(message_2_len + payload.size());
  // <- e
  const public_key& e = ephemeral_->public_key();
  message.insert(message.end(), e.begin(), e.end());
  symmetric_.mix_hash(e);
  // ee
  if (auto ec = mix_dh(symmetric_, *ephemeral_, remote_ephemeral_)) return fail(ec);
  // s
  if (auto ec = symmetric_.encrypt_and_hash(static_.public_key(), message)) return fail(ec);
  // es (responder side: DH(s, re))
  if (auto ec = mix_dh(symmetric_, static_, remote_ephemeral_)) return fail(ec);
  // payload
  if (auto ec = symmetric_.encrypt_and_hash(payload, message)) return fail(ec);
  ephemeral_.reset();
  step_ = step::split;
  return message;
}

result<transport_ciphers> handshake_responder::split() {
  if (step_ != step::split) return std::error_code(errc::handshake_out_of_order);
  step_ = step::done;
  auto ciphers = symmetric_.split();
  // The first cipher is initiator to responder: the server receives with it.
  return transport_ciphers{std::move(ciphers[1]), std::move(ciphers[0])};
}

}  // namespace capchan::crypto::noise
