// Helpers shared by the crypto tests (hkdf_test, noise_test,
// password_proof_test): hex fixtures and a finished capchan handshake.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/hex.hpp"

namespace crypto_test {

using bytes = std::vector<std::uint8_t>;

inline bytes from_hex(std::string_view text) {
  return capchan::hex::decode(text).value();
}

inline bytes as_bytes(std::string_view text) {
  return bytes(text.begin(), text.end());
}

template <class Array>
bytes to_vector(const Array& array) {
  return bytes(array.begin(), array.end());
}

// A finished capchan-shaped handshake (DESIGN.md §3: prologue "capchan/1",
// empty payloads) between a fresh client and a server with `server_static`.
struct session {
  capchan::crypto::noise::transport_ciphers client;
  capchan::crypto::noise::transport_ciphers server;
  capchan::crypto::noise::handshake_hash client_hash;
  capchan::crypto::noise::handshake_hash server_hash;
  capchan::crypto::noise::public_key server_key_seen_by_client;
};

inline session capchan_handshake(const capchan::crypto::noise::keypair& server_static) {
  namespace noise = capchan::crypto::noise;
  const bytes prologue = as_bytes(noise::capchan_prologue);
  noise::handshake_initiator client(prologue);
  noise::handshake_responder server(server_static, prologue);
  auto m1 = client.write_message_1();
  REQUIRE(m1.has_value());
  REQUIRE(server.read_message_1(*m1).has_value());
  auto m2 = server.write_message_2();
  REQUIRE(m2.has_value());
  REQUIRE(client.read_message_2(*m2).has_value());
  auto client_ciphers = client.split();
  auto server_ciphers = server.split();
  REQUIRE(client_ciphers.has_value());
  REQUIRE(server_ciphers.has_value());
  return {std::move(*client_ciphers), std::move(*server_ciphers), client.hash(), server.hash(),
          client.remote_static_key()};
}

}  // namespace crypto_test
