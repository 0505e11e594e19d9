// The --json mapping (client/cli/json.hpp): each kind of term, escaping, the
// charlist rule (the same as erl's ~tp), and the depth bound.
#include <catch2/catch.hpp>

#include "capchan/core/text.hpp"
#include "json.hpp"

using capchan::term;
using capchan::cli::to_json;

namespace {

// The JSON of a term written in Erlang syntax.
std::string json_of(const std::string& erlang_text) {
  auto parsed = capchan::text::parse(erlang_text);
  REQUIRE(parsed.has_value());
  auto json = to_json(*parsed);
  REQUIRE(json.has_value());
  return *json;
}

// A term nested `levels` deep: [[[...[]...]]], depth as DESIGN.md §2 counts it.
term nested_lists(std::size_t levels) {
  term t;  // [] is depth 1
  for (std::size_t i = 1; i < levels; ++i) t = capchan::list{t};
  return t;
}

}  // namespace

TEST_CASE("json: the book's reply", "[cli][json]") {
  CHECK(json_of(R"({ok, "writing a book"})") ==
        R"({"tuple":[{"atom":"ok"},{"string":"writing a book"}]})");
  CHECK(json_of("undefined") == R"({"atom":"undefined"})");
}

TEST_CASE("json: numbers", "[cli][json]") {
  CHECK(json_of("42") == "42");
  CHECK(json_of("-7") == "-7");
  CHECK(json_of("123456789012345678901234567890") == "123456789012345678901234567890");
  CHECK(json_of("-18446744073709551616") == "-18446744073709551616");
  CHECK(json_of("1.5") == R"({"float":1.5})");
  CHECK(json_of("1.0") == R"({"float":1})");
  CHECK(json_of("0.1") == R"({"float":0.1})");
  CHECK(json_of("-2.5e300") == R"({"float":-2.5e+300})");
}

TEST_CASE("json: atoms, binaries and strings are told apart", "[cli][json]") {
  CHECK(json_of("ok") == R"({"atom":"ok"})");
  CHECK(json_of("'hello world'") == R"({"atom":"hello world"})");
  CHECK(json_of(R"(<<"ok">>)") == R"({"binary":"ok"})");
  CHECK(json_of(R"("ok")") == R"({"string":"ok"})");
  CHECK(json_of("<<>>") == R"({"binary":""})");
  CHECK(json_of("[]") == "[]");
  // Not UTF-8: base64 (standard alphabet, padded).
  CHECK(json_of("<<255>>") == R"({"base64":"/w=="})");
  CHECK(json_of("<<0,1,2,255,254>>") == R"({"base64":"AAEC//4="})");
  // UTF-8 text stays text.
  CHECK(json_of("<<104,195,169>>") == "{\"binary\":\"h\xc3\xa9\"}");
}

TEST_CASE("json: a list of integers is a string exactly when erl prints one", "[cli][json]") {
  CHECK(json_of("[104,105]") == R"({"string":"hi"})");
  CHECK(json_of("[1,2,3]") == "[1,2,3]");
  // Latin-1 printable (U+E9) is a string, as ~tp prints it; U+263A is not.
  CHECK(json_of("[233]") == "{\"string\":\"\xc3\xa9\"}");
  CHECK(json_of("[9786]") == "[9786]");
  CHECK(json_of("[104,a]") == R"([104,{"atom":"a"}])");
  // The rule is the printer's: both agree on every one of these.
  for (const char* text : {"[104,105]", "[1,2,3]", "[233]", "[9786]", "[10,13]", "[127]"}) {
    const bool printed_as_string =
        capchan::text::print(*capchan::text::parse(text)).starts_with('"');
    CHECK(json_of(text).starts_with(R"({"string":)") == printed_as_string);
  }
}

TEST_CASE("json: containers", "[cli][json]") {
  CHECK(json_of("[a, 1]") == R"([{"atom":"a"},1])");
  CHECK(json_of("[a, b | c]") == R"({"improper_list":[{"atom":"a"},{"atom":"b"},{"atom":"c"}]})");
  CHECK(json_of("[1 | 2]") == R"({"improper_list":[1,2]})");
  CHECK(json_of("{}") == R"({"tuple":[]})");
  CHECK(json_of("{a}") == R"({"tuple":[{"atom":"a"}]})");
  CHECK(json_of("#{}") == R"({"map":[]})");
  // Keys in Erlang map order (integers before atoms), any term as a key.
  CHECK(json_of("#{b => 2, 1 => one, {k} => []}") ==
        R"({"map":[[1,{"atom":"one"}],[{"atom":"b"},2],[{"tuple":[{"atom":"k"}]},[]]]})");
}

TEST_CASE("json: strings are escaped", "[cli][json]") {
  CHECK(json_of(R"(<<"a\"b\\c">>)") == R"({"binary":"a\"b\\c"})");
  CHECK(json_of("<<10,9,13,8,12>>") == R"({"binary":"\n\t\r\b\f"})");
  CHECK(json_of("<<0,1,31,127>>") == R"({"binary":"\u0000\u0001\u001f\u007f"})");
  CHECK(json_of(R"('a"b')") == R"({"atom":"a\"b"})");
  CHECK(json_of(R"("say \"hi\"\n")") == R"({"string":"say \"hi\"\n"})");
}

TEST_CASE("json: depth is bounded", "[cli][json]") {
  CHECK(to_json(nested_lists(64)).has_value());
  const auto too_deep = to_json(nested_lists(65));
  REQUIRE_FALSE(too_deep.has_value());
  CHECK_THAT(too_deep.error().message, Catch::Contains("more than 64 deep"));
  // The bound is a parameter.
  CHECK(to_json(nested_lists(3), 3).has_value());
  CHECK_FALSE(to_json(nested_lists(4), 3).has_value());
  // Depth through tuples and maps counts the same way.
  CHECK_FALSE(to_json(capchan::tuple(term(capchan::tuple(term(1)))), 2).has_value());
  CHECK(to_json(capchan::tuple(term(capchan::tuple(term(1)))), 3).has_value());
  CHECK_FALSE(to_json(capchan::map{{term(1), capchan::tuple(term(1))}}, 2).has_value());
}
