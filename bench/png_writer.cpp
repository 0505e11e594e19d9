// PNG encoding of an RGB image with stored deflate blocks, and the drawing
// primitives the latency plot needs (lines, boxes, a 5x7 bitmap font).
#include "png_writer.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <fstream>
#include <string>

namespace capchan::bench {
namespace {

// The 5x7 font: 7 rows of 5 dots per glyph, '#' for ink, rows separated by
// spaces. A classic LCD-style face; enough for axes, ticks and a legend.
struct glyph {
  char c;
  const char* rows;
};
constexpr std::array font{
    glyph{' ', "..... ..... ..... ..... ..... ..... ....."},
    glyph{'0', ".###. #...# #..## #.#.# ##..# #...# .###."},
    glyph{'1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."},
    glyph{'2', ".###. #...# ....# ...#. ..#.. .#... #####"},
    glyph{'3', "##### ...#. ..#.. ...#. ....# #...# .###."},
    glyph{'4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."},
    glyph{'5', "##### #.... ####. ....# ....# #...# .###."},
    glyph{'6', "..##. .#... #.... ####. #...# #...# .###."},
    glyph{'7', "##### ....# ...#. ..#.. .#... .#... .#..."},
    glyph{'8', ".###. #...# #...# .###. #...# #...# .###."},
    glyph{'9', ".###. #...# #...# .#### ....# ...#. .##.."},
    glyph{'a', "..... ..... .###. ....# .#### #...# .####"},
    glyph{'b', "#.... #.... #.##. ##..# #...# #...# ####."},
    glyph{'c', "..... ..... .###. #.... #.... #...# .###."},
    glyph{'d', "....# ....# .##.# #..## #...# #...# .####"},
    glyph{'e', "..... ..... .###. #...# ##### #.... .###."},
    glyph{'f', "..##. .#..# .#... ###.. .#... .#... .#..."},
    glyph{'g', "..... .#### #...# #...# .#### ....# .###."},
    glyph{'h', "#.... #.... #.##. ##..# #...# #...# #...#"},
    glyph{'i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."},
    glyph{'j', "...#. ..... ..##. ...#. ...#. #..#. .##.."},
    glyph{'k', "#.... #.... #..#. #.#.. ##... #.#.. #..#."},
    glyph{'l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."},
    glyph{'m', "..... ..... ##.#. #.#.# #.#.# #...# #...#"},
    glyph{'n', "..... ..... #.##. ##..# #...# #...# #...#"},
    glyph{'o', "..... ..... .###. #...# #...# #...# .###."},
    glyph{'p', "..... ..... ####. #...# ####. #.... #...."},
    glyph{'q', "..... ..... .##.# #..## .#### ....# ....#"},
    glyph{'r', "..... ..... #.##. ##..# #.... #.... #...."},
    glyph{'s', "..... ..... .###. #.... .###. ....# ####."},
    glyph{'t', ".#... .#... ###.. .#... .#... .#..# ..##."},
    glyph{'u', "..... ..... #...# #...# #...# #..## .##.#"},
    glyph{'v', "..... ..... #...# #...# #...# .#.#. ..#.."},
    glyph{'w', "..... ..... #...# #...# #.#.# #.#.# .#.#."},
    glyph{'x', "..... ..... #...# .#.#. ..#.. .#.#. #...#"},
    glyph{'y', "..... ..... #...# #...# .#### ....# .###."},
    glyph{'z', "..... ..... ##### ...#. ..#.. .#... #####"},
    glyph{'A', ".###. #...# #...# ##### #...# #...# #...#"},
    glyph{'B', "####. #...# #...# ####. #...# #...# ####."},
    glyph{'C', ".###. #...# #.... #.... #.... #...# .###."},
    glyph{'D', "###.. #..#. #...# #...# #...# #..#. ###.."},
    glyph{'E', "##### #.... #.... ####. #.... #.... #####"},
    glyph{'F', "##### #.... #.... ####. #.... #.... #...."},
    glyph{'G', ".###. #...# #.... #.### #...# #...# .####"},
    glyph{'H', "#...# #...# #...# ##### #...# #...# #...#"},
    glyph{'I', ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###."},
    glyph{'J', "..### ...#. ...#. ...#. ...#. #..#. .##.."},
    glyph{'K', "#...# #..#. #.#.. ##... #.#.. #..#. #...#"},
    glyph{'L', "#.... #.... #.... #.... #.... #.... #####"},
    glyph{'M', "#...# ##.## #.#.# #.#.# #...# #...# #...#"},
    glyph{'N', "#...# #...# ##..# #.#.# #..## #...# #...#"},
    glyph{'O', ".###. #...# #...# #...# #...# #...# .###."},
    glyph{'P', "####. #...# #...# ####. #.... #.... #...."},
    glyph{'Q', ".###. #...# #...# #...# #.#.# #..#. .##.#"},
    glyph{'R', "####. #...# #...# ####. #.#.. #..#. #...#"},
    glyph{'S', ".#### #.... #.... .###. ....# ....# ####."},
    glyph{'T', "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#.."},
    glyph{'U', "#...# #...# #...# #...# #...# #...# .###."},
    glyph{'V', "#...# #...# #...# #...# #...# .#.#. ..#.."},
    glyph{'W', "#...# #...# #...# #.#.# #.#.# #.#.# .#.#."},
    glyph{'X', "#...# #...# .#.#. ..#.. .#.#. #...# #...#"},
    glyph{'Y', "#...# #...# #...# .#.#. ..#.. ..#.. ..#.."},
    glyph{'Z', "##### ....# ...#. ..#.. .#... #.... #####"},
    glyph{'.', "..... ..... ..... ..... ..... .##.. .##.."},
    glyph{',', "..... ..... ..... ..... .##.. ..#.. .#..."},
    glyph{':', "..... .##.. .##.. ..... .##.. .##.. ....."},
    glyph{'(', "...#. ..#.. .#... .#... .#... ..#.. ...#."},
    glyph{')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."},
    glyph{'-', "..... ..... ..... ##### ..... ..... ....."},
    glyph{'+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."},
    glyph{'/', "..... ....# ...#. ..#.. .#... #.... ....."},
    glyph{'%', "##... ##..# ...#. ..#.. .#... #..## ...##"},
    glyph{'=', "..... ..... ##### ..... ##### ..... ....."},
    glyph{'<', "...#. ..#.. .#... #.... .#... ..#.. ...#."},
    glyph{'>', ".#... ..#.. ...#. ....# ...#. ..#.. .#..."},
    glyph{'_', "..... ..... ..... ..... ..... ..... #####"},
};
constexpr int glyph_width = 5, glyph_height = 7, glyph_advance = 6;
constexpr const char* missing_glyph = "##### #...# #...# #...# #...# #...# #####";

const char* rows_of(char c) {
  for (const auto& g : font) {
    if (g.c == c) return g.rows;
  }
  return missing_glyph;
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

// One chunk: length, type, data, CRC-32 of type and data (PNG §5.3).
void put_chunk(std::vector<std::uint8_t>& out, const char (&type)[5], std::span<const std::uint8_t> data) {
  put_u32(out, static_cast<std::uint32_t>(data.size()));
  const std::size_t type_at = out.size();
  out.insert(out.end(), type, type + 4);
  out.insert(out.end(), data.begin(), data.end());
  put_u32(out, crc32(std::span(out).subspan(type_at)));
}

// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4):
// each block holds at most 65,535 bytes behind LEN and its one's complement.
std::vector<std::uint8_t> zlib_stored(std::span<const std::uint8_t> raw) {
  constexpr std::size_t max_block = 65'535;
  std::vector<std::uint8_t> out{0x78, 0x01};  // deflate, 32 KiB window; (0x78 << 8 | 0x01) % 31 == 0
  std::size_t at = 0;
  do {
    const std::size_t n = std::min(max_block, raw.size() - at);
    const bool last = at + n == raw.size();
    out.push_back(last ? 1 : 0);  // BFINAL, BTYPE = 00
    const auto len = static_cast<std::uint16_t>(n);
    const auto nlen = static_cast<std::uint16_t>(~len);
    out.push_back(static_cast<std::uint8_t>(len & 0xff));
    out.push_back(static_cast<std::uint8_t>(len >> 8));
    out.push_back(static_cast<std::uint8_t>(nlen & 0xff));
    out.push_back(static_cast<std::uint8_t>(nlen >> 8));
    out.insert(out.end(), raw.begin() + static_cast<std::ptrdiff_t>(at),
               raw.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  } while (at < raw.size());
  put_u32(out, adler32(raw));
  return out;
}

}  // namespace

std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc) {
  static const auto table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t n = 0; n < 256; ++n) {
      std::uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  crc = ~crc;
  for (const std::uint8_t b : bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::uint32_t adler32(std::span<const std::uint8_t> bytes, std::uint32_t adler) {
  constexpr std::uint32_t mod = 65'521;
  std::uint32_t a = adler & 0xffff, b = adler >> 16;
  for (const std::uint8_t byte : bytes) {
    a = (a + byte) % mod;
    b = (b + a) % mod;
  }
  return b << 16 | a;
}

image::image(int width, int height, rgb background)
    : width_(width), height_(height), pixels_(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3) {
  rect(0, 0, width - 1, height - 1, background);
}

void image::set(int x, int y, rgb colour) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  const auto at = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  pixels_[at] = colour.r;
  pixels_[at + 1] = colour.g;
  pixels_[at + 2] = colour.b;
}

rgb image::at(int x, int y) const {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return {};
  const auto at = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  return {pixels_[at], pixels_[at + 1], pixels_[at + 2]};
}

void image::line(int x0, int y0, int x1, int y1, rgb colour) {
  const int dx = std::abs(x1 - x0), sx = x0 < x1 ? 1 : -1;
  const int dy = -std::abs(y1 - y0), sy = y0 < y1 ? 1 : -1;
  int err = dx + dy;
  for (;;) {
    set(x0, y0, colour);
    if (x0 == x1 && y0 == y1) return;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

void image::rect(int x0, int y0, int x1, int y1, rgb colour) {
  for (int y = std::min(y0, y1); y <= std::max(y0, y1); ++y) {
    for (int x = std::min(x0, x1); x <= std::max(x0, x1); ++x) set(x, y, colour);
  }
}

int image::text(int x, int y, std::string_view s, rgb colour, int scale) {
  for (const char c : s) {
    const char* rows = rows_of(c);
    for (int row = 0; row < glyph_height; ++row) {
      for (int col = 0; col < glyph_width; ++col) {
        if (rows[row * (glyph_width + 1) + col] != '#') continue;
        rect(x + col * scale, y + row * scale, x + (col + 1) * scale - 1, y + (row + 1) * scale - 1, colour);
      }
    }
    x += glyph_advance * scale;
  }
  return x;
}

int image::text_width(std::string_view s, int scale) {
  return static_cast<int>(s.size()) * glyph_advance * scale;
}

std::vector<std::uint8_t> image::to_png() const {
  std::vector<std::uint8_t> out{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  std::vector<std::uint8_t> header;
  put_u32(header, static_cast<std::uint32_t>(width_));
  put_u32(header, static_cast<std::uint32_t>(height_));
  header.insert(header.end(), {8, 2, 0, 0, 0});  // 8 bits, RGB, deflate, adaptive filters, no interlace
  put_chunk(out, "IHDR", header);

  // Each scanline starts with its filter type: 0, none.
  const auto row_bytes = static_cast<std::size_t>(width_) * 3;
  std::vector<std::uint8_t> raw;
  raw.reserve((row_bytes + 1) * static_cast<std::size_t>(height_));
  for (int y = 0; y < height_; ++y) {
    raw.push_back(0);
    const auto begin = pixels_.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(y) * row_bytes);
    raw.insert(raw.end(), begin, begin + static_cast<std::ptrdiff_t>(row_bytes));
  }
  put_chunk(out, "IDAT", zlib_stored(raw));
  put_chunk(out, "IEND", {});
  return out;
}

bool write_file(const std::filesystem::path& file, std::span<const std::uint8_t> bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(out);
}

}  // namespace capchan::bench
