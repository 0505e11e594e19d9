// Character classes of Erlang's term syntax, shared by the text parser and the
// printer so that what one writes unquoted the other reads back as the same
// atom (DESIGN.md §2). The rules are erl_scan's and io_lib's as OTP 25 applies
// them, established by experiment against erl (see text_print.cpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>

namespace capchan::text::syntax {

// Words that erl_scan reads as keywords or operators, never as atoms, so the
// printer quotes them ('and') and the parser refuses them unquoted. `maybe` and
// `else` are not in OTP 25's list (the maybe feature is off by default).
inline constexpr std::array<std::string_view, 27> reserved_words = {
    "after", "and",  "andalso", "band", "begin",  "bnot",    "bor",  "bsl",  "bsr",
    "bxor",  "case", "catch",   "cond", "div",    "end",     "fun",  "if",   "let",
    "not",   "of",   "or",      "orelse", "receive", "rem",  "try",  "when", "xor"};
inline constexpr std::size_t longest_reserved_word = 7;  // "andalso", "receive"

inline bool is_reserved_word(std::string_view name) {
  if (name.size() > longest_reserved_word) return false;
  return std::find(reserved_words.begin(), reserved_words.end(), name) != reserved_words.end();
}

// Latin-1 letters take part in names as erl_scan defines them: ß..ÿ are
// lowercase and À..Þ uppercase, except the signs ÷ (U+F7) and × (U+D7).
constexpr bool is_latin1_lower(char32_t c) { return c >= 0xDF && c <= 0xFF && c != 0xF7; }
constexpr bool is_latin1_upper(char32_t c) { return c >= 0xC0 && c <= 0xDE && c != 0xD7; }

// A character that can start an unquoted atom.
constexpr bool is_atom_start(char32_t c) { return (c >= 'a' && c <= 'z') || is_latin1_lower(c); }

// A character that starts a variable: uppercase or '_'.
constexpr bool is_variable_start(char32_t c) {
  return (c >= 'A' && c <= 'Z') || c == '_' || is_latin1_upper(c);
}

// A character that can follow the first one in an unquoted atom or a variable.
constexpr bool is_name_char(char32_t c) {
  return is_atom_start(c) || is_variable_start(c) || (c >= '0' && c <= '9') || c == '@';
}

// erl_scan's white space: every control character, space, and U+80..U+A0.
constexpr bool is_white_space(char32_t c) { return c <= 0x20 || (c >= 0x80 && c <= 0xA0); }

// io_lib's printable characters under the default latin1 printable range: the
// ones a list (or binary) may hold and still be printed as a string.
constexpr bool is_printable_latin1(std::int64_t c) {
  return (c >= 0x20 && c <= 0x7E) || (c >= 0xA0 && c <= 0xFF) || (c >= '\b' && c <= '\r') ||
         c == 0x1B;  // \b \t \n \v \f \r and \e
}

}  // namespace capchan::text::syntax
