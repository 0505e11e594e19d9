// The SCRAM-like password proof (DESIGN.md §3): a full login computed on both
// sides, every way it must fail, the argon2id parameter limits, the server's
// derived salts, and a known-answer test of the whole derivation chain.
//
// Tests use argon2id's smallest parameters (1 pass, 8 KiB) to stay fast; one
// test runs the INTERACTIVE defaults (64 MiB).
#include <catch2/catch.hpp>

#include <string_view>
#include <vector>

#include "capchan/core/crypto/password_proof.hpp"
#include "crypto_test_support.hpp"

namespace {

namespace crypto = capchan::crypto;
using crypto::errc;
using crypto_test::bytes;
using crypto_test::from_hex;
using crypto_test::to_vector;

template <std::size_t N>
std::array<std::uint8_t, N> array_from_hex(std::string_view text) {
  const bytes raw = from_hex(text);
  REQUIRE(raw.size() == N);
  std::array<std::uint8_t, N> out{};
  std::copy(raw.begin(), raw.end(), out.begin());
  return out;
}

// The known-answer inputs. The frames are the ETF bytes of
// {login, <<"nameServer">>} and {challenge, Salt, {argon2id, 1, 8192}}.
constexpr std::string_view kat_password = "ABXy45";
constexpr std::string_view kat_salt = "000102030405060708090a0b0c0d0e0f";
constexpr std::string_view kat_h =
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr std::string_view kat_login = "83680277056c6f67696e6d0000000a6e616d65536572766572";
constexpr std::string_view kat_challenge =
    "83680377096368616c6c656e67656d00000010000102030405060708090a0b0c0d0e0f"
    "680377086172676f6e32696461016200002000";
constexpr std::string_view kat_server_secret =
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

// A login as the session layer will run it.
struct login_fixture {
  crypto::noise::handshake_hash h;  // from a real Noise handshake
  bytes login_frame = from_hex(kat_login);
  bytes challenge_frame = from_hex(kat_challenge);

  login_fixture()
      : h(crypto_test::capchan_handshake(crypto::noise::keypair::generate()).client_hash) {}

  crypto::auth_message message() const { return {h, login_frame, challenge_frame}; }
};

}  // namespace

TEST_CASE("a full login computed on both sides succeeds", "[crypto][password]") {
  const login_fixture f;
  const auto verifier =
      crypto::make_verifier("ABXy45", crypto::random_salt(), crypto::argon2id_min).value();

  // Client: argon2id with the challenge's salt and parameters, then the proof.
  const auto salted =
      crypto::client_salted_password("ABXy45", verifier.salt, verifier.params).value();
  const crypto::scram_key proof = crypto::client_proof(salted, f.message());

  // Server: checks the proof, answers with its signature.
  CHECK(crypto::verify_client_proof(verifier, f.message(), proof));
  const crypto::scram_key signature = crypto::server_signature(verifier, f.message());

  // Client: the server knew the verifier, so it is the real one.
  CHECK(crypto::verify_server_signature(salted, f.message(), signature));
}

TEST_CASE("a wrong password fails", "[crypto][password]") {
  const login_fixture f;
  const auto salt = crypto::random_salt();
  const auto verifier = crypto::make_verifier("ABXy45", salt, crypto::argon2id_min).value();
  for (std::string_view wrong : {"ABXy46", "abxy45", "ABXy45 ", "", "ABXy4"}) {
    INFO(wrong);
    const auto salted = crypto::client_salted_password(wrong, salt, crypto::argon2id_min).value();
    CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(),
                                            crypto::client_proof(salted, f.message())));
    CHECK_FALSE(crypto::verify_server_signature(salted, f.message(),
                                                crypto::server_signature(verifier, f.message())));
  }
  // The right password with another salt is wrong too.
  const auto other_salt =
      crypto::client_salted_password("ABXy45", crypto::random_salt(), crypto::argon2id_min).value();
  CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(),
                                          crypto::client_proof(other_salt, f.message())));
}

TEST_CASE("a tampered proof, another h or other frames fail", "[crypto][password]") {
  const login_fixture f;
  const auto salt = crypto::random_salt();
  const auto verifier = crypto::make_verifier("ABXy45", salt, crypto::argon2id_min).value();
  const auto salted = crypto::client_salted_password("ABXy45", salt, crypto::argon2id_min).value();
  const crypto::scram_key proof = crypto::client_proof(salted, f.message());
  REQUIRE(crypto::verify_client_proof(verifier, f.message(), proof));

  SECTION("any flipped bit of the proof") {
    for (std::size_t i = 0; i < proof.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        crypto::scram_key tampered = proof;
        tampered[i] ^= static_cast<std::uint8_t>(1 << bit);
        CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(), tampered));
      }
    }
  }
  SECTION("a proof of the wrong size") {
    const bytes shorter(proof.begin(), proof.end() - 1);
    bytes longer(proof.begin(), proof.end());
    longer.push_back(0);
    CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(), shorter));
    CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(), longer));
    CHECK_FALSE(crypto::verify_client_proof(verifier, f.message(), bytes{}));
  }
  SECTION("another channel's h: a proof cannot be replayed elsewhere") {
    const login_fixture other;
    CHECK_FALSE(crypto::verify_client_proof(verifier, other.message(), proof));
  }
  SECTION("other login or challenge frames") {
    login_fixture changed = f;
    changed.login_frame.back() ^= 1;  // another service name
    CHECK_FALSE(crypto::verify_client_proof(verifier, changed.message(), proof));
    changed = f;
    changed.challenge_frame[20] ^= 1;  // another salt
    CHECK_FALSE(crypto::verify_client_proof(verifier, changed.message(), proof));
    changed = f;
    changed.challenge_frame.pop_back();  // other parameters
    CHECK_FALSE(crypto::verify_client_proof(verifier, changed.message(), proof));
    // Moving bytes between frames changes AuthMessage's parts but not their
    // concatenation: that is the same AuthMessage, by design (the frames are
    // self-delimiting ETF, so a real peer cannot do this).
  }
  SECTION("a tampered or truncated server signature") {
    const crypto::scram_key signature = crypto::server_signature(verifier, f.message());
    REQUIRE(crypto::verify_server_signature(salted, f.message(), signature));
    for (std::size_t i = 0; i < signature.size(); ++i) {
      crypto::scram_key tampered = signature;
      tampered[i] ^= 0x01;
      CHECK_FALSE(crypto::verify_server_signature(salted, f.message(), tampered));
    }
    CHECK_FALSE(crypto::verify_server_signature(
        salted, f.message(), std::span<const std::uint8_t>(signature.data(), 31)));
    const login_fixture other;
    CHECK_FALSE(crypto::verify_server_signature(salted, other.message(), signature));
  }
}

TEST_CASE("known answers for the derivation chain, computed by an independent route",
          "[crypto][password]") {
  // Expected values from Python 3.11: argon2id by the `cryptography` package
  // (OpenSSL's Argon2id, lanes=1, memory_cost=MemLimit/1024 KiB, as libsodium
  // does), HMAC and SHA-256 by the standard hmac and hashlib modules.
  const auto salt = array_from_hex<16>(kat_salt);
  const auto h = array_from_hex<32>(kat_h);
  const bytes login = from_hex(kat_login);
  const bytes challenge = from_hex(kat_challenge);
  const crypto::auth_message message{h, login, challenge};

  const auto salted =
      crypto::client_salted_password(kat_password, salt, crypto::argon2id_min).value();
  CHECK(to_vector(salted.bytes()) ==
        from_hex("4bf7c86bd49ecf5d2682a2d03e272a5e325d07a91203638ce5be6bc7a9fac04b"));

  const auto verifier = crypto::make_verifier(kat_password, salt, crypto::argon2id_min).value();
  CHECK(verifier.salt == salt);
  CHECK(verifier.params == crypto::argon2id_min);
  CHECK(to_vector(verifier.stored_key) ==
        from_hex("23057d1537f71901ee5fab2381bdb1743097b7d8f48bbe9086b7d3813a956a50"));
  CHECK(to_vector(verifier.server_key) ==
        from_hex("806a785b990c784d0ef18b05a05ce4b4b16ec7cc00f982341b7e3adfddd47560"));

  CHECK(to_vector(crypto::client_proof(salted, message)) ==
        from_hex("b5d2bc3392ca7a43ef971737bffa40ee744538bd8897fefad1bd608cc0a014e5"));
  CHECK(to_vector(crypto::server_signature(verifier, message)) ==
        from_hex("517e9544459ba6599b61373a496e309e73b7d2a9147bf84e6e31d9fcf91932aa"));

  // The verifier of a SaltedPassword needs no argon2id and is the same.
  const auto from_salted = crypto::make_verifier(salted, salt, crypto::argon2id_min);
  CHECK(from_salted.stored_key == verifier.stored_key);
  CHECK(from_salted.server_key == verifier.server_key);
}

TEST_CASE("argon2id with the INTERACTIVE defaults", "[crypto][password]") {
  STATIC_REQUIRE(crypto::argon2id_interactive.ops_limit == 2);
  STATIC_REQUIRE(crypto::argon2id_interactive.mem_limit == 64u * 1024 * 1024);
  const auto salt = array_from_hex<16>(kat_salt);
  const auto salted =
      crypto::client_salted_password(kat_password, salt, crypto::argon2id_interactive).value();
  // Python, as above: Argon2id(salt, length=32, iterations=2, lanes=1, memory_cost=65536).
  CHECK(to_vector(salted.bytes()) ==
        from_hex("3be780c25f08f23a9791a7e0de49a631ce689fd2212608e83d201c9ab52636de"));
}

TEST_CASE("argon2id parameters: libsodium's range everywhere, client caps on the client",
          "[crypto][password]") {
  using crypto::argon2id_params;
  CHECK_FALSE(crypto::check_argon2id_params(crypto::argon2id_min));
  CHECK_FALSE(crypto::check_argon2id_params(crypto::argon2id_interactive));
  CHECK(crypto::check_argon2id_params({0, 8192}) == errc::argon2id_params_out_of_range);
  CHECK(crypto::check_argon2id_params({1, 8191}) == errc::argon2id_params_out_of_range);
  CHECK(crypto::check_argon2id_params({4294967296u, 8192}) == errc::argon2id_params_out_of_range);
  CHECK(crypto::check_argon2id_params({1, crypto::argon2id_max.mem_limit + 1}) ==
        errc::argon2id_params_out_of_range);

  const argon2id_params at_cap{crypto::client_max_ops_limit, crypto::client_max_mem_limit};
  CHECK_FALSE(crypto::check_client_argon2id_params(at_cap));
  CHECK(crypto::check_client_argon2id_params({crypto::client_max_ops_limit + 1, 8192}) ==
        errc::argon2id_params_over_client_cap);
  CHECK(crypto::check_client_argon2id_params({1, crypto::client_max_mem_limit + 1}) ==
        errc::argon2id_params_over_client_cap);
  CHECK(crypto::check_client_argon2id_params({0, 8192}) == errc::argon2id_params_out_of_range);

  // A hostile server's challenge is refused before any work is done: 4 TiB
  // and 2^32-1 passes would otherwise run for days.
  const auto salt = crypto::random_salt();
  CHECK(crypto::client_salted_password("pw", salt, crypto::argon2id_max).error() ==
        errc::argon2id_params_over_client_cap);
  CHECK(crypto::client_salted_password("pw", salt, {1, 1}).error() ==
        errc::argon2id_params_out_of_range);

  // The operator's own verifier has no client cap: 17 passes of 8 KiB are
  // cheap, and allowed on the server side.
  CHECK(crypto::make_verifier("pw", salt, {17, 8192}).has_value());
  CHECK(crypto::make_verifier("pw", salt, {0, 8192}).error() == errc::argon2id_params_out_of_range);
}

TEST_CASE("salts derived from the server secret: stable, per service, per purpose",
          "[crypto][password]") {
  const auto secret = array_from_hex<32>(kat_server_secret);
  // Python: HKDF(SHA256, length, salt=None, info=label + b"\0" + service)
  // .derive(secret) from the `cryptography` package.
  CHECK(to_vector(crypto::fake_salt(secret, "nameServer")) ==
        from_hex("73684c9452a4f049d1b8400400a45006"));
  CHECK(to_vector(crypto::fake_salt(secret, "other")) ==
        from_hex("c46064af8e8fa9bafa8da2f256f62d7a"));
  CHECK(to_vector(crypto::config_password_salt(secret, "nameServer")) ==
        from_hex("424e1aa5cc296b3b99bdc28d7c9724bb"));
  CHECK(crypto::fake_salt(secret, "nameServer") == crypto::fake_salt(secret, "nameServer"));

  auto other_secret = secret;
  other_secret[0] ^= 1;
  CHECK(crypto::fake_salt(other_secret, "nameServer") != crypto::fake_salt(secret, "nameServer"));

  const crypto::password_verifier fake = crypto::fake_verifier(secret, "nameServer");
  CHECK(fake.salt == crypto::fake_salt(secret, "nameServer"));
  CHECK(fake.params == crypto::argon2id_interactive);
  CHECK(to_vector(fake.stored_key) ==
        from_hex("4b81c00f56454e8b1d963d9b78efcc73db939eb69b0319210c3a9498c5242899"));
  CHECK(to_vector(fake.server_key) ==
        from_hex("9a5bc8bac0628f7b1f839441d1c0bfde7fa163428d60ec39226c29ff6d51485e"));
}

TEST_CASE("an unknown service's fake verifier refuses every proof", "[crypto][password]") {
  const login_fixture f;
  const auto secret = crypto::noise::keypair::generate();
  const crypto::password_verifier fake = crypto::fake_verifier(secret.private_key(), "nope");
  // Whatever the client's password, with the fake salt (small parameters
  // here for speed; the proof does not depend on how SaltedPassword came).
  for (std::string_view password : {"", "ABXy45", "nope"}) {
    const auto salted =
        crypto::client_salted_password(password, fake.salt, crypto::argon2id_min).value();
    CHECK_FALSE(
        crypto::verify_client_proof(fake, f.message(), crypto::client_proof(salted, f.message())));
  }
}

TEST_CASE("random salts differ", "[crypto][password]") {
  CHECK(crypto::random_salt() != crypto::random_salt());
}
