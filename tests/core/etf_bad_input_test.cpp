// ETF decoding of hostile and broken input (DESIGN.md §2): truncation at
// every byte, lengths past the input, nesting past the depth limit, invalid
// atoms, non-finite floats, duplicate map keys, refused tags, trailing bytes.
// Every refusal is a decode_error whose offset and message are asserted. (That
// such input allocates nothing is checked in etf_alloc_test.cpp, which needs
// its own executable to count allocations.)
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "capchan/core/etf.hpp"
#include "capchan/core/term.hpp"

using namespace capchan;
using bytes = std::vector<std::uint8_t>;

namespace {

// The error decoding `input` gives; fails the test if it decodes.
etf::decode_error refusal(const bytes& input, const etf::decode_limits& limits = {}) {
  auto r = etf::decode(input, limits);
  if (r) FAIL("decoded, expected an error; input of " << input.size() << " bytes");
  return r.error();
}

void check_refused(const bytes& input, std::size_t offset, const std::string& message_part) {
  const auto e = refusal(input);
  INFO(e.to_string());
  CHECK(e.offset == offset);
  CHECK_THAT(e.message, Catch::Contains(message_part));
}

bytes repeat(const bytes& unit, std::size_t n) {
  bytes out;
  for (std::size_t i = 0; i < n; ++i) out.insert(out.end(), unit.begin(), unit.end());
  return out;
}

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

term big(std::string_view decimal) {
  return *make_integer(decimal);
}

// `depth` tuples of one element around `inner` (which is `inner_bytes` encoded).
bytes nested_tuples(std::size_t count, const bytes& inner_bytes) {
  return cat({{131}, repeat({104, 1}, count), inner_bytes});
}

// [[...[]...]]: `depth` lists, the innermost empty.
bytes nested_lists(std::size_t depth) {
  return cat({{131}, repeat({108, 0, 0, 0, 1}, depth - 1), {106}, repeat({106}, depth - 1)});
}

// #{a => #{a => ... #{}}}: `depth` maps, the innermost empty.
bytes nested_maps(std::size_t depth) {
  return cat({{131}, repeat({116, 0, 0, 0, 1, 119, 1, 97}, depth - 1), {116, 0, 0, 0, 0}});
}

}  // namespace

TEST_CASE("every proper prefix of an encoding is refused", "[etf]") {
  std::vector<std::uint8_t> magnitude(300, 0x5A);
  const std::vector<term> corpus{
      0,
      255,
      256,
      -1,
      std::int64_t{1} << 40,
      std::numeric_limits<std::int64_t>::min(),
      big("123456789012345678901234567890"),
      make_integer(true, magnitude),  // LARGE_BIG_EXT
      1.5,
      -0.0,
      atom(""),
      atom("lookup"),
      atom(std::string(200, 'z')),
      atom(std::string(100, 'q') + "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC" +
           std::string(100, 'q')),  // ATOM_UTF8_EXT (over 255 bytes)
      binary(),
      binary::from("some bytes"),
      term(),
      charlist("abc"),
      list{256, -3},
      list{1.5, atom("x"), binary::from("b")},
      list::improper({1, 2}, 3),
      list::improper({atom("a")}, tuple(atom("b"))),
      list{term(), list{term()}},
      tuple(),
      tuple(atom("lookup"), atom("joe")),
      tuple(std::vector<term>(300, term(1))),  // LARGE_TUPLE_EXT
      map(),
      map{{atom("k"), atom("v")}},
      map{{1, atom("i")},
          {1.0, atom("f")},
          {charlist("s"), tuple()},
          {binary::from("b"), map{{1, 2}}}},
      tuple(atom("call"), 17, tuple(atom("put"), charlist("key"), map{{atom("ttl"), 30}})),
      tuple(atom("reply"), 99,
            list{tuple(atom("kvs"), 4, atom("put"), binary::from("k"), -2.25e10)}),
      list{list{list{list{charlist("deep")}}}},
  };
  REQUIRE(corpus.size() >= 30);
  for (const term& t : corpus) {
    const bytes full = etf::encode(t);
    REQUIRE(etf::decode(full).has_value());
    for (std::size_t n = 0; n < full.size(); ++n) {
      const bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
      auto r = etf::decode(prefix);
      INFO("prefix of " << n << " of " << full.size() << " bytes");
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().offset <= n);
      std::size_t offset = 0;
      CHECK_FALSE(etf::decode_next(prefix, offset).has_value());
      CHECK(offset == 0);
    }
  }
}

TEST_CASE("lengths past the end of the input are refused at the length field", "[etf]") {
  // LIST_EXT claiming 2^32-1 elements in a 10-byte input.
  check_refused({131, 108, 255, 255, 255, 255, 97, 1, 97, 2}, 2,
                "list length 4294967295 needs at least 4294967296 bytes; 4 bytes left");
  // BINARY_EXT claiming 4 GiB.
  check_refused({131, 109, 255, 255, 255, 255, 1, 2, 3}, 2,
                "binary length 4294967295 exceeds the 3 bytes left");
  check_refused({131, 116, 255, 255, 255, 255, 97, 1}, 2,
                "map size 4294967295 needs at least 8589934590 bytes; 2 bytes left");
  // A map of 2 entries needs 4 bytes: 3 are not enough even before reading one.
  check_refused({131, 116, 0, 0, 0, 2, 97, 1, 97}, 2,
                "map size 2 needs at least 4 bytes; 3 bytes left");
  check_refused({131, 105, 255, 255, 255, 255, 97, 1}, 2,
                "tuple arity 4294967295 exceeds the 2 bytes left");
  check_refused({131, 104, 3, 97, 1}, 2, "tuple arity 3 exceeds the 2 bytes left");
  check_refused({131, 107, 255, 255, 1, 2, 3}, 2, "string length 65535 exceeds the 3 bytes left");
  check_refused({131, 111, 0, 0, 16, 0, 0, 1}, 2,
                "big integer length 4096 needs at least 4097 bytes; 2 bytes left");
  check_refused({131, 110, 5, 0, 1}, 2,
                "big integer length 5 needs at least 6 bytes; 2 bytes left");
  check_refused({131, 118, 3, 0, 97}, 2, "atom length 768 exceeds the 1 byte left");
  check_refused({131, 119, 2, 97}, 2, "atom length 2 exceeds the 1 byte left");
  check_refused({131, 115, 200, 97}, 2, "atom length 200 exceeds the 1 byte left");
  // Deep inside a term, the offset is still that of the length field.
  check_refused({131, 104, 2, 97, 1, 109, 255, 255, 255, 255}, 6,
                "binary length 4294967295 exceeds the 0 bytes left");
  // A fixed-size field cut short names what it was reading.
  check_refused({131, 98, 0, 0}, 2, "input ends inside INTEGER_EXT: needs 4 bytes, 2 left");
  check_refused({131, 70, 1, 2, 3}, 2, "input ends inside NEW_FLOAT_EXT");
  check_refused({131, 108, 0, 0, 0, 1, 97, 1}, 8,
                "input ends inside a list's tail: needs 1 byte, 0 left");
  check_refused({131, 104, 2, 97, 1}, 5, "input ends inside a term's tag: needs 1 byte, 0 left");
}

TEST_CASE("nesting of 10,000 levels is refused with a message about depth", "[etf]") {
  const std::size_t n = 10'000;
  const auto tuples = refusal(nested_tuples(n, {106}));
  CHECK_THAT(tuples.message, Catch::Contains("depth limit of 64"));
  CHECK(tuples.offset == 1 + 63 * 2);  // the tuple at level 64, whose element would be at 65
  const auto lists = refusal(nested_lists(n));
  CHECK_THAT(lists.message, Catch::Contains("depth limit of 64"));
  CHECK(lists.offset == 1 + 63 * 5);
  const auto maps = refusal(nested_maps(n));
  CHECK_THAT(maps.message, Catch::Contains("depth limit of 64"));
  CHECK(maps.offset == 1 + 63 * 8);
  // The same through improper-list tails: [a | [a | ...]] written as a tail
  // that is a tuple holding the next list nests too.
  const bytes tails = cat({{131}, repeat({108, 0, 0, 0, 1, 97, 1, 104, 1}, n), {106}});
  CHECK_THAT(refusal(tails).message, Catch::Contains("depth limit"));
}

TEST_CASE("depth 64 is accepted and 65 refused", "[etf]") {
  SECTION("tuples") {
    const auto ok = etf::decode(nested_tuples(63, {104, 0}));
    REQUIRE(ok.has_value());
    CHECK(depth(*ok) == 64);
    check_refused(nested_tuples(64, {104, 0}), 1 + 63 * 2, "depth limit of 64");
    // A scalar counts as a level too.
    CHECK(etf::decode(nested_tuples(63, {97, 1})).has_value());
    check_refused(nested_tuples(64, {97, 1}), 1 + 63 * 2, "depth limit of 64");
  }
  SECTION("lists") {
    const auto ok = etf::decode(nested_lists(64));
    REQUIRE(ok.has_value());
    CHECK(depth(*ok) == 64);
    check_refused(nested_lists(65), 1 + 63 * 5, "depth limit of 64");
  }
  SECTION("maps") {
    const auto ok = etf::decode(nested_maps(64));
    REQUIRE(ok.has_value());
    CHECK(depth(*ok) == 64);
    check_refused(nested_maps(65), 1 + 63 * 8, "depth limit of 64");
  }
  SECTION("a string's characters are one level below it") {
    const auto ok = etf::decode(nested_tuples(62, {107, 0, 1, 97}));
    REQUIRE(ok.has_value());
    CHECK(depth(*ok) == 64);
    check_refused(nested_tuples(63, {107, 0, 1, 97}), 1 + 63 * 2, "depth limit of 64");
    // An empty string is [], depth 1.
    CHECK(etf::decode(nested_tuples(63, {107, 0, 0})).has_value());
  }
  SECTION("the limit is the caller's") {
    const etf::decode_limits three{3};
    CHECK(etf::decode(nested_lists(3), three).has_value());
    const auto e = refusal(nested_lists(4), three);
    CHECK(e.offset == 1 + 2 * 5);
    CHECK_THAT(e.message, Catch::Contains("depth limit of 3"));
  }
  SECTION("an encoder-built term of depth 65 is refused") {
    term t = 1;
    for (int i = 0; i < 64; ++i) t = tuple(std::move(t), 2);
    REQUIRE(depth(t) == 65);
    CHECK_THAT(refusal(etf::encode(t)).message, Catch::Contains("depth limit of 64"));
  }
}

TEST_CASE("a chain of 10,000 LIST_EXT tails is one flat list, decoded without recursion", "[etf]") {
  // [1 | [1 | [1 | ...]]] with every tail its own LIST_EXT: depth 2 once spliced.
  const auto r = etf::decode(cat({{131}, repeat({108, 0, 0, 0, 1, 97, 1}, 10'000), {106}}));
  REQUIRE(r.has_value());
  CHECK(*r == term(list(std::vector<term>(10'000, term(1)))));
  // Empty LIST_EXTs chained before a tail are just that tail.
  const auto empty = etf::decode(cat({{131}, repeat({108, 0, 0, 0, 0}, 10'000), {104, 0}}));
  REQUIRE(empty.has_value());
  CHECK(*empty == term(tuple()));
}

TEST_CASE("atoms that are not valid UTF-8 are refused", "[etf]") {
  check_refused({131, 119, 2, 0xC1, 0x81}, 3, "atom is not valid UTF-8");        // overlong 'A'
  check_refused({131, 119, 3, 0xE0, 0x80, 0x80}, 3, "atom is not valid UTF-8");  // overlong NUL
  check_refused({131, 119, 3, 0xED, 0xA0, 0x80}, 3, "atom is not valid UTF-8");  // surrogate U+D800
  check_refused({131, 119, 1, 0xC3}, 3, "atom is not valid UTF-8");              // truncated
  check_refused({131, 104, 2, 119, 1, 0xE4, 97, 1}, 5,
                "atom is not valid UTF-8");                          // truncated mid-term
  check_refused({131, 119, 1, 0x80}, 3, "atom is not valid UTF-8");  // lone continuation
  check_refused({131, 119, 4, 0xF4, 0x90, 0x80, 0x80}, 3,
                "atom is not valid UTF-8");  // past U+10FFFF
  check_refused({131, 118, 0, 1, 0xFF}, 4, "atom is not valid UTF-8");
}

TEST_CASE("atoms of 256 characters are refused, 255 accepted", "[etf]") {
  const bytes a255 = cat({{131, 118, 0, 255}, repeat({'a'}, 255)});
  CHECK(etf::decode(a255).has_value());
  check_refused(cat({{131, 118, 1, 0}, repeat({'a'}, 256)}), 2,
                "atom is longer than 255 characters");
  const bytes u255 = cat({{131, 118, 1, 254}, repeat({0xC3, 0xA4}, 255)});  // 255 x 'ä'
  CHECK(etf::decode(u255).has_value());
  check_refused(cat({{131, 118, 2, 0}, repeat({0xC3, 0xA4}, 256)}), 2,
                "atom is longer than 255 characters");
  // 255 four-byte characters is the longest atom in bytes.
  CHECK(etf::decode(cat({{131, 118, 3, 252}, repeat({0xF0, 0x9F, 0x98, 0x80}, 255)})).has_value());
  // Over 1,020 bytes is refused before reading them.
  check_refused(cat({{131, 118, 3, 253}, repeat({'a'}, 1021)}), 2,
                "atom is longer than 255 characters");
  check_refused(cat({{131, 100, 1, 0}, repeat({'a'}, 256)}), 2,
                "atom is longer than 255 characters");
}

TEST_CASE("bytes after the term are refused", "[etf]") {
  check_refused({131, 97, 1, 0}, 3, "1 byte follows the term");
  check_refused({131, 106, 131, 106}, 2, "2 bytes follow the term");
  // decode_next takes the first and leaves the rest.
  const bytes two{131, 106, 131, 106};
  std::size_t offset = 0;
  CHECK(etf::decode_next(two, offset).has_value());
  CHECK(offset == 2);
}

TEST_CASE("a missing or wrong version byte is refused", "[etf]") {
  check_refused({}, 0, "version byte");
  check_refused({130, 97, 1}, 0, "expected version byte 131, got 130");
  check_refused({97, 1}, 0, "expected version byte 131, got 97");
  check_refused({131}, 1, "input ends inside a term's tag");
  // At an offset, errors are offsets into the whole input.
  const bytes input{0, 0, 131, 104, 1, 88};
  std::size_t offset = 2;
  auto r = etf::decode_next(input, offset);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().offset == 5);
  CHECK(offset == 2);
}

TEST_CASE("each refused tag gets its own message", "[etf]") {
  struct sample {
    std::uint8_t tag;
    std::string message_part;
  };
  const std::vector<sample> samples{
      {80, "compressed terms are not supported"},
      {88, "NEW_PID_EXT (tag 88): pids are not supported"},
      {103, "PID_EXT (tag 103): pids are not supported"},
      {90, "NEWER_REFERENCE_EXT (tag 90): references are not supported"},
      {114, "NEW_REFERENCE_EXT (tag 114): references are not supported"},
      {101, "REFERENCE_EXT (tag 101): references are not supported"},
      {89, "NEW_PORT_EXT (tag 89): ports are not supported"},
      {102, "PORT_EXT (tag 102): ports are not supported"},
      {120, "V4_PORT_EXT (tag 120): ports are not supported"},
      {112, "NEW_FUN_EXT (tag 112): funs are not supported"},
      {117, "FUN_EXT (tag 117): funs are not supported"},
      {113, "EXPORT_EXT (tag 113): funs (fun M:F/A) are not supported"},
      {77, "BIT_BINARY_EXT (tag 77): bitstrings"},
      {82, "ATOM_CACHE_REF (tag 82): atom cache references"},
      {68, "DIST_HEADER (tag 68): distribution headers"},
      {121, "LOCAL_EXT (tag 121)"},
      {0, "unknown tag 0"},
      {71, "unknown tag 71"},
      {255, "unknown tag 255"},
  };
  for (const auto& s : samples) {
    check_refused({131, s.tag, 0, 0, 0, 0, 0, 0, 0, 0}, 1, s.message_part);
    // Inside a container the offset is that of the tag.
    check_refused({131, 108, 0, 0, 0, 2, 97, 1, s.tag, 0, 0, 0, 0}, 8, s.message_part);
  }
  // Real encodings from erl 25: term_to_binary(self()), make_ref() and fun lists:map/2.
  check_refused({131, 88,  100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104,
                 111, 115, 116, 0, 0,  0,   9,   0,   0,   0,   0,   0,  0,   0,   0},
                1, "pids are not supported");
  check_refused({131, 90,  0, 3, 100, 0, 13, 110, 111, 110, 111, 100, 101, 64, 110, 111, 104, 111,
                 115, 116, 0, 0, 0,   0, 0,  1,   39,  49,  213, 152, 0,   1,  146, 17,  27,  178},
                1, "references are not supported");
  check_refused({131, 113, 100, 0, 5, 108, 105, 115, 116, 115, 100, 0, 3, 109, 97, 112, 97, 2}, 1,
                "funs (fun M:F/A) are not supported");
}

TEST_CASE("non-finite floats are refused, as erl refuses them", "[etf]") {
  check_refused({131, 70, 127, 248, 0, 0, 0, 0, 0, 0}, 1, "float is not finite");  // NaN
  check_refused({131, 70, 127, 240, 0, 0, 0, 0, 0, 0}, 1, "float is not finite");  // +inf
  check_refused({131, 70, 255, 240, 0, 0, 0, 0, 0, 0}, 1, "float is not finite");  // -inf
  check_refused({131, 104, 1, 70, 255, 255, 0, 0, 0, 0, 0, 1}, 3, "float is not finite");

  auto float_ext = [](std::string_view text) {
    bytes b{131, 99};
    b.insert(b.end(), text.begin(), text.end());
    b.resize(33, 0);
    return b;
  };
  check_refused(float_ext("nan"), 1, "float is not finite");
  check_refused(float_ext("inf"), 1, "float is not finite");
  check_refused(float_ext("-infinity"), 1, "float is not finite");
  check_refused(float_ext("1e999"), 1, "FLOAT_EXT float is out of range");
  check_refused(float_ext("1.5xyz"), 1, "FLOAT_EXT text is not a float");  // erl refuses it too
  check_refused(float_ext(" 1.5"), 1, "FLOAT_EXT text is not a float");
  check_refused(float_ext("0x1p3"), 1, "FLOAT_EXT text is not a float");
  check_refused(float_ext(""), 1, "FLOAT_EXT text is not a float");
  check_refused({131, 99, '1', '.', '5', 0}, 2,
                "input ends inside FLOAT_EXT: needs 31 bytes, 4 left");
}

TEST_CASE("duplicate map keys are refused at the repeated key", "[etf]") {
  // #{1 => 1, 1 => 2}, in order: erl 25 refuses it as well.
  check_refused({131, 116, 0, 0, 0, 2, 97, 1, 97, 1, 97, 1, 97, 2}, 10,
                "map has a duplicate key (entry 2)");
  // Out of order: 2 => a, 1 => b, 2 => c; the third entry repeats the first.
  check_refused({131, 116, 0, 0, 0, 3, 97, 2, 119, 1, 97, 97, 1, 119, 1, 98, 97, 2, 119, 1, 99}, 16,
                "map has a duplicate key (entry 3)");
  // Equal terms in different encodings are the same key: "ab" and [97, 98].
  check_refused(
      {131, 116, 0, 0, 0, 2, 107, 0, 2, 97, 98, 97, 1, 108, 0, 0, 0, 2, 97, 97, 97, 98, 106, 97, 2},
      13, "map has a duplicate key (entry 2)");
  // 1 and 1.0 are different keys.
  CHECK(etf::decode(bytes{131, 116, 0, 0, 0, 2, 97, 1, 97, 1, 70, 63, 240, 0, 0, 0, 0, 0, 0, 97, 2})
            .has_value());
}

TEST_CASE("big integers past the size limit are refused", "[etf]") {
  constexpr std::size_t limit = big_integer::max_magnitude_bytes;
  const bytes at_limit = cat({{131, 111, 0, 0, 16, 0, 0}, repeat({0x11}, limit)});
  CHECK(etf::decode(at_limit).has_value());
  check_refused(cat({{131, 111, 0, 0, 16, 1, 0}, repeat({0x11}, limit + 1)}), 2,
                "big integer of 4097 bytes exceeds the limit of 4096 bytes");
  check_refused({131, 111, 255, 255, 255, 255, 0, 1}, 2,
                "big integer of 4294967295 bytes exceeds the limit");
  check_refused({131, 110, 1, 2, 5}, 3, "big integer sign byte is 2, not 0 or 1");
}
