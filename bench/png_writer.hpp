// A small RGB image and the PNG encoder for it (RFC 2083 / ISO 15948): the
// benchmark's latency plot, without a new dependency. The pixel data goes
// into stored (uncompressed) deflate blocks (RFC 1951 §3.2.4) inside a zlib
// stream (RFC 1950, Adler-32), each chunk with its CRC-32: a plot of a few
// hundred kilobytes, which every viewer opens.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

namespace capchan::bench {

struct rgb {
  std::uint8_t r = 0, g = 0, b = 0;
};

class image {
 public:
  image(int width, int height, rgb background);

  int width() const { return width_; }
  int height() const { return height_; }
  // Outside the image: ignored, so drawing code need not clip.
  void set(int x, int y, rgb colour);
  rgb at(int x, int y) const;
  void line(int x0, int y0, int x1, int y1, rgb colour);  // Bresenham
  void rect(int x0, int y0, int x1, int y1, rgb colour);  // filled, inclusive
  // Text in the built-in 5x7 font, `scale` pixels per font dot; characters
  // without a glyph draw as a box. Returns the x after the text.
  int text(int x, int y, std::string_view s, rgb colour, int scale = 1);
  static int text_width(std::string_view s, int scale = 1);

  // The PNG file's bytes: 8-bit RGB, no interlace.
  std::vector<std::uint8_t> to_png() const;

 private:
  int width_, height_;
  std::vector<std::uint8_t> pixels_;  // rows of r, g, b
};

// CRC-32 as PNG (and zlib, gzip) use it: reflected polynomial 0xEDB88320.
std::uint32_t crc32(std::span<const std::uint8_t> bytes, std::uint32_t crc = 0);
// Adler-32 (RFC 1950 §8.2).
std::uint32_t adler32(std::span<const std::uint8_t> bytes, std::uint32_t adler = 1);

// Writes the bytes to `file` (replacing it); false if it could not.
bool write_file(const std::filesystem::path& file, std::span<const std::uint8_t> bytes);

}  // namespace capchan::bench
