// The term parser: reads Erlang's term syntax as a person types it in the CLI,
// a config `args` value or a test fixture (DESIGN.md §2) and builds a term.
// It accepts what erl_scan + erl_parse:parse_term accept for the term kinds
// capchan has (checked against erl 25), parentheses around terms included, and
// everything text_print.cpp writes.
// Where erl would silently change a value (<<256>> is <<0>>, <<"дом">> keeps
// the low byte of each character, <<1:8>>), we refuse with a clear message
// instead. The input is untrusted: its size, nesting depth, atom length and
// integer size are all bounded, and depth is checked before recursing so that
// deep input is refused, never a stack overflow.
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "capchan/core/text.hpp"
#include "capchan/core/utf8.hpp"
#include "text_syntax.hpp"

namespace capchan::text {
namespace {

constexpr unsigned min_base = 2;
constexpr unsigned max_base = 36;
constexpr std::size_t max_octal_escape_digits = 3;
constexpr std::size_t hex_escape_digits = 2;  // \xHH
// How much of a token an error message quotes.
constexpr std::size_t max_quoted_token_chars = 24;
// Enough decimal digits for any int64, so shorter literals skip big arithmetic.
constexpr std::size_t max_int64_safe_digits = 18;
constexpr std::size_t max_magnitude_bits = big_integer::max_magnitude_bytes * 8;
// Exponent values beyond this are all equally out of range; clamping keeps
// the arithmetic on them from overflowing.
constexpr long long exponent_clamp = 1'000'000;
constexpr char32_t end_of_input = 0xFFFF'FFFF;

// A parse error before it has a line and column: those are computed from the
// byte offset only when an error is reported. It unwinds the recursive descent
// and parse() turns it into a parse_error; it never leaves this file.
struct parse_failure {
  std::size_t offset;
  std::string message;
};

[[noreturn]] void fail(std::size_t offset, std::string message) {
  throw parse_failure{offset, std::move(message)};
}

enum class token_kind {
  end,
  atom,
  variable,
  integer,
  floating,
  character,
  string,
  lbrace,
  rbrace,
  lbracket,
  rbracket,
  lparen,
  rparen,
  bar,
  comma,
  hash,
  arrow,
  lbin,
  rbin,
  slash,
  colon,
  dot,
  minus,
  plus,
};

struct token {
  token_kind kind = token_kind::end;
  std::size_t begin = 0;  // byte offsets into the input
  std::size_t end = 0;
  std::string text;        // atom or variable: its name (UTF-8); integer: digits, no '_'
  unsigned base = 10;      // integer
  double number = 0;       // floating
  char32_t character = 0;  // character
  std::u32string chars;    // string
};

bool is_digit(char32_t c) { return c >= '0' && c <= '9'; }

// The value of c as a digit of any base up to 36, or max_base if it is none.
unsigned digit_value(char32_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'z') return c - 'a' + 10;
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return max_base;
}

std::string describe_char(char32_t c) {
  if (c == end_of_input) return "end of input";
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out = "U+00";
    out.push_back(hex[(c >> 4) & 0xF]);
    out.push_back(hex[c & 0xF]);
    return out;
  }
  std::string out = "'";
  utf8::append(out, c);
  out.push_back('\'');
  return out;
}

// Splits the input into tokens on demand, as erl_scan would.
class scanner {
 public:
  explicit scanner(std::string_view text) : text_(text) {}

  // Scans the next token into t, reusing its buffers.
  void next(token& t) {
    skip_blank();
    t.kind = token_kind::end;
    t.begin = pos_;
    t.text.clear();
    t.base = 10;
    t.chars.clear();
    scan(t);
    t.end = pos_;
  }

 private:
  // The code point at `offset` and its length in bytes (the input is valid
  // UTF-8: parse() checks it first).
  char32_t decode(std::size_t offset, std::size_t& length) const {
    if (offset >= text_.size()) {
      length = 0;
      return end_of_input;
    }
    const auto byte = static_cast<unsigned char>(text_[offset]);
    if (byte < 0x80) {
      length = 1;
      return byte;
    }
    std::size_t p = offset;
    const char32_t c = utf8::next(text_, p).value_or(end_of_input);
    length = p - offset;
    return c;
  }
  char32_t peek() const {
    std::size_t length;
    return decode(pos_, length);
  }
  char32_t peek_second() const {
    std::size_t length;
    decode(pos_, length);
    return decode(pos_ + length, length);
  }
  void advance() {
    std::size_t length;
    decode(pos_, length);
    pos_ += length;
  }

  void skip_blank() {
    for (;;) {
      const char32_t c = peek();
      if (c == '%') {
        while (peek() != '\n' && peek() != end_of_input) advance();
      } else if (c != end_of_input && syntax::is_white_space(c)) {
        advance();
      } else {
        return;
      }
    }
  }

  void scan(token& t) {
    const char32_t c = peek();
    if (c == end_of_input) {
      t.kind = token_kind::end;
    } else if (syntax::is_atom_start(c)) {
      scan_unquoted_atom(t);
    } else if (syntax::is_variable_start(c)) {
      scan_name(t);
      t.kind = token_kind::variable;
    } else if (is_digit(c)) {
      scan_number(t);
    } else {
      scan_other(t, c);
    }
  }

  void scan_other(token& t, char32_t c) {
    auto single = [&](token_kind kind) {
      advance();
      t.kind = kind;
    };
    auto pair = [&](char32_t second, token_kind kind, const char* hint) {
      if (peek_second() != second) fail(pos_, std::string("unexpected ") + describe_char(c) + hint);
      advance();
      advance();
      t.kind = kind;
    };
    switch (c) {
      case '\'': {
        scan_quoted_atom(t);
        return;
      }
      case '"': {
        t.kind = token_kind::string;
        scan_quoted('"', t.chars);
        return;
      }
      case '$': scan_character(t); return;
      case '{': single(token_kind::lbrace); return;
      case '}': single(token_kind::rbrace); return;
      case '[': single(token_kind::lbracket); return;
      case ']': single(token_kind::rbracket); return;
      case '(': single(token_kind::lparen); return;
      case ')': single(token_kind::rparen); return;
      case '|': single(token_kind::bar); return;
      case ',': single(token_kind::comma); return;
      case '#': single(token_kind::hash); return;
      case '/': single(token_kind::slash); return;
      case ':': single(token_kind::colon); return;
      case '.': single(token_kind::dot); return;
      case '-': single(token_kind::minus); return;
      case '+': single(token_kind::plus); return;
      case '=': pair('>', token_kind::arrow, " (map pairs are written key => value)"); return;
      case '<': pair('<', token_kind::lbin, " (a binary starts with '<<')"); return;
      case '>': pair('>', token_kind::rbin, " (a binary ends with '>>')"); return;
      default: fail(pos_, "unexpected character " + describe_char(c));
    }
  }

  void scan_name(token& t) {
    const std::size_t begin = pos_;
    std::size_t chars = 0;
    while (syntax::is_name_char(peek())) {
      advance();
      ++chars;
    }
    t.text.assign(text_.substr(begin, pos_ - begin));
    if (chars > atom::max_characters) fail(begin, "atom longer than 255 characters");
  }

  void scan_unquoted_atom(token& t) {
    scan_name(t);
    t.kind = token_kind::atom;
    if (syntax::is_reserved_word(t.text)) {
      fail(t.begin, "'" + t.text + "' is a reserved word; write the atom quoted: '" + t.text + "'");
    }
  }

  void scan_quoted_atom(token& t) {
    std::u32string chars;
    scan_quoted('\'', chars);
    if (chars.size() > atom::max_characters) fail(t.begin, "atom longer than 255 characters");
    t.kind = token_kind::atom;
    for (const char32_t c : chars) utf8::append(t.text, c);
  }

  // A quoted atom or string, escapes resolved.
  void scan_quoted(char32_t quote, std::u32string& out) {
    const std::size_t open = pos_;
    advance();
    for (;;) {
      const char32_t c = peek();
      if (c == end_of_input) fail(open, quote == '"' ? "unterminated string" : "unterminated quoted atom");
      if (c == quote) {
        advance();
        return;
      }
      if (c == '\\') {
        out.push_back(scan_escape());
      } else {
        out.push_back(c);
        advance();
      }
    }
  }

  // An escape sequence after '\' in a string, quoted atom or $ character,
  // with erl_scan's meaning for each.
  char32_t scan_escape() {
    const std::size_t backslash = pos_;
    advance();
    const char32_t c = peek();
    if (c == end_of_input) fail(backslash, "unterminated escape sequence");
    if (c >= '0' && c <= '7') {
      char32_t value = 0;
      for (std::size_t i = 0; i < max_octal_escape_digits && peek() >= '0' && peek() <= '7'; ++i) {
        value = value * 8 + (peek() - '0');
        advance();
      }
      return value;
    }
    advance();
    switch (c) {
      case 'x': return scan_hex_escape(backslash);
      case '^': {
        const char32_t control = peek();
        if (control == end_of_input) fail(backslash, "unterminated escape sequence");
        advance();
        return control & 0x1F;
      }
      case 'b': return '\b';
      case 'd': return 0x7F;
      case 'e': return 0x1B;
      case 'f': return '\f';
      case 'n': return '\n';
      case 'r': return '\r';
      case 's': return ' ';
      case 't': return '\t';
      case 'v': return '\v';
      default: return c;  // \\ \' \" and any other character stand for themselves
    }
  }

  char32_t scan_hex_escape(std::size_t backslash) {
    if (peek() != '{') {
      char32_t value = 0;
      for (std::size_t i = 0; i < hex_escape_digits; ++i) {
        if (digit_value(peek()) >= 16) fail(backslash, "expected two hex digits after \\x");
        value = value * 16 + digit_value(peek());
        advance();
      }
      return value;
    }
    advance();
    std::uint32_t value = 0;
    bool any = false;
    while (digit_value(peek()) < 16) {
      value = std::min<std::uint32_t>(value * 16 + digit_value(peek()), utf8::max_code_point + 1);
      any = true;
      advance();
    }
    if (!any || peek() != '}') fail(backslash, "expected hex digits and '}' in \\x{...}");
    advance();
    if (!utf8::is_scalar(value)) fail(backslash, "\\x{...} is not a Unicode character");
    return value;
  }

  void scan_character(token& t) {
    advance();  // '$'
    const char32_t c = peek();
    if (c == end_of_input) fail(t.begin, "expected a character after '$'");
    t.kind = token_kind::character;
    if (c == '\\') {
      t.character = scan_escape();
    } else {
      t.character = c;
      advance();
    }
  }

  // Digits of `base`, each '_' between two of them skipped (OTP 23's digit
  // separators); false if there is no digit here.
  bool scan_digits(unsigned base, std::string& out) {
    if (digit_value(peek()) >= base) return false;
    for (;;) {
      const char32_t c = peek();
      if (digit_value(c) < base) {
        out.push_back(static_cast<char>(c));
        advance();
      } else if (c == '_' && digit_value(peek_second()) < base) {
        advance();
      } else {
        return true;
      }
    }
  }

  void scan_number(token& t) {
    std::string digits;
    scan_digits(10, digits);
    if (peek() == '#') {
      scan_based_integer(t, digits);
      return;
    }
    if (peek() == '.' && is_digit(peek_second())) {
      scan_float(t, digits);
      return;
    }
    t.kind = token_kind::integer;
    t.text = std::move(digits);
  }

  void scan_based_integer(token& t, std::string_view base_digits) {
    unsigned base = 0;
    for (const char d : base_digits) base = std::min(base * 10 + static_cast<unsigned>(d - '0'), max_base + 1);
    if (base < min_base || base > max_base) fail(t.begin, "the base in Base#Digits must be 2..36");
    advance();  // '#'
    t.kind = token_kind::integer;
    t.base = base;
    const std::string base_name = std::to_string(base);
    if (!scan_digits(base, t.text)) fail(pos_, "expected base-" + base_name + " digits after '" + base_name + "#'");
    if (syntax::is_name_char(peek())) {
      fail(pos_, describe_char(peek()) + " is not a base-" + base_name + " digit");
    }
  }

  void scan_float(token& t, std::string literal) {
    const std::size_t point = literal.size();
    literal.push_back('.');
    advance();
    scan_digits(10, literal);
    if (peek() == 'e' || peek() == 'E') {
      literal.push_back('e');
      advance();
      if (peek() == '+' || peek() == '-') {
        literal.push_back(static_cast<char>(peek()));
        advance();
      }
      if (!scan_digits(10, literal)) fail(pos_, "expected digits in the exponent of the float");
    }
    t.kind = token_kind::floating;
    t.number = to_double(literal, point, t.begin);
  }

  static double to_double(std::string_view literal, std::size_t point, std::size_t offset) {
    double value = 0;
    const auto r = std::from_chars(literal.data(), literal.data() + literal.size(), value);
    if (r.ec == std::errc()) return value;
    // Out of range: erl reads a float too small to represent as 0.0 and
    // refuses one too large, so tell the two apart by the decimal exponent.
    if (decimal_exponent(literal, point) < 0) return 0.0;
    fail(offset, "float out of range (the largest is 1.7976931348623157e308)");
  }

  // The power of ten of the first non-zero digit of a literal "I.F[e[+-]X]".
  static long long decimal_exponent(std::string_view literal, std::size_t point) {
    const std::size_t e = std::min(literal.find('e'), literal.size());
    long long exponent = 0;
    bool negative = false;
    for (std::size_t i = e + 1; i < literal.size(); ++i) {
      if (literal[i] == '-') negative = true;
      if (is_digit(static_cast<unsigned char>(literal[i]))) {
        exponent = std::min(exponent * 10 + (literal[i] - '0'), exponent_clamp);
      }
    }
    if (negative) exponent = -exponent;
    const std::size_t first = literal.find_first_not_of("0.");
    if (first == std::string_view::npos || first >= e) return std::numeric_limits<long long>::min();
    const long long lead = first < point ? static_cast<long long>(point - first) - 1
                                         : -static_cast<long long>(first - point);
    return lead + exponent;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// The integer a literal's digits (in `base`, no separators) stand for.
class integer_builder {
 public:
  static term build(std::string_view digits, unsigned base, bool negative, std::size_t offset) {
    while (digits.size() > 1 && digits.front() == '0') digits.remove_prefix(1);
    if (base == 10 && digits.size() <= max_int64_safe_digits) {
      std::int64_t value = 0;
      std::from_chars(digits.data(), digits.data() + digits.size(), value);
      return negative ? -value : value;
    }
    if (base == 10) {
      std::string decimal = negative ? "-" : "";
      decimal += digits;
      if (auto t = make_integer(decimal)) return std::move(*t);
      too_large(offset);
    }
    return from_base(digits, base, negative, offset);
  }

 private:
  [[noreturn]] static void too_large(std::size_t offset) {
    fail(offset, "integer too large (the limit is " + std::to_string(max_magnitude_bits) + " bits)");
  }

  // Horner's rule on 32-bit limbs, several digits per step.
  static term from_base(std::string_view digits, unsigned base, bool negative, std::size_t offset) {
    // Each digit carries at least floor(log2(base)) bits: a longer literal is
    // refused before any arithmetic.
    unsigned bits_per_digit = 0;
    while ((2u << bits_per_digit) <= base) ++bits_per_digit;
    if (digits.size() > max_magnitude_bits / bits_per_digit + 1) too_large(offset);

    std::vector<std::uint32_t> limbs;
    std::size_t i = 0;
    while (i < digits.size()) {
      std::uint64_t scale = 1;
      std::uint64_t chunk = 0;
      for (; i < digits.size() && scale * base <= std::numeric_limits<std::uint32_t>::max(); ++i) {
        chunk = chunk * base + digit_value(static_cast<unsigned char>(digits[i]));
        scale *= base;
      }
      std::uint64_t carry = chunk;
      for (auto& limb : limbs) {
        const std::uint64_t cur = limb * scale + carry;
        limb = static_cast<std::uint32_t>(cur);
        carry = cur >> 32;
      }
      if (carry != 0) limbs.push_back(static_cast<std::uint32_t>(carry));
    }
    std::vector<std::uint8_t> magnitude(limbs.size() * 4);
    for (std::size_t b = 0; b < magnitude.size(); ++b) {
      magnitude[b] = static_cast<std::uint8_t>(limbs[b / 4] >> (8 * (b % 4)));
    }
    while (!magnitude.empty() && magnitude.back() == 0) magnitude.pop_back();
    if (magnitude.size() > big_integer::max_magnitude_bytes) too_large(offset);
    return make_integer(negative, std::move(magnitude));
  }
};

// Recursive descent over the scanner's tokens, one token of lookahead.
class parser {
 public:
  parser(std::string_view text, const parse_limits& limits) : text_(text), scanner_(text), limits_(limits) {
    advance();
  }

  term parse_whole_input() {
    term t = parse_value(1);
    if (current_.kind == token_kind::dot) advance();
    if (current_.kind != token_kind::end) fail_here("expected end of input after the term, found " + found());
    return t;
  }

 private:
  void advance() { scanner_.next(current_); }
  bool at(token_kind kind) const { return current_.kind == kind; }
  [[noreturn]] void fail_here(std::string message) const { fail(current_.begin, std::move(message)); }

  // The current token as an error message quotes it.
  std::string found() const {
    if (at(token_kind::end)) return "end of input";
    std::string_view source = text_.substr(current_.begin, current_.end - current_.begin);
    std::size_t pos = 0;
    std::size_t chars = 0;
    while (pos < source.size() && chars < max_quoted_token_chars && source[pos] != '\n') {
      utf8::next(source, pos);
      ++chars;
    }
    std::string out = "'";
    out += source.substr(0, pos);
    if (pos < source.size()) out += "...";
    out += "'";
    return out;
  }

  // Depth as DESIGN.md §2 counts it: the whole term is at level 1 and the
  // elements of a container at level n are at level n + 1.
  void check_depth(std::size_t level, std::size_t offset) const {
    if (level > limits_.max_depth) {
      fail(offset, "term nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
  }

  // Parentheses are transparent, as in erl: ((a)) is a. They are counted, not
  // recursed into, and add no depth.
  std::size_t open_parens() {
    std::size_t count = 0;
    while (at(token_kind::lparen)) {
      advance();
      ++count;
    }
    return count;
  }

  void close_parens(std::size_t count) {
    for (; count > 0; --count) {
      if (!at(token_kind::rparen)) fail_here("expected ')', found " + found());
      advance();
    }
  }

  term parse_value(std::size_t level) {
    check_depth(level, current_.begin);
    const std::size_t parens = open_parens();
    term t = parse_bare_value(level);
    close_parens(parens);
    return t;
  }

  term parse_bare_value(std::size_t level) {
    switch (current_.kind) {
      case token_kind::atom: {
        term t = atom(std::move(current_.text));
        advance();
        return t;
      }
      case token_kind::integer:
      case token_kind::floating:
      case token_kind::character:
      case token_kind::minus:
      case token_kind::plus: return parse_number();
      case token_kind::string: return parse_string(level);
      case token_kind::lbrace: return parse_tuple(level);
      case token_kind::lbracket: return parse_list(level);
      case token_kind::hash: return parse_map(level);
      case token_kind::lbin: return parse_binary();
      case token_kind::variable:
        fail_here(found() + " is a variable, not a term; write the atom quoted: '" + current_.text + "'");
      default: fail_here("expected a term, found " + found());
    }
  }

  // A number, or a $ character, with an optional sign. As in erl, the sign
  // may precede parentheses (-(1)) but not another sign (-(-1)).
  term parse_number() {
    bool negative = false;
    std::size_t parens = 0;
    if (at(token_kind::minus) || at(token_kind::plus)) {
      negative = at(token_kind::minus);
      const std::string sign = negative ? "-" : "+";
      advance();
      parens = open_parens();
      if (!at(token_kind::integer) && !at(token_kind::floating) && !at(token_kind::character)) {
        fail_here("expected a number after '" + sign + "', found " + found());
      }
    }
    term t;
    if (at(token_kind::integer)) {
      t = integer_builder::build(current_.text, current_.base, negative, current_.begin);
    } else if (at(token_kind::floating)) {
      t = negative ? -current_.number : current_.number;
    } else {
      const auto c = static_cast<std::int64_t>(current_.character);
      t = negative ? -c : c;
    }
    advance();
    close_parens(parens);
    return t;
  }

  // Adjacent string literals, joined as erl joins "ab" "cd".
  std::u32string take_strings() {
    std::u32string chars = std::move(current_.chars);
    advance();
    while (at(token_kind::string)) {
      chars += current_.chars;
      advance();
    }
    return chars;
  }

  term parse_string(std::size_t level) {
    const std::size_t offset = current_.begin;
    const std::u32string chars = take_strings();
    if (!chars.empty()) check_depth(level + 1, offset);  // a string is a list of characters
    std::vector<term> items;
    items.reserve(chars.size());
    for (const char32_t c : chars) items.emplace_back(static_cast<std::int64_t>(c));
    return list(std::move(items));
  }

  // Items separated by ',' up to `close` (the opener already read), as in
  // tuples, maps and binaries; `read_item` reads one.
  template <class F>
  void parse_sequence(token_kind close, std::string_view close_text, std::string_view where, F&& read_item) {
    if (at(close)) {
      advance();
      return;
    }
    for (;;) {
      read_item();
      if (at(token_kind::comma)) {
        advance();
      } else if (at(close)) {
        advance();
        return;
      } else {
        fail_here("expected ',' or '" + std::string(close_text) + "' in " + std::string(where) + ", found " +
                  found());
      }
    }
  }

  term parse_tuple(std::size_t level) {
    advance();  // '{'
    std::vector<term> elements;
    parse_sequence(token_kind::rbrace, "}", "tuple", [&] { elements.push_back(parse_value(level + 1)); });
    return tuple(std::move(elements));
  }

  term parse_list(std::size_t level) {
    advance();  // '['
    std::vector<term> items;
    if (at(token_kind::rbracket)) {
      advance();
      return list(std::move(items));
    }
    // What still has to close, innermost last: ']' for each list read in
    // place, ')' for each parenthesis around a tail.
    std::string closers = "]";
    std::optional<term> tail;
    for (;;) {
      items.push_back(parse_value(level + 1));
      if (at(token_kind::comma)) {
        advance();
        continue;
      }
      if (at(token_kind::rbracket)) break;
      if (!at(token_kind::bar)) fail_here("expected ',', '|' or ']' in list, found " + found());
      advance();
      for (; at(token_kind::lparen); advance()) closers.push_back(')');
      // A list tail continues this list ([a|[b]] is [a,b]): read it in place,
      // so that a long [a|[b|[c|...]]] chain neither recurses nor counts as nesting.
      if (at(token_kind::lbracket)) {
        advance();
        closers.push_back(']');
        if (at(token_kind::rbracket)) break;
        continue;
      }
      if (at(token_kind::string)) {
        const term rest = parse_string(level);
        const auto chars = rest.as_list()->elements();
        items.insert(items.end(), chars.begin(), chars.end());
      } else {
        tail = parse_value(level + 1);
      }
      break;
    }
    for (; !closers.empty(); closers.pop_back()) {
      if (closers.back() == ']' && !at(token_kind::rbracket)) {
        fail_here("expected ']' to close the list, found " + found());
      }
      if (closers.back() == ')' && !at(token_kind::rparen)) fail_here("expected ')', found " + found());
      advance();
    }
    if (tail) return list::improper(std::move(items), std::move(*tail));
    return list(std::move(items));
  }

  term parse_map(std::size_t level) {
    advance();  // '#'
    if (!at(token_kind::lbrace)) fail_here("expected '{' after '#' (a map is written #{key => value}), found " + found());
    advance();
    std::vector<map::entry> entries;
    parse_sequence(token_kind::rbrace, "}", "map", [&] {
      term key = parse_value(level + 1);
      if (!at(token_kind::arrow)) fail_here("expected '=>' after a map key, found " + found());
      advance();
      entries.emplace_back(std::move(key), parse_value(level + 1));
    });
    // Later pairs win over earlier ones with the same key, as in erl.
    return map(std::move(entries));
  }

  // A binary is a scalar: its segments add no depth.
  term parse_binary() {
    advance();  // '<<'
    std::vector<std::uint8_t> bytes;
    parse_sequence(token_kind::rbin, ">>", "binary", [&] { parse_segment(bytes); });
    return binary(std::move(bytes));
  }

  // One segment: a byte, a character or a string, optionally in
  // parentheses, optionally /utf8.
  void parse_segment(std::vector<std::uint8_t>& bytes) {
    const std::size_t offset = current_.begin;
    const std::size_t parens = open_parens();
    if (at(token_kind::string)) {
      const std::u32string chars = take_strings();
      close_parens(parens);
      if (parse_segment_type()) {
        std::string encoded;
        for (const char32_t c : chars) utf8::append(encoded, c);
        bytes.insert(bytes.end(), encoded.begin(), encoded.end());
        return;
      }
      for (const char32_t c : chars) {
        if (c > 0xFF) fail(offset, "a character above 255 in a binary string needs /utf8");
        bytes.push_back(static_cast<std::uint8_t>(c));
      }
      return;
    }
    const bool numeric = at(token_kind::integer) || at(token_kind::character) || at(token_kind::minus) ||
                         at(token_kind::plus);
    if (!numeric) fail_here("expected a byte, a character or a string in binary, found " + found());
    const term value = parse_number();
    close_parens(parens);
    const std::int64_t* v = value.as_int64();
    if (!v) fail(offset, "expected a byte, a character or a string in binary");
    if (parse_segment_type()) {
      if (!utf8::is_scalar(*v)) fail(offset, "not a Unicode character: " + std::to_string(*v));
      std::string encoded;
      utf8::append(encoded, static_cast<char32_t>(*v));
      bytes.insert(bytes.end(), encoded.begin(), encoded.end());
      return;
    }
    if (*v < 0 || *v > 0xFF) fail(offset, "byte out of range 0..255 in binary: " + std::to_string(*v));
    bytes.push_back(static_cast<std::uint8_t>(*v));
  }

  // Whether the segment is /utf8; every other bit syntax is refused.
  bool parse_segment_type() {
    if (at(token_kind::colon)) {
      fail_here("bit syntax sizes are not supported: a segment is a byte, a character or a string");
    }
    if (!at(token_kind::slash)) return false;
    advance();
    if (!at(token_kind::atom) || current_.text != "utf8") {
      fail_here("only /utf8 is supported as a binary segment type, found " + found());
    }
    advance();
    return true;
  }

  std::string_view text_;
  scanner scanner_;
  const parse_limits& limits_;
  token current_;
};

// Line and column (1-based, columns in code points) of a byte offset.
parse_error located(std::string_view text, std::size_t offset, std::string message) {
  parse_error e;
  e.message = std::move(message);
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++e.line;
      line_start = i + 1;
    }
  }
  for (std::size_t i = line_start; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++e.column;
  }
  return e;
}

// The offset of the first byte that is not valid UTF-8, if any.
std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      ++pos;
    } else if (!utf8::next(text, pos)) {
      return pos;
    }
  }
  return std::nullopt;
}

}  // namespace

boost::system::result<term, parse_error> parse(std::string_view text, const parse_limits& limits) {
  if (text.size() > limits.max_input) {
    return located(text, 0,
                   "input is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                       std::to_string(limits.max_input));
  }
  if (const auto bad = invalid_utf8_at(text)) return located(text, *bad, "invalid UTF-8");
  try {
    parser p(text, limits);
    return p.parse_whole_input();
  } catch (const parse_failure& f) {
    return located(text, f.offset, f.message);
  }
}

}  // namespace capchan::text
