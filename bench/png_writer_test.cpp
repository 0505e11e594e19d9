// The PNG writer of capchan-bench: its checksums against published check
// values, and a written image read back chunk by chunk.
#include <catch2/catch.hpp>

#include <string_view>

#include "png_writer.hpp"

using namespace capchan::bench;

namespace {

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::uint32_t u32_at(const std::vector<std::uint8_t>& b, std::size_t at) {
  return std::uint32_t{b[at]} << 24 | std::uint32_t{b[at + 1]} << 16 | std::uint32_t{b[at + 2]} << 8 | b[at + 3];
}

}  // namespace

TEST_CASE("crc32 matches the standard check values", "[bench][png]") {
  CHECK(crc32(bytes_of("")) == 0u);
  CHECK(crc32(bytes_of("123456789")) == 0xCBF43926u);  // the CRC-32 catalogue's check value
  CHECK(crc32(bytes_of("The quick brown fox jumps over the lazy dog")) == 0x414FA339u);
  // Incremental use gives the same value as one call.
  CHECK(crc32(bytes_of("6789"), crc32(bytes_of("12345"))) == 0xCBF43926u);
  CHECK(crc32(bytes_of("IEND")) == 0xAE426082u);  // every PNG ends with these bytes
}

TEST_CASE("adler32 matches RFC 1950 values", "[bench][png]") {
  CHECK(adler32(bytes_of("")) == 1u);
  CHECK(adler32(bytes_of("Wikipedia")) == 0x11E60398u);
  CHECK(adler32(bytes_of("abc")) == 0x024D0127u);
}

TEST_CASE("a written PNG has valid chunks and holds the pixels", "[bench][png]") {
  // Wide enough that the pixel data spans two stored deflate blocks.
  image img(200, 120, rgb{10, 20, 30});
  img.set(3, 2, rgb{255, 0, 0});
  img.text(10, 10, "p50 42", rgb{0, 0, 0});
  const auto png = img.to_png();
  REQUIRE(png.size() > 8);
  CHECK(std::vector<std::uint8_t>(png.begin(), png.begin() + 8) ==
        std::vector<std::uint8_t>{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});

  std::size_t at = 8;
  std::vector<std::string> types;
  std::vector<std::uint8_t> idat;
  while (at + 12 <= png.size()) {
    const std::uint32_t length = u32_at(png, at);
    const std::string type(png.begin() + static_cast<std::ptrdiff_t>(at + 4), png.begin() + static_cast<std::ptrdiff_t>(at + 8));
    REQUIRE(at + 12 + length <= png.size());
    const std::span<const std::uint8_t> typed(png.data() + at + 4, length + 4);
    CHECK(crc32(typed) == u32_at(png, at + 8 + length));
    if (type == "IHDR") {
      CHECK(u32_at(png, at + 8) == 200u);
      CHECK(u32_at(png, at + 12) == 120u);
    }
    if (type == "IDAT") idat.assign(png.begin() + static_cast<std::ptrdiff_t>(at + 8), png.begin() + static_cast<std::ptrdiff_t>(at + 8 + length));
    types.push_back(type);
    at += 12 + length;
  }
  CHECK(at == png.size());
  CHECK(types == std::vector<std::string>{"IHDR", "IDAT", "IEND"});

  // Undo the zlib stream of stored blocks and compare with the scanlines.
  REQUIRE(idat.size() > 6);
  CHECK((idat[0] * 256 + idat[1]) % 31 == 0);
  std::vector<std::uint8_t> raw;
  std::size_t p = 2;
  bool last = false;
  int blocks = 0;
  while (!last) {
    REQUIRE(p + 5 <= idat.size());
    last = (idat[p] & 1) != 0;
    CHECK((idat[p] & 6) == 0);  // BTYPE 00: stored
    const unsigned len = idat[p + 1] | idat[p + 2] << 8;
    const unsigned nlen = idat[p + 3] | idat[p + 4] << 8;
    CHECK((len ^ nlen) == 0xffffu);
    REQUIRE(p + 5 + len <= idat.size());
    raw.insert(raw.end(), idat.begin() + static_cast<std::ptrdiff_t>(p + 5), idat.begin() + static_cast<std::ptrdiff_t>(p + 5 + len));
    p += 5 + len;
    ++blocks;
  }
  CHECK(blocks == 2);
  REQUIRE(p + 4 == idat.size());
  CHECK(adler32(raw) == u32_at(idat, p));
  REQUIRE(raw.size() == 120u * (1 + 200 * 3));
  const std::size_t row = 2 * (1 + 200 * 3);
  CHECK(raw[row] == 0);  // filter type none
  CHECK(raw[row + 1 + 3 * 3] == 255);
  CHECK(raw[row + 1 + 3 * 3 + 1] == 0);
  CHECK(raw[1] == 10);
  CHECK(raw[2] == 20);
  CHECK(raw[3] == 30);
}

TEST_CASE("text draws ink for known glyphs and a box for unknown ones", "[bench][png]") {
  image img(40, 20, rgb{255, 255, 255});
  const int end = img.text(1, 1, "1", rgb{0, 0, 0});
  CHECK(end == 7);
  CHECK(img.at(3, 1).r == 0);   // the top of the 1's stem
  CHECK(img.at(1, 1).r == 255);
  img.text(10, 1, "~", rgb{0, 0, 0});
  CHECK(img.at(10, 1).r == 0);  // the missing-glyph box's corner
  CHECK(img.at(14, 7).r == 0);
}
