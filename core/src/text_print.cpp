// The term printer: writes a term exactly as OTP 25's
// `io_lib:format("~tp", [T])` writes it when the line is long enough to hold
// it (DESIGN.md §2), so that our logs, CLI output and test fixtures read the
// same as erl's. Every rule below was established by experiment against erl
// 25 (the `erl` oracle), not taken from documentation:
//
//  - elements are separated by "," without spaces, map pairs by " => ";
//  - a proper list of printable Latin-1 characters (' '..'~', U+A0..U+FF and
//    \b \t \n \v \f \r \e) is a string; [] is never "";
//  - a binary is a plain string if it is ASCII-printable UTF-8 or, when it is
//    not valid UTF-8, if every byte is printable Latin-1; a UTF-8 string with
//    characters in U+A0..U+FF gets "/utf8"; anything else is written byte by byte;
//  - atoms are bare when they start with a..z or ß..ÿ (not ÷), go on with name
//    characters and are not reserved words; otherwise quoted, characters from
//    U+A0 up written as they are (not as \x{...});
//  - floats take the shorter of plain and exponent form, plain on a tie, and
//    always the exponent form from 2^53 up.
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ostream>
#include <string>
#include <string_view>
#include <stdexcept>
#include <system_error>

#include <boost/throw_exception.hpp>

#include "capchan/core/text.hpp"
#include "capchan/core/utf8.hpp"
#include "text_syntax.hpp"

namespace capchan::text {
namespace {

// From 2^53 on, erl writes every float in exponent form even when the plain
// form would be shorter (9007199254740992.0 prints as 9.007199254740992e15).
constexpr double plain_float_limit = 9007199254740992.0;
// Room for any int64 or for std::to_chars' shortest scientific double.
constexpr std::size_t number_buffer_size = 40;

void append_octal_escape(std::string& out, char32_t c) {
  out.push_back('\\');
  out.push_back(static_cast<char>('0' + ((c >> 6) & 7)));
  out.push_back(static_cast<char>('0' + ((c >> 3) & 7)));
  out.push_back(static_cast<char>('0' + (c & 7)));
}

// One character inside a quoted atom or string, as io_lib:write_string/2
// writes it: the quote and backslash escaped, named escapes for the common
// control characters, octal for the other characters below U+A0.
void append_quoted_char(std::string& out, char32_t c, char quote) {
  if (c == static_cast<char32_t>(quote) || c == '\\') {
    out.push_back('\\');
    out.push_back(static_cast<char>(c));
    return;
  }
  if (c >= 0x20 && c <= 0x7E) {
    out.push_back(static_cast<char>(c));
    return;
  }
  if (c >= 0xA0) {
    utf8::append(out, c);
    return;
  }
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    case '\v': out += "\\v"; return;
    case '\b': out += "\\b"; return;
    case '\f': out += "\\f"; return;
    case 0x1B: out += "\\e"; return;
    case 0x7F: out += "\\d"; return;
    default: append_octal_escape(out, c); return;
  }
}

// The next character of UTF-8 text (an atom name or a binary known to be
// UTF-8). A byte that does not decode, possible only in atoms built in code,
// reads as the Latin-1 character of that value, so that printing never fails.
char32_t next_text_char(std::string_view name, std::size_t& pos) {
  const auto byte = static_cast<unsigned char>(name[pos]);
  if (byte < 0x80) {
    ++pos;
    return byte;
  }
  if (const auto c = utf8::next(name, pos)) return *c;
  ++pos;
  return byte;
}

bool atom_needs_quotes(std::string_view name) {
  std::size_t pos = 0;
  if (name.empty() || !syntax::is_atom_start(next_text_char(name, pos))) return true;
  while (pos < name.size()) {
    if (!syntax::is_name_char(next_text_char(name, pos))) return true;
  }
  return syntax::is_reserved_word(name);
}

void append_atom(std::string& out, const atom& a) {
  if (!atom_needs_quotes(a.name)) {
    out += a.name;
    return;
  }
  out.push_back('\'');
  std::size_t pos = 0;
  while (pos < a.name.size()) append_quoted_char(out, next_text_char(a.name, pos), '\'');
  out.push_back('\'');
}

void append_int64(std::string& out, std::int64_t v) {
  std::array<char, number_buffer_size> buf;
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

// A finite non-zero double's shortest round-trip digits and decimal exponent:
// value = 0.d1d2...dn * 10^place (erl's io_lib_format:fwrite_g vocabulary).
struct shortest_digits {
  std::array<char, number_buffer_size> digits;
  std::size_t count = 0;
  int place = 0;
};

shortest_digits shortest(double magnitude) {
  // std::to_chars without a precision yields the shortest digits that read
  // back to the same double, nearest the exact value, as erl's Ryu does.
  std::array<char, number_buffer_size> buf;
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), magnitude,
                               std::chars_format::scientific);
  shortest_digits s;
  const char* p = buf.data();
  for (; p != r.ptr && *p != 'e'; ++p) {
    if (*p != '.') s.digits[s.count++] = *p;
  }
  int exponent = 0;
  ++p;  // 'e'
  if (*p == '+') ++p;
  std::from_chars(p, r.ptr, exponent);
  s.place = exponent + 1;
  return s;
}

void append_float(std::string& out, double v) {
  if (v == 0.0) {
    out += std::signbit(v) ? "-0.0" : "0.0";
    return;
  }
  if (v < 0) out.push_back('-');
  const double magnitude = std::fabs(v);
  const shortest_digits s = shortest(magnitude);
  const std::string_view digits(s.digits.data(), s.count);
  const auto n = static_cast<int>(s.count);

  // Exponent form: d.ddd (at least one digit after the point) e[-]x.
  std::array<char, number_buffer_size> exp_buf;
  const auto exp_end = std::to_chars(exp_buf.data(), exp_buf.data() + exp_buf.size(), s.place - 1).ptr;
  const std::string_view exponent(exp_buf.data(), static_cast<std::size_t>(exp_end - exp_buf.data()));
  const int exp_length = 2 + std::max(n - 1, 1) + 1 + static_cast<int>(exponent.size());
  // Plain form: 0.000ddd, dd.ddd or ddd000.0.
  const int plain_length = s.place <= 0 ? 2 - s.place + n : s.place < n ? n + 1 : s.place + 2;

  if (magnitude < plain_float_limit && plain_length <= exp_length) {
    if (s.place <= 0) {
      out += "0.";
      out.append(static_cast<std::size_t>(-s.place), '0');
      out += digits;
    } else if (s.place < n) {
      out += digits.substr(0, static_cast<std::size_t>(s.place));
      out.push_back('.');
      out += digits.substr(static_cast<std::size_t>(s.place));
    } else {
      out += digits;
      out.append(static_cast<std::size_t>(s.place - n), '0');
      out += ".0";
    }
    return;
  }
  out.push_back(digits[0]);
  out.push_back('.');
  if (n > 1) {
    out += digits.substr(1);
  } else {
    out.push_back('0');
  }
  out.push_back('e');
  out += exponent;
}

// How io_lib_pretty writes a binary (see the rules at the top of the file).
enum class binary_form { bytes, latin1_string, ascii_string, utf8_string };

bool all_bytes_printable(const binary& b) {
  for (const auto byte : b.bytes()) {
    if (!syntax::is_printable_latin1(byte)) return false;
  }
  return true;
}

binary_form classify(const binary& b) {
  const std::string_view bytes = b.view();
  bool ascii = true;
  bool printable = true;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    const auto byte = static_cast<unsigned char>(bytes[pos]);
    if (byte < 0x80) {
      // Not printable as UTF-8 nor as Latin-1: nothing after it can matter.
      if (!syntax::is_printable_latin1(byte)) return binary_form::bytes;
      ++pos;
      continue;
    }
    const auto c = utf8::next(bytes, pos);
    // erl reads a binary that is not UTF-8 as a whole as Latin-1 text.
    if (!c) return all_bytes_printable(b) ? binary_form::latin1_string : binary_form::bytes;
    ascii = false;
    printable = printable && syntax::is_printable_latin1(*c);
  }
  if (!printable) return binary_form::bytes;
  return ascii ? binary_form::ascii_string : binary_form::utf8_string;
}

void append_binary(std::string& out, const binary& b) {
  if (b.empty()) {
    out += "<<>>";
    return;
  }
  const binary_form form = classify(b);
  switch (form) {
    case binary_form::bytes: {
      out += "<<";
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (i != 0) out.push_back(',');
        append_int64(out, b.bytes()[i]);
      }
      out += ">>";
      return;
    }
    case binary_form::latin1_string:
      out += "<<\"";
      for (const auto byte : b.bytes()) append_quoted_char(out, byte, '"');
      out += "\">>";
      return;
    case binary_form::ascii_string:
    case binary_form::utf8_string: {
      out += "<<\"";
      const std::string_view text = b.view();
      std::size_t pos = 0;
      while (pos < text.size()) append_quoted_char(out, next_text_char(text, pos), '"');
      out += form == binary_form::utf8_string ? "\"/utf8>>" : "\">>";
      return;
    }
  }
}

bool is_printable_string(const list& l) {
  if (l.empty() || !l.is_proper()) return false;
  for (const term& e : l.elements()) {
    const std::int64_t* c = e.as_int64();
    if (!c || !syntax::is_printable_latin1(*c)) return false;
  }
  return true;
}

void append_term(std::string& out, const term& t);

void append_list(std::string& out, const list& l) {
  if (is_printable_string(l)) {
    out.push_back('"');
    for (const term& e : l.elements()) append_quoted_char(out, static_cast<char32_t>(*e.as_int64()), '"');
    out.push_back('"');
    return;
  }
  out.push_back('[');
  bool first = true;
  for (const term& e : l.elements()) {
    if (!first) out.push_back(',');
    first = false;
    append_term(out, e);
  }
  if (const term* tail = l.tail()) {
    out.push_back('|');
    append_term(out, *tail);
  }
  out.push_back(']');
}

void append_tuple(std::string& out, const tuple& t) {
  out.push_back('{');
  for (std::size_t i = 0; i < t.elements.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_term(out, t.elements[i]);
  }
  out.push_back('}');
}

// Pairs come in the map's stored order, which is erl's order for maps of up
// to 32 keys. erl prints bigger maps in the order of its internal hash trie;
// we do not reproduce that, so for them only the set of pairs agrees.
void append_map(std::string& out, const map& m) {
  out += "#{";
  bool first = true;
  for (const auto& [key, value] : m.entries()) {
    if (!first) out.push_back(',');
    first = false;
    append_term(out, key);
    out += " => ";
    append_term(out, value);
  }
  out.push_back('}');
}

void append_term(std::string& out, const term& t) {
  std::visit(
      [&out](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          append_int64(out, v);
        } else if constexpr (std::is_same_v<T, big_integer>) {
          out += v.to_decimal();
        } else if constexpr (std::is_same_v<T, double>) {
          append_float(out, v);
        } else if constexpr (std::is_same_v<T, atom>) {
          append_atom(out, v);
        } else if constexpr (std::is_same_v<T, binary>) {
          append_binary(out, v);
        } else if constexpr (std::is_same_v<T, list>) {
          append_list(out, v);
        } else if constexpr (std::is_same_v<T, tuple>) {
          append_tuple(out, v);
        } else {
          append_map(out, v);
        }
      },
      t.value());
}

}  // namespace

std::string print(const term& t) {
  std::string out;
  append_term(out, t);
  return out;
}

void print_to(std::string& out, const term& t) { append_term(out, t); }

std::string parse_error::to_string() const {
  return std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

std::ostream& operator<<(std::ostream& os, const parse_error& e) { return os << e.to_string(); }

void throw_exception_from_error(const parse_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::invalid_argument(e.to_string()), loc);
}

}  // namespace capchan::text

namespace capchan {

std::ostream& operator<<(std::ostream& os, const term& t) { return os << text::print(t); }

}  // namespace capchan
