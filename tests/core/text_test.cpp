// The Erlang term text syntax (DESIGN.md §2): the printer against the exact
// bytes erl writes, the parser's grammar, its errors with line:column, and its
// limits. Every expected printed string below came from erl 25 (OTP 25) as
// `io_lib:format("~999999tp", [T])` for the same term; a separate oracle test
// drives a live erl process with random terms.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "capchan/core/text.hpp"

using namespace capchan;
using text::parse;
using text::print;

namespace {

term a(const char* name) { return atom(name); }
term str(const char* utf8) { return charlist(utf8); }
term bytes(std::initializer_list<int> values) {
  std::vector<std::uint8_t> b;
  for (int v : values) b.push_back(static_cast<std::uint8_t>(v));
  return binary(std::move(b));
}
term bin(std::string_view text) { return binary::from(text); }
term big(std::string_view decimal) { return *make_integer(decimal); }

term parsed(std::string_view text) {
  auto r = parse(text);
  INFO("input: " << text);
  if (!r) INFO("error: " << r.error().to_string());
  REQUIRE(r);
  return *r;
}

struct expected_error {
  std::size_t line;
  std::size_t column;
  std::string message_part;
};

void check_error(std::string_view text, const expected_error& want, const text::parse_limits& limits = {}) {
  auto r = parse(text, limits);
  INFO("input: " << text.substr(0, 200));
  REQUIRE_FALSE(r);
  INFO("error: " << r.error().to_string());
  CHECK(r.error().line == want.line);
  CHECK(r.error().column == want.column);
  CHECK_THAT(r.error().message, Catch::Contains(want.message_part));
}

using print_case = std::pair<term, std::string>;

void check_prints(const std::vector<print_case>& cases) {
  for (const auto& [t, want] : cases) {
    CHECK(print(t) == want);
    // Everything the printer writes reads back as the same term.
    auto back = parse(want);
    INFO("printed: " << want);
    REQUIRE(back);
    CHECK(*back == t);
  }
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

// --- printer ----------------------------------------------------------------

TEST_CASE("atoms are quoted exactly when erl quotes them", "[text]") {
  check_prints({
      {a("hello"), "hello"},
      {a("hello World"), "'hello World'"},
      {a("Abc"), "'Abc'"},
      {a("_x"), "'_x'"},
      {a("a@b"), "a@b"},
      {a("a.b"), "'a.b'"},
      {a("a1"), "a1"},
      {a("1a"), "'1a'"},
      {a(""), "''"},
      {a("[]"), "'[]'"},
      {a("and"), "'and'"},
      {a("of"), "'of'"},
      {a("case"), "'case'"},
      {a("maybe"), "maybe"},  // not reserved in OTP 25
      {a("else"), "else"},
      {a("ßx"), "ßx"},        // ß..ÿ count as lowercase letters
      {a("Àx"), "'Àx'"},      // À..Þ as uppercase: they cannot start an atom
      {a("aÀ"), "aÀ"},
      {a("éa"), "éa"},
      {a("a×"), "'a×'"},      // × and ÷ are not letters
      {a("дом"), "'дом'"},    // beyond Latin-1: quoted, written as is
      {a("it's"), "'it\\'s'"},
      {a("a\"b"), "'a\"b'"},
      {a("a\\b"), "'a\\\\b'"},
      {a("a\nb"), "'a\\nb'"},
      {a("a b"), "'a b'"},
  });
  const std::string controls = std::string("\0\x7F", 2) + "\u0080\u009F\u00A0";
  check_prints({{atom(controls), "'\\000\\d\\200\\237\u00A0'"}});
  const std::string named = "\a\b\t\n\v\f\r\x1B\x1F";
  check_prints({{atom(named), "'\\007\\b\\t\\n\\v\\f\\r\\e\\037'"}});
}

TEST_CASE("every reserved word is quoted", "[text]") {
  for (const char* word : {"after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
                           "case", "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or",
                           "orelse", "receive", "rem", "try", "when", "xor"}) {
    CHECK(print(a(word)) == std::string("'") + word + "'");
  }
  CHECK(print(a("true")) == "true");
  CHECK(print(a("undefined")) == "undefined");
}

TEST_CASE("printable Latin-1 lists print as strings", "[text]") {
  check_prints({
      {str("abc"), "\"abc\""},
      {str("a\nb"), "\"a\\nb\""},
      {list{97, 0}, "[97,0]"},
      {list{97, 127}, "[97,127]"},
      {list{97, 128}, "[97,128]"},
      {list{97, 160}, "\"a\u00A0\""},
      {list{255}, "\"ÿ\""},
      {list{256}, "[256]"},
      {list{8, 9, 10, 11, 12, 13, 27}, "\"\\b\\t\\n\\v\\f\\r\\e\""},
      {list{7}, "[7]"},
      {str("a\"b\\c'd"), "\"a\\\"b\\\\c'd\""},
      {list{}, "[]"},
      {list{list{}}, "[[]]"},
      {list::improper({97}, 98), "[97|98]"},
      {list{-1}, "[-1]"},
      {list{str("a")}, "[\"a\"]"},
      {list{97, str("b")}, "[97,\"b\"]"},
  });
}

TEST_CASE("binaries print as erl chooses: string, /utf8 or bytes", "[text]") {
  check_prints({
      {bin("abc"), "<<\"abc\">>"},
      {bytes({1, 2, 3}), "<<1,2,3>>"},
      {bytes({}), "<<>>"},
      {bin("héllo"), "<<\"héllo\"/utf8>>"},
      {bytes({'h', 0xE9, 'l', 'l', 'o'}), "<<\"héllo\">>"},  // Latin-1 bytes
      {bin("дом"), "<<208,180,208,190,208,188>>"},          // UTF-8 beyond Latin-1
      {bin("a\n\t\x1B\"\\'b"), "<<\"a\\n\\t\\e\\\"\\\\'b\">>"},
      {bytes({'a', 0}), "<<97,0>>"},
      // Not UTF-8 as a whole: read as Latin-1.
      {bytes({195, 169, 233}), "<<\"Ã©é\">>"},
      {bytes({208, 180, 208, 190, 208, 188, 255}), "<<\"Ð´Ð¾Ð¼ÿ\">>"},
      {bytes({195, 169, 0}), "<<195,169,0>>"},
      {bytes({192, 160}), "<<\"À\u00A0\">>"},  // overlong UTF-8 is not UTF-8
      {bytes({237, 191, 191}), "<<\"í¿¿\">>"},  // nor is a surrogate
      {bytes({194, 160}), "<<\"\u00A0\"/utf8>>"},
      {bytes({194, 128}), "<<194,128>>"},
  });
}

TEST_CASE("floats print in erl's shortest form", "[text]") {
  check_prints({
      {1.0, "1.0"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {1.0e-5, "1.0e-5"},
      {123456789.0, "123456789.0"},
      {1.0e16, "1.0e16"},
      {1.0e15, "1.0e15"},
      {5.0e-324, "5.0e-324"},
      {1.0e308, "1.0e308"},
      {0.1, "0.1"},
      {100.0, "100.0"},  // plain and exponent forms equally long: plain
      {1000.0, "1.0e3"},
      {1230.0, "1230.0"},
      {12300.0, "1.23e4"},
      {0.0001, "0.0001"},
      {0.00012, "1.2e-4"},
      {0.0012, "0.0012"},
      {9007199254740991.0, "9007199254740991.0"},
      {9007199254740992.0, "9.007199254740992e15"},  // from 2^53: always exponent
      {1.7976931348623157e308, "1.7976931348623157e308"},
      {-1.5, "-1.5"},
      {2.0 / 3.0, "0.6666666666666666"},
      {1.2345678901234568e16, "1.2345678901234568e16"},
  });
}

TEST_CASE("integers print in decimal, big ones exactly", "[text]") {
  check_prints({
      {0, "0"},
      {-7, "-7"},
      {INT64_MAX, "9223372036854775807"},
      {INT64_MIN, "-9223372036854775808"},
      {big("9223372036854775808"), "9223372036854775808"},
      {big("-9223372036854775809"), "-9223372036854775809"},
      {big("1267650600228229401496703205376"), "1267650600228229401496703205376"},
      {big("-1267650600228229401496703205376"), "-1267650600228229401496703205376"},
  });
}

TEST_CASE("containers print without spaces, maps with ' => '", "[text]") {
  check_prints({
      {tuple(), "{}"},
      {tuple(a("a")), "{a}"},
      {tuple(a("a"), a("b")), "{a,b}"},
      {list::improper({a("a")}, a("b")), "[a|b]"},
      {list::improper({1, 2}, 3), "[1,2|3]"},
      {map{}, "#{}"},
      {map{{a("a"), 1}, {a("b"), 2}}, "#{a => 1,b => 2}"},
      // Small maps in erl's key order: integers before floats, then term order.
      {map{{1.0, a("a")},
           {1, a("b")},
           {a("b"), a("c")},
           {tuple(), a("d")},
           {list{}, a("e")},
           {str("s"), a("f")},
           {bin("b"), a("g")}},
       "#{1 => b,1.0 => a,b => c,{} => d,[] => e,\"s\" => f,<<\"b\">> => g}"},
      {tuple(list{}, tuple(), map{}, binary()), "{[],{},#{},<<>>}"},
      {list{tuple(list{map{}})}, "[{[#{}]}]"},
      {map{{list{}, tuple()}}, "#{[] => {}}"},
      {list{a("a"), list{a("b"), list{a("c")}}}, "[a,[b,[c]]]"},
      {tuple(a("ok"), str("writing a book")), "{ok,\"writing a book\"}"},
  });
}

TEST_CASE("print_to appends and operator<< streams the same text", "[text]") {
  std::string out = "msg: ";
  text::print_to(out, tuple(a("ok"), 1));
  CHECK(out == "msg: {ok,1}");
  std::ostringstream os;
  os << term(list{1, 2.5, a("x")});
  CHECK(os.str() == "[1,2.5,x]");
}

// --- parser -----------------------------------------------------------------

TEST_CASE("atoms parse bare, quoted and with every escape", "[text]") {
  CHECK(parsed("hello") == a("hello"));
  CHECK(parsed("abc@d_E9") == a("abc@d_E9"));
  CHECK(parsed("ßÿÀ") == a("ßÿÀ"));
  CHECK(parsed("'Hello World'") == a("Hello World"));
  CHECK(parsed("'and'") == a("and"));
  CHECK(parsed("''") == a(""));
  CHECK(parsed("'дом'") == a("дом"));
  CHECK(parsed("'a\\x{434}'") == a("aд"));
  CHECK(parsed("'\\s\\'\\\"\\\\'") == a(" '\"\\"));
  CHECK(parsed("true") == a("true"));
}

TEST_CASE("strings parse with Erlang's escapes and concatenate", "[text]") {
  // Checked against erl_parse:parse_term: \^X is X band 31, an unknown escape
  // is the character itself, octal takes at most three digits.
  CHECK(parsed(R"("\b\d\e\f\n\r\s\t\v\'\"\\")") == list{8, 127, 27, 12, 10, 13, 32, 9, 11, 39, 34, 92});
  CHECK(parsed(R"("\0\7\10\101\1011\x41\x{41}\x{10FFFF}")") == list{0, 7, 8, 65, 65, 49, 65, 65, 0x10FFFF});
  CHECK(parsed(R"("\^a\^Z\^@\^?\q\z\8")") == list{1, 26, 0, 31, 113, 122, 56});
  CHECK(parsed("\"ab\" \"cd\"\n\"ef\"") == str("abcdef"));
  CHECK(parsed("\"x\ny\"") == str("x\ny"));
  CHECK(parsed("\"дом\"") == list{0x434, 0x43E, 0x43C});
  CHECK(parsed("\"\"") == list{});
}

TEST_CASE("character literals", "[text]") {
  CHECK(parsed(R"([$a, $\n, $\s, $ , $\x{41}, $é, $\^a, $\101, $$, $д])") ==
        list{97, 10, 32, 32, 65, 233, 1, 65, 36, 0x434});
  CHECK(parsed("-$a") == term(-97));
}

TEST_CASE("integers: signs, bases, separators, big values", "[text]") {
  CHECK(parsed("42") == term(42));
  CHECK(parsed("-7") == term(-7));
  CHECK(parsed("+7") == term(7));
  CHECK(parsed("- 7") == term(-7));  // a sign is its own token, as in erl
  CHECK(parsed("007") == term(7));
  CHECK(parsed("16#ff") == term(255));
  CHECK(parsed("16#FF") == term(255));
  CHECK(parsed("-16#ff") == term(-255));
  CHECK(parsed("2#1010") == term(10));
  CHECK(parsed("36#zz") == term(1295));
  CHECK(parsed("1_000_000") == term(1000000));
  CHECK(parsed("16#ff_ff") == term(65535));
  CHECK(parsed("9223372036854775807") == term(INT64_MAX));
  CHECK(parsed("-9223372036854775808") == term(INT64_MIN));
  CHECK(parsed("-16#8000000000000000") == term(INT64_MIN));
  CHECK(parsed("9223372036854775808") == big("9223372036854775808"));
  CHECK(parsed("16#1234567890abcdef1234567890abcdef") == big("24197857200151252728969465429440056815"));
  CHECK(parsed("-2#" + std::string(100, '1')) == big("-1267650600228229401496703205375"));
  // Up to big_integer's cap: 32,768 bits.
  const std::string max_bits(big_integer::max_magnitude_bytes * 8, '1');
  const term largest = parsed("2#" + max_bits);
  REQUIRE(largest.as_big_integer());
  CHECK(largest.as_big_integer()->magnitude().size() == big_integer::max_magnitude_bytes);
  CHECK(parsed(print(largest)) == largest);
  check_error("2#1" + max_bits, {1, 1, "integer too large"});
  check_error(std::string(10000, '9'), {1, 1, "integer too large"});
}

TEST_CASE("floats: both sides of the point, exponents, range", "[text]") {
  CHECK(parsed("1.5e3") == term(1500.0));
  CHECK(parsed("1.0E+3") == term(1000.0));
  CHECK(parsed("1.0e-5") == term(1.0e-5));
  CHECK(std::signbit(*parsed("-0.0").as_double()));
  CHECK(parsed("-0.0") == term(-0.0));
  CHECK(parsed("1_000.0_1e1_0") == term(1.00001e13));
  CHECK(parsed("1.7976931348623158e308") == term(1.7976931348623157e308));
  CHECK(parsed("2.5e-324") == term(5.0e-324));
  CHECK(parsed("1.0e-400") == term(0.0));  // erl reads underflow as zero
  CHECK(parsed("-1.0e-400") == term(-0.0));
  check_error("1.0e999", {1, 1, "float out of range"});
  check_error("[1, -1.7976931348623159e308]", {1, 6, "float out of range"});
  check_error("1.5e", {1, 5, "expected digits in the exponent"});
  check_error("1e5", {1, 2, "expected end of input after the term, found 'e5'"});
}

TEST_CASE("binaries: bytes, strings, /utf8 and nothing else", "[text]") {
  CHECK(parsed("<<>>") == bytes({}));
  CHECK(parsed("<< >>") == bytes({}));
  CHECK(parsed("<<1,2,3>>") == bytes({1, 2, 3}));
  CHECK(parsed("<<\"bin\">>") == bin("bin"));
  CHECK(parsed("<<\"é\"/utf8>>") == bytes({0xC3, 0xA9}));
  CHECK(parsed("<<\"é\">>") == bytes({0xE9}));
  CHECK(parsed("<<\"a\", 1, \"b\">>") == bytes({'a', 1, 'b'}));
  CHECK(parsed("<<$a, $é/utf8, 1024/utf8>>") == bytes({'a', 0xC3, 0xA9, 0xD0, 0x80}));
  CHECK(parsed("<<\"a\" \"b\">>") == bin("ab"));
  check_error("<<256>>", {1, 3, "byte out of range 0..255"});
  check_error("<<-1>>", {1, 3, "byte out of range 0..255"});
  check_error("<<\"дом\">>", {1, 3, "needs /utf8"});
  check_error("<<1:8>>", {1, 4, "bit syntax sizes are not supported"});
  check_error("<<\"a\"/binary>>", {1, 7, "only /utf8"});
  check_error("<<1.5>>", {1, 3, "expected a byte, a character or a string"});
  check_error("<<a>>", {1, 3, "expected a byte, a character or a string"});
  check_error("<<1 2>>", {1, 5, "expected ',' or '>>' in binary"});
  check_error("< <1> >", {1, 1, "a binary starts with '<<'"});
}

TEST_CASE("tuples, lists, improper lists and maps", "[text]") {
  CHECK(parsed("{}") == tuple());
  CHECK(parsed("{a}") == tuple(a("a")));
  CHECK(parsed("{ok, \"writing a book\"}") == tuple(a("ok"), str("writing a book")));
  CHECK(parsed("[]") == list{});
  CHECK(parsed("[a|b]") == list::improper({a("a")}, a("b")));
  CHECK(parsed("[1,2|3]") == list::improper({1, 2}, 3));
  CHECK(parsed("[a|[b]]") == list{a("a"), a("b")});
  CHECK(parsed("[a|[]]") == list{a("a")});
  CHECK(parsed("[a|\"bc\"]") == list{a("a"), 98, 99});
  CHECK(parsed("[a|[b|[c|d]]]") == list::improper({a("a"), a("b"), a("c")}, a("d")));
  CHECK(parsed("#{}") == map{});
  CHECK(parsed("#{k => v}") == map{{a("k"), a("v")}});
  CHECK(parsed("# { k => v }") == map{{a("k"), a("v")}});
  CHECK(parsed("#{a => 1, a => 2}") == map{{a("a"), 2}});  // later duplicate wins, as in erl
  CHECK(parsed("{[], {}, #{}, <<>>}") == tuple(list{}, tuple(), map{}, binary()));
}

TEST_CASE("parentheses are transparent, as in erl", "[text]") {
  // Each case checked against erl_parse:parse_term.
  CHECK(parsed("(1)") == term(1));
  CHECK(parsed("((a))") == a("a"));
  CHECK(parsed("({a})") == tuple(a("a")));
  CHECK(parsed("-(1)") == term(-1));
  CHECK(parsed("-((1.5))") == term(-1.5));
  CHECK(parsed("-( $a )") == term(-97));
  CHECK(parsed("((-1))") == term(-1));
  CHECK(parsed("[(a)|(b)]") == list::improper({a("a")}, a("b")));
  CHECK(parsed("[a|([b|(c)])]") == list::improper({a("a"), a("b")}, a("c")));
  CHECK(parsed("[a|((\"bc\"))]") == list{a("a"), 98, 99});
  CHECK(parsed("[a|([])]") == list{a("a")});
  CHECK(parsed("#{(a) => (b)}") == map{{a("a"), a("b")}});
  CHECK(parsed("(\"ab\" \"cd\")") == str("abcd"));
  CHECK(parsed("<<(1), (\"a\")/utf8, ((2))>>") == bytes({1, 'a', 2}));
  // A parenthesised list tail is still read in place: depth stays exact.
  CHECK(depth(parsed(std::string(63, '[') + "a|([b])" + std::string(63, ']'))) == 64);
  check_error("-(-1)", {1, 3, "expected a number after '-'"});
  check_error("-(a)", {1, 3, "expected a number after '-'"});
  check_error("()", {1, 2, "expected a term, found ')'"});
  check_error("(a, b)", {1, 3, "expected ')', found ','"});
  check_error("(\"ab\") \"cd\"", {1, 8, "expected end of input"});
  check_error("[a|([b]|c)]", {1, 8, "expected ')', found '|'"});
  check_error("<<((1)/utf8)>>", {1, 7, "expected ')', found '/'"});
  check_error("((((a)))", {1, 9, "expected ')', found end of input"});
  // Parentheses add no depth and are counted, not recursed into.
  CHECK(parsed(std::string(10000, '(') + "a" + std::string(10000, ')')) == a("a"));
}

TEST_CASE("whitespace, comments and one final dot", "[text]") {
  CHECK(parsed("  {a, % a comment\n b}  ") == tuple(a("a"), a("b")));
  CHECK(parsed("ok.") == a("ok"));
  CHECK(parsed("ok .\n% done\n") == a("ok"));
  CHECK(parsed("ok.%c") == a("ok"));
  CHECK(parsed("1.") == term(1));
  CHECK(parsed("\t\r\n1\n") == term(1));
  check_error("a.b", {1, 3, "expected end of input after the term, found 'b'"});
  check_error("ok..", {1, 4, "expected end of input"});
  check_error("", {1, 1, "expected a term, found end of input"});
  check_error("  % only a comment", {1, 19, "expected a term, found end of input"});
}

TEST_CASE("parse errors say what was expected, at line:column", "[text]") {
  check_error("{a b}", {1, 4, "expected ',' or '}' in tuple, found 'b'"});
  check_error("[1,\n 2,\n   ]", {3, 4, "expected a term, found ']'"});
  check_error("[1 2]", {1, 4, "expected ',', '|' or ']' in list"});
  check_error("[1|2|3]", {1, 5, "expected ']' to close the list, found '|'"});
  check_error("[|1]", {1, 2, "expected a term, found '|'"});
  check_error("[a,]", {1, 4, "expected a term, found ']'"});
  check_error("#{a => 1,}", {1, 10, "expected a term, found '}'"});
  check_error("#{a := 1}", {1, 5, "expected '=>' after a map key"});
  check_error("#{a}", {1, 4, "expected '=>' after a map key"});
  check_error("#[1]", {1, 2, "expected '{' after '#'"});
  check_error("{a, b", {1, 6, "expected ',' or '}' in tuple, found end of input"});
  check_error("\"дом\" x", {1, 7, "expected end of input"});  // columns count code points
  check_error("'abc", {1, 1, "unterminated quoted atom"});
  check_error("{\n  \"abc", {2, 3, "unterminated string"});
  check_error("Foo", {1, 1, "variable"});
  check_error("[_]", {1, 2, "variable"});
  check_error("and", {1, 1, "reserved word"});
  check_error("{a, дом}", {1, 5, "unexpected character 'д'"});
  check_error("--7", {1, 2, "expected a number after '-'"});
  check_error("-[1]", {1, 2, "expected a number after '-'"});
  check_error("a = b", {1, 3, "unexpected '='"});
  check_error("37#1", {1, 1, "the base in Base#Digits must be 2..36"});
  check_error("1#0", {1, 1, "the base in Base#Digits must be 2..36"});
  check_error("2#102", {1, 5, "'2' is not a base-2 digit"});
  check_error("16#", {1, 4, "expected base-16 digits"});
  check_error("\"\\x4g\"", {1, 2, "expected two hex digits after \\x"});
  check_error("\"\\x{}\"", {1, 2, "expected hex digits and '}'"});
  check_error("'\\x{110000}'", {1, 2, "not a Unicode character"});
  check_error("\"\\x{D800}\"", {1, 2, "not a Unicode character"});
  check_error("$", {1, 1, "expected a character after '$'"});
  check_error("$\\", {1, 2, "unterminated escape sequence"});
  CHECK(parsed("{1,\x01\u00A0 2}") == tuple(1, 2));  // erl's white space: controls and U+80..U+A0
  CHECK(text::parse_error{3, 14, "expected a term"}.to_string() == "3:14: expected a term");
}

TEST_CASE("invalid UTF-8 is refused at its position", "[text]") {
  check_error("[1, \xFF]", {1, 5, "invalid UTF-8"});
  check_error("\"\xC3\xA9\xFF\"", {1, 3, "invalid UTF-8"});
  check_error("ok.\n% \xC3\n", {2, 3, "invalid UTF-8"});
  check_error("'\xED\xA0\x80'", {1, 2, "invalid UTF-8"});  // an encoded surrogate
  check_error("\xC0\x80", {1, 1, "invalid UTF-8"});        // overlong
}

TEST_CASE("atoms of up to 255 characters", "[text]") {
  CHECK(parsed(std::string(255, 'a')) == atom(std::string(255, 'a')));
  CHECK(parsed("'" + repeat("д", 255) + "'") == atom(repeat("д", 255)));
  check_error(std::string(256, 'a'), {1, 1, "atom longer than 255 characters"});
  check_error("{'" + repeat("д", 256) + "'}", {1, 2, "atom longer than 255 characters"});
  CHECK(parsed("'" + repeat("\\x{434}", 255) + "'") == atom(repeat("д", 255)));
}

TEST_CASE("nesting depth is bounded as DESIGN.md counts it", "[text]") {
  // 63 brackets around a scalar: depth 64.
  const term deepest = parsed(std::string(63, '[') + "1" + std::string(63, ']'));
  CHECK(depth(deepest) == 64);
  check_error(std::string(64, '[') + "1" + std::string(64, ']'), {1, 65, "nested deeper than 64"});
  // An empty container is 1 deep, like a scalar.
  CHECK(depth(parsed(std::string(64, '[') + std::string(64, ']'))) == 64);
  check_error(std::string(65, '[') + std::string(65, ']'), {1, 65, "nested deeper than 64"});
  CHECK(depth(parsed(std::string(63, '{') + std::string(63, '}'))) == 63);
  // A string is a list: its characters are one level deeper.
  check_error(std::string(63, '[') + "\"ab\"" + std::string(63, ']'), {1, 64, "nested deeper than 64"});
  CHECK(depth(parsed(std::string(63, '[') + "\"\"" + std::string(63, ']'))) == 64);
  // Maps count like the other containers.
  CHECK(depth(parsed(repeat("#{k => ", 63) + "v" + std::string(63, '}'))) == 64);
  // The 64th map is at level 64, its key `k` at 65.
  check_error(repeat("#{k => ", 64) + "v" + std::string(64, '}'), {1, 444, "nested deeper than 64"});

  // Refused cleanly, not by running out of stack.
  check_error(std::string(10000, '['), {1, 65, "nested deeper than 64"});
  check_error(std::string(10000, '{') + std::string(10000, '}'), {1, 65, "nested deeper than 64"});
  check_error(repeat("#{a => ", 10000), {1, 444, "nested deeper than 64"});

  // [a|[b|...]] is one flat list however long the chain: no nesting.
  const term chain = parsed(repeat("[a|", 10000) + "[]" + std::string(10000, ']'));
  REQUIRE(chain.as_list());
  CHECK(chain.as_list()->size() == 10000);
  CHECK(depth(chain) == 2);

  text::parse_limits shallow;
  shallow.max_depth = 2;
  CHECK(parse("[1]", shallow));
  CHECK(parse("[[]]", shallow));
  check_error("[[1]]", {1, 3, "nested deeper than 2"}, shallow);
}

TEST_CASE("input larger than the limit is refused", "[text]") {
  text::parse_limits small;
  small.max_input = 4;
  CHECK(parse("1234", small));
  check_error("12345", {1, 1, "more than the limit of 4"}, small);
}

TEST_CASE("what the printer writes parses back to the same term", "[text]") {
  std::vector<term> terms = {
      tuple(a("store"), a("joe"), str("writing a book")),
      list::improper({1, 2.5, a("x")}, bin("t")),
      map{{1, 1.0}, {1.0, 1}, {str("k"), map{{bin("v"), list{}}}}},
      5.0e-324,
      -0.0,
      1.7976931348623157e308,
      big("-123456789012345678901234567890123456789"),
      atom(std::string("\0\x01'\"\\\x7F", 6) + "\u0080ÿĀ😀"),
      list{0x10FFFF, 0xFFFE, 0},
      list{tuple(), map{}, binary(), list{}},
  };
  std::vector<std::uint8_t> all_bytes;
  std::vector<term> all_latin1;
  for (int i = 0; i < 256; ++i) {
    all_bytes.push_back(static_cast<std::uint8_t>(i));
    terms.push_back(bytes({i}));
    terms.push_back(list{i});
    terms.push_back(atom(std::string(1, static_cast<char>(i & 0x7F))));
    if (i >= 0xA0) all_latin1.emplace_back(i);
  }
  terms.push_back(binary(all_bytes));
  terms.push_back(list(all_latin1));
  terms.push_back(binary(std::vector<std::uint8_t>(all_bytes.begin() + 0xA0, all_bytes.end())));
  for (const term& t : terms) {
    const std::string printed = print(t);
    auto back = parse(printed);
    INFO("printed: " << printed);
    REQUIRE(back);
    CHECK(*back == t);
  }
}
