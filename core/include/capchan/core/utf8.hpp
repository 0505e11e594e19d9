// UTF-8 decoding and encoding, strict: no overlong forms, no surrogates,
// nothing past U+10FFFF. Shared by the term model, the ETF codec and the text
// syntax so that all three agree on what valid text is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace capchan::utf8 {

inline constexpr char32_t max_code_point = 0x10FFFF;

// Decodes the code point at text[pos], advancing pos; nullopt if the bytes
// there are not valid UTF-8 (pos is then unchanged).
std::optional<char32_t> next(std::string_view text, std::size_t& pos);

// Whether the whole text is valid UTF-8; if so, `code_points` (when given)
// receives its length in code points.
bool valid(std::string_view text, std::size_t* code_points = nullptr);

// Whether c is a Unicode scalar value (a code point that UTF-8 can encode).
constexpr bool is_scalar(std::int64_t c) {
  return c >= 0 && c <= max_code_point && !(c >= 0xD800 && c <= 0xDFFF);
}

void append(std::string& out, char32_t c);

}  // namespace capchan::utf8
