// HKDF-SHA256 against RFC 5869 Appendix A, test cases 1-3 (the SHA-256 ones),
// and its length limits (RFC 5869 §2.3).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "capchan/core/crypto/hkdf.hpp"
#include "crypto_test_support.hpp"

namespace {

using capchan::crypto::errc;

using crypto_test::from_hex;

std::vector<std::uint8_t> byte_range(int first, int last) {  // [first, last]
  std::vector<std::uint8_t> out;
  for (int b = first; b <= last; ++b) out.push_back(static_cast<std::uint8_t>(b));
  return out;
}

struct rfc5869_case {
  const char* name;
  std::vector<std::uint8_t> ikm, salt, info;
  std::size_t length;
  std::string_view prk, okm;
};

}  // namespace

TEST_CASE("HKDF-SHA256 matches RFC 5869 Appendix A test cases 1-3", "[crypto][hkdf]") {
  const std::vector<rfc5869_case> cases = {
      {"A.1 basic", std::vector<std::uint8_t>(22, 0x0b), byte_range(0x00, 0x0c),
       byte_range(0xf0, 0xf9), 42,
       "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
      {"A.2 longer inputs and outputs", byte_range(0x00, 0x4f), byte_range(0x60, 0xaf),
       byte_range(0xb0, 0xff), 82,
       "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
       "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      {"A.3 zero-length salt and info",
       std::vector<std::uint8_t>(22, 0x0b),
       {},
       {},
       42,
       "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto prk = capchan::crypto::hkdf_extract(c.salt, c.ikm);
    CHECK(std::vector<std::uint8_t>(prk.begin(), prk.end()) == from_hex(c.prk));

    std::vector<std::uint8_t> okm(c.length);
    REQUIRE_FALSE(capchan::crypto::hkdf_expand(prk, c.info, okm));
    CHECK(okm == from_hex(c.okm));

    std::vector<std::uint8_t> one_call(c.length);
    REQUIRE_FALSE(capchan::crypto::hkdf(c.salt, c.ikm, c.info, one_call));
    CHECK(one_call == from_hex(c.okm));
  }
}

TEST_CASE("HKDF output is a prefix of any longer output", "[crypto][hkdf]") {
  const auto prk = capchan::crypto::hkdf_extract({}, std::vector<std::uint8_t>(32, 7));
  std::vector<std::uint8_t> short_okm(10), long_okm(100);
  REQUIRE_FALSE(capchan::crypto::hkdf_expand(prk, {}, short_okm));
  REQUIRE_FALSE(capchan::crypto::hkdf_expand(prk, {}, long_okm));
  CHECK(std::equal(short_okm.begin(), short_okm.end(), long_okm.begin()));
}

TEST_CASE("HKDF refuses L > 255 * HashLen and a short PRK (RFC 5869 §2.3)", "[crypto][hkdf]") {
  using capchan::crypto::hkdf_max_output_len;
  STATIC_REQUIRE(hkdf_max_output_len == 8160);
  const auto prk = capchan::crypto::hkdf_extract({}, std::vector<std::uint8_t>(32, 1));

  std::vector<std::uint8_t> largest(hkdf_max_output_len, 0);
  CHECK_FALSE(capchan::crypto::hkdf_expand(prk, {}, largest));
  CHECK(std::any_of(largest.end() - 32, largest.end(), [](std::uint8_t b) { return b != 0; }));

  std::vector<std::uint8_t> too_long(hkdf_max_output_len + 1, 0);
  CHECK(capchan::crypto::hkdf_expand(prk, {}, too_long) == errc::hkdf_output_too_long);
  CHECK(capchan::crypto::hkdf({}, prk, {}, too_long) == errc::hkdf_output_too_long);
  CHECK(std::all_of(too_long.begin(), too_long.end(), [](std::uint8_t b) { return b == 0; }));

  std::vector<std::uint8_t> okm(32);
  const std::vector<std::uint8_t> short_prk(31, 1);
  CHECK(capchan::crypto::hkdf_expand(short_prk, {}, okm) == errc::hkdf_key_too_short);

  std::vector<std::uint8_t> empty;
  CHECK_FALSE(capchan::crypto::hkdf_expand(prk, {}, empty));
}

TEST_CASE("HMAC-SHA256 matches RFC 4231 test case 2 and an empty key is HashLen zeros",
          "[crypto][hkdf]") {
  const auto mac = capchan::crypto::hmac_sha256(
      crypto_test::as_bytes("Jefe"), crypto_test::as_bytes("what do ya want for nothing?"));
  CHECK(crypto_test::to_vector(mac) ==
        from_hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
  const std::vector<std::uint8_t> zeros(32, 0);
  CHECK(capchan::crypto::hmac_sha256({}, crypto_test::as_bytes("abc")) ==
        capchan::crypto::hmac_sha256(zeros, crypto_test::as_bytes("abc")));
}

TEST_CASE("crypto errors read as messages in their own category", "[crypto]") {
  const std::error_code ec = errc::decrypt_failed;
  CHECK(std::string(ec.category().name()) == "capchan.crypto");
  CHECK(ec.message().find("decryption failed") != std::string::npos);
}
