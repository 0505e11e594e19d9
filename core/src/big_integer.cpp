// Integers beyond int64: conversion between decimal text and the
// sign-magnitude form ETF uses (DESIGN.md §2). Both directions are quadratic
// in the number of digits, which big_integer::max_magnitude_bytes keeps small.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "capchan/core/term.hpp"

namespace capchan {
namespace {

// 10^9 fits a 32-bit limb, so decimal conversion works nine digits at a time.
constexpr std::uint32_t decimal_chunk = 1'000'000'000;
constexpr int decimal_chunk_digits = 9;
// Enough digits for max_magnitude_bytes bytes (log10(256) < 2.41), so longer
// input is refused before any arithmetic.
constexpr std::size_t max_decimal_digits = big_integer::max_magnitude_bytes * 241 / 100 + 1;

std::vector<std::uint32_t> to_limbs(const std::vector<std::uint8_t>& bytes) {
  std::vector<std::uint32_t> limbs((bytes.size() + 3) / 4, 0);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    limbs[i / 4] |= static_cast<std::uint32_t>(bytes[i]) << (8 * (i % 4));
  }
  return limbs;
}

std::vector<std::uint8_t> to_bytes(const std::vector<std::uint32_t>& limbs) {
  std::vector<std::uint8_t> bytes(limbs.size() * 4);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    bytes[i] = static_cast<std::uint8_t>(limbs[i / 4] >> (8 * (i % 4)));
  }
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  return bytes;
}

}  // namespace

std::string big_integer::to_decimal() const {
  std::vector<std::uint32_t> limbs = to_limbs(magnitude_);
  std::vector<std::uint32_t> chunks;  // base 10^9, least significant first
  while (!limbs.empty()) {
    std::uint64_t remainder = 0;
    for (std::size_t i = limbs.size(); i-- > 0;) {
      const std::uint64_t cur = (remainder << 32) | limbs[i];
      limbs[i] = static_cast<std::uint32_t>(cur / decimal_chunk);
      remainder = cur % decimal_chunk;
    }
    chunks.push_back(static_cast<std::uint32_t>(remainder));
    while (!limbs.empty() && limbs.back() == 0) limbs.pop_back();
  }
  std::string out = negative_ ? "-" : "";
  if (chunks.empty()) return out + "0";
  out += std::to_string(chunks.back());
  for (std::size_t i = chunks.size() - 1; i-- > 0;) {
    std::string part = std::to_string(chunks[i]);
    out.append(decimal_chunk_digits - part.size(), '0');
    out += part;
  }
  return out;
}

term make_integer(bool negative, std::vector<std::uint8_t> magnitude) {
  while (!magnitude.empty() && magnitude.back() == 0) magnitude.pop_back();
  if (magnitude.size() <= 8) {
    std::uint64_t v = 0;
    for (std::size_t i = magnitude.size(); i-- > 0;) v = (v << 8) | magnitude[i];
    constexpr auto int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (!negative && v <= int64_max) return term(static_cast<std::int64_t>(v));
    if (negative && v <= int64_max + 1) {
      // -v computed in unsigned arithmetic: well defined, and -2^63 fits.
      return term(static_cast<std::int64_t>(~v + 1));
    }
  }
  return term(big_integer(negative, std::move(magnitude)));
}

std::optional<term> make_integer(std::string_view decimal) {
  bool negative = false;
  if (!decimal.empty() && (decimal[0] == '-' || decimal[0] == '+')) {
    negative = decimal[0] == '-';
    decimal.remove_prefix(1);
  }
  if (decimal.empty() || decimal.size() > max_decimal_digits) return std::nullopt;
  if (!std::all_of(decimal.begin(), decimal.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::vector<std::uint32_t> limbs;
  std::size_t pos = 0;
  // The first chunk takes the odd digits so that the rest are whole chunks.
  std::size_t take = decimal.size() % decimal_chunk_digits;
  if (take == 0) take = decimal_chunk_digits;
  while (pos < decimal.size()) {
    std::uint32_t chunk = 0;
    std::uint64_t scale = 1;
    for (std::size_t i = 0; i < take; ++i) {
      chunk = chunk * 10 + static_cast<std::uint32_t>(decimal[pos + i] - '0');
      scale *= 10;
    }
    pos += take;
    take = decimal_chunk_digits;
    std::uint64_t carry = chunk;
    for (auto& limb : limbs) {
      const std::uint64_t cur = static_cast<std::uint64_t>(limb) * scale + carry;
      limb = static_cast<std::uint32_t>(cur);
      carry = cur >> 32;
    }
    if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
  }
  std::vector<std::uint8_t> magnitude = to_bytes(limbs);
  if (magnitude.size() > big_integer::max_magnitude_bytes) return std::nullopt;
  return make_integer(negative, std::move(magnitude));
}

}  // namespace capchan
