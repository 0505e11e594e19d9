// ETF codec: exact bytes against erl, round trips, legacy tags and the
// normalisation the decoder applies (DESIGN.md §2). Expected byte vectors were
// produced by erl 25 (`term_to_binary(T, [{minor_version, 2}])`) and pasted
// here, so these tests run without erl installed.
#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "capchan/core/etf.hpp"
#include "capchan/core/term.hpp"

using namespace capchan;
using bytes = std::vector<std::uint8_t>;

namespace {

term big(std::string_view decimal) {
  return *make_integer(decimal);
}

term decoded(const bytes& b) {
  auto r = etf::decode(b);
  if (!r) FAIL("decode failed: " << r.error().to_string());
  return *r;
}

// Appends the bytes of `s` to `b`.
bytes& operator<<(bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
  return b;
}

term atom_of(std::size_t n, std::string_view character) {
  std::string name;
  for (std::size_t i = 0; i < n; ++i) name += character;
  return atom(name);
}

}  // namespace

TEST_CASE("{lookup, joe} encodes as erl writes it", "[etf]") {
  // From erl 25: term_to_binary({lookup, joe}, [{minor_version, 2}]).
  const bytes expected{131, 104, 2, 119, 6, 108, 111, 111, 107, 117, 112, 119, 3, 106, 111, 101};
  const term t = tuple(atom("lookup"), atom("joe"));
  CHECK(etf::encode(t) == expected);
  CHECK(decoded(expected) == t);
}

TEST_CASE("integers encode as erl writes them, at every size boundary", "[etf]") {
  struct sample {
    term value;
    bytes expected;  // from erl 25's term_to_binary
  };
  const std::vector<sample> samples{
      {0, {131, 97, 0}},
      {255, {131, 97, 255}},
      {256, {131, 98, 0, 0, 1, 0}},
      {-1, {131, 98, 255, 255, 255, 255}},
      {2147483647, {131, 98, 127, 255, 255, 255}},
      {std::int64_t{2147483648}, {131, 110, 4, 0, 0, 0, 0, 128}},
      {-2147483648LL, {131, 98, 128, 0, 0, 0}},
      {-2147483649LL, {131, 110, 4, 1, 1, 0, 0, 128}},
      {std::numeric_limits<std::int64_t>::max(),
       {131, 110, 8, 0, 255, 255, 255, 255, 255, 255, 255, 127}},
      {std::numeric_limits<std::int64_t>::min(), {131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}},
      {big("9223372036854775808"), {131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128}},
      {big("-9223372036854775809"), {131, 110, 8, 1, 1, 0, 0, 0, 0, 0, 0, 128}},
      {big("18446744073709551616"), {131, 110, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      {big("1606938044258990275541962092341162602522202993782792835301376"),  // 2^200
       {131, 110, 26, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,   0,   0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      {big("-1606938044258990275541962092341162602522202993782792835301376"),  // -2^200
       {131, 110, 26, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0,   0,   0,  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
  };
  for (const auto& s : samples) {
    INFO("expected " << s.expected.size() << " bytes");
    CHECK(etf::encode(s.value) == s.expected);
    CHECK(decoded(s.expected) == s.value);
  }
}

TEST_CASE("a big integer of 256 bytes is LARGE_BIG_EXT, of 255 bytes SMALL_BIG_EXT", "[etf]") {
  // erl 25: 1 bsl 2040 is [131, 111, 0,0,1,0, 0, 0 x 255, 1] (magnitude of 256 bytes).
  std::vector<std::uint8_t> magnitude(256, 0);
  magnitude.back() = 1;
  const term two_2040 = make_integer(false, magnitude);
  bytes expected{131, 111, 0, 0, 1, 0, 0};
  expected.insert(expected.end(), magnitude.begin(), magnitude.end());
  CHECK(etf::encode(two_2040) == expected);
  CHECK(decoded(expected) == two_2040);

  magnitude.pop_back();
  magnitude.back() = 1;  // 2^2032: 255 bytes
  const term two_2032 = make_integer(true, magnitude);
  bytes expected_small{131, 110, 255, 1};
  expected_small.insert(expected_small.end(), magnitude.begin(), magnitude.end());
  CHECK(etf::encode(two_2032) == expected_small);
  CHECK(decoded(expected_small) == two_2032);
}

TEST_CASE("floats are NEW_FLOAT_EXT, big-endian IEEE 754", "[etf]") {
  // From erl 25's term_to_binary.
  CHECK(etf::encode(1.5) == bytes{131, 70, 63, 248, 0, 0, 0, 0, 0, 0});
  CHECK(etf::encode(-0.0) == bytes{131, 70, 128, 0, 0, 0, 0, 0, 0, 0});
  CHECK(etf::encode(0.0) == bytes{131, 70, 0, 0, 0, 0, 0, 0, 0, 0});
  CHECK(etf::encode(5e-324) == bytes{131, 70, 0, 0, 0, 0, 0, 0, 0, 1});
  CHECK(etf::encode(-1.0e300) == bytes{131, 70, 254, 55, 228, 60, 136, 0, 117, 156});
  // -0.0 keeps its sign through a round trip.
  CHECK(decoded(etf::encode(-0.0)) == term(-0.0));
  CHECK(decoded(etf::encode(-0.0)) != term(0.0));
}

TEST_CASE("atoms are SMALL_ATOM_UTF8_EXT below 256 bytes, else ATOM_UTF8_EXT", "[etf]") {
  // From erl 25's term_to_binary.
  CHECK(etf::encode(atom("true")) == bytes{131, 119, 4, 116, 114, 117, 101});
  CHECK(etf::encode(atom("")) == bytes{131, 119, 0});
  CHECK(etf::encode(atom("\xC3\xA4")) == bytes{131, 119, 2, 195, 164});  // 'ä'
  CHECK(etf::encode(atom("\xF0\x9F\x98\x80")) ==
        bytes{131, 119, 4, 240, 159, 152, 128});  // U+1F600

  // erl 25: 255 x 'a' is [131,119,255,...]; 127 x 'ä' (254 bytes) is [131,119,254,...];
  // 128 x 'ä' (256 bytes) is [131,118,1,0,...]; 255 x 'ä' is [131,118,1,254,...].
  struct sample {
    term value;
    bytes head;
    std::size_t size;
  };
  const std::vector<sample> samples{
      {atom_of(255, "a"), {131, 119, 255, 97}, 258},
      {atom_of(127, "\xC3\xA4"), {131, 119, 254, 195}, 257},
      {atom_of(128, "\xC3\xA4"), {131, 118, 1, 0, 195}, 260},
      {atom_of(255, "\xC3\xA4"), {131, 118, 1, 254, 195}, 514},
  };
  for (const auto& s : samples) {
    const bytes out = etf::encode(s.value);
    CHECK(out.size() == s.size);
    CHECK(bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(s.head.size())) == s.head);
    CHECK(decoded(out) == s.value);
  }
}

TEST_CASE("encoding refuses an atom that no decoder would accept", "[etf]") {
  CHECK_THROWS_AS(etf::encode(atom_of(256, "a")), std::invalid_argument);
  CHECK_THROWS_AS(etf::encode(atom(std::string(300, '\xFF'))), std::invalid_argument);
  // The output given to encode_to is left as it was.
  bytes out{1, 2, 3};
  CHECK_THROWS(etf::encode_to(out, tuple(1, atom_of(256, "a"))));
  CHECK(out == bytes{1, 2, 3});
}

TEST_CASE("lists: NIL, STRING_EXT for byte lists, LIST_EXT otherwise", "[etf]") {
  // From erl 25's term_to_binary.
  CHECK(etf::encode(term()) == bytes{131, 106});
  CHECK(etf::encode(charlist("abc")) == bytes{131, 107, 0, 3, 97, 98, 99});
  CHECK(etf::encode(list{256}) == bytes{131, 108, 0, 0, 0, 1, 98, 0, 0, 1, 0, 106});
  CHECK(etf::encode(list{-1}) == bytes{131, 108, 0, 0, 0, 1, 98, 255, 255, 255, 255, 106});
  CHECK(etf::encode(list{1.5}) == bytes{131, 108, 0, 0, 0, 1, 70, 63, 248, 0, 0, 0, 0, 0, 0, 106});
  CHECK(etf::encode(list{term()}) == bytes{131, 108, 0, 0, 0, 1, 106, 106});
  // [1, a, "x"]
  CHECK(etf::encode(list{1, atom("a"), charlist("x")}) ==
        bytes{131, 108, 0, 0, 0, 3, 97, 1, 119, 1, 97, 107, 0, 1, 120, 106});
  // Improper lists of small integers are LIST_EXT: [1, 2 | 3] and [1 | a].
  CHECK(etf::encode(list::improper({1, 2}, 3)) == bytes{131, 108, 0, 0, 0, 2, 97, 1, 97, 2, 97, 3});
  CHECK(etf::encode(list::improper({1}, atom("a"))) ==
        bytes{131, 108, 0, 0, 0, 1, 97, 1, 119, 1, 97});
}

TEST_CASE("a charlist of 65535 elements is STRING_EXT, of 65536 LIST_EXT", "[etf]") {
  // erl 25: lists:duplicate(65535, 7) is [131,107,255,255,7,...] (65539 bytes);
  // lists:duplicate(65536, 7) is [131,108,0,1,0,0,97,7,...,106] (131079 bytes).
  const term short_list(list(std::vector<term>(65535, term(7))));
  bytes expected_short{131, 107, 255, 255};
  expected_short.insert(expected_short.end(), 65535, 7);
  CHECK(etf::encode(short_list) == expected_short);
  CHECK(decoded(expected_short) == short_list);

  const term long_list(list(std::vector<term>(65536, term(7))));
  bytes expected_long{131, 108, 0, 1, 0, 0};
  for (int i = 0; i < 65536; ++i) expected_long.insert(expected_long.end(), {97, 7});
  expected_long.push_back(106);
  CHECK(expected_long.size() == 131079);
  CHECK(etf::encode(long_list) == expected_long);
  CHECK(decoded(expected_long) == long_list);
}

TEST_CASE("a byte list that ends in a non-byte is LIST_EXT, however long", "[etf]") {
  // The encoder writes STRING_EXT until it meets the 256 and must then drop
  // what it wrote, also where that went past its 512-byte staging buffer.
  for (const std::uint32_t n : {3U, 600U, 5000U}) {
    std::vector<term> items(n, term(7));
    items.emplace_back(256);
    const std::uint32_t count = n + 1;
    bytes expected{131, 108};
    for (const int shift : {24, 16, 8, 0}) expected.push_back(static_cast<std::uint8_t>(count >> shift));
    for (std::uint32_t i = 0; i < n; ++i) expected.insert(expected.end(), {97, 7});
    expected.insert(expected.end(), {98, 0, 0, 1, 0, 106});
    const term value(list(std::move(items)));
    CHECK(etf::encode(value) == expected);
    bytes out{1, 2, 3};
    etf::encode_to(out, value);
    expected.insert(expected.begin(), {1, 2, 3});
    CHECK(out == expected);
  }
}

TEST_CASE("binaries are BINARY_EXT", "[etf]") {
  // From erl 25's term_to_binary.
  CHECK(etf::encode(binary({1, 2, 3})) == bytes{131, 109, 0, 0, 0, 3, 1, 2, 3});
  CHECK(etf::encode(binary()) == bytes{131, 109, 0, 0, 0, 0});
}

TEST_CASE("tuples are SMALL_TUPLE_EXT up to arity 255, then LARGE_TUPLE_EXT", "[etf]") {
  CHECK(etf::encode(tuple()) == bytes{131, 104, 0});  // from erl 25
  // erl 25: a tuple of 255 zeros is [131,104,255, 97,0 ...] (513 bytes); of 256
  // zeros [131,105,0,0,1,0, 97,0 ...] (518 bytes).
  const term t255(tuple(std::vector<term>(255, term(0))));
  bytes expected255{131, 104, 255};
  for (int i = 0; i < 255; ++i) expected255.insert(expected255.end(), {97, 0});
  CHECK(etf::encode(t255) == expected255);
  CHECK(decoded(expected255) == t255);

  const term t256(tuple(std::vector<term>(256, term(0))));
  bytes expected256{131, 105, 0, 0, 1, 0};
  for (int i = 0; i < 256; ++i) expected256.insert(expected256.end(), {97, 0});
  CHECK(expected256.size() == 518);
  CHECK(etf::encode(t256) == expected256);
  CHECK(decoded(expected256) == t256);
}

TEST_CASE("maps are MAP_EXT with keys in erl's order", "[etf]") {
  // erl 25: #{1 => a, 1.0 => b, 2 => c, 0.5 => d, a => 1, "s" => 2, {} => 3,
  //          #{} => 4, <<>> => 5, [] => 6}: integers before floats.
  const term m(map{{1, atom("a")},
                   {1.0, atom("b")},
                   {2, atom("c")},
                   {0.5, atom("d")},
                   {atom("a"), 1},
                   {charlist("s"), 2},
                   {tuple(), 3},
                   {map(), 4},
                   {binary(), 5},
                   {term(), 6}});
  const bytes expected{131, 116, 0,   0,   0,   10,  97, 1,   119, 1,  97,  97,  2,   119, 1,
                       99,  70,  63,  224, 0,   0,   0,  0,   0,   0,  119, 1,   100, 70,  63,
                       240, 0,   0,   0,   0,   0,   0,  119, 1,   98, 119, 1,   97,  97,  1,
                       104, 0,   97,  3,   116, 0,   0,  0,   0,   97, 4,   106, 97,  6,   107,
                       0,   1,   115, 97,  2,   109, 0,  0,   0,   0,  97,  5};
  CHECK(etf::encode(m) == expected);
  CHECK(decoded(expected) == m);

  // erl 25: #{-1 => a, -1.5 => b, 10^22 => c, -10^22 => d, 3 => e}.
  const term negatives(map{{-1, atom("a")},
                           {-1.5, atom("b")},
                           {big("10000000000000000000000"), atom("c")},
                           {big("-10000000000000000000000"), atom("d")},
                           {3, atom("e")}});
  const bytes expected_negatives{131, 116, 0,   0,   0,   5,   110, 10, 1,   0,   0,   64,  178,
                                 186, 201, 224, 25,  30,  2,   119, 1,  100, 98,  255, 255, 255,
                                 255, 119, 1,   97,  97,  3,   119, 1,  101, 110, 10,  0,   0,
                                 0,   64,  178, 186, 201, 224, 25,  30, 2,   119, 1,   99,  70,
                                 191, 248, 0,   0,   0,   0,   0,   0,  119, 1,   98};
  CHECK(etf::encode(negatives) == expected_negatives);
  CHECK(decoded(expected_negatives) == negatives);

  CHECK(etf::encode(map()) == bytes{131, 116, 0, 0, 0, 0});  // from erl 25
  // erl 25: #{a => #{b => [1,2]}, {x} => <<"v">>}
  const term nested(
      map{{atom("a"), map{{atom("b"), list{1, 2}}}}, {tuple(atom("x")), binary::from("v")}});
  CHECK(etf::encode(nested) == bytes{131, 116, 0,   0,   0,   2,   119, 1, 97, 116, 0,
                                     0,   0,   1,   119, 1,   98,  107, 0, 2,  1,   2,
                                     104, 1,   119, 1,   120, 109, 0,   0, 0,  1,   118});
}

TEST_CASE("a mixed tuple encodes as erl writes it", "[etf]") {
  // erl 25: {ok, 42, -7, 3.25, <<"bytes">>, "str", [a|b], #{k => v}}
  const term t = tuple(atom("ok"), 42, -7, 3.25, binary::from("bytes"), charlist("str"),
                       list::improper({atom("a")}, atom("b")), map{{atom("k"), atom("v")}});
  const bytes expected{131, 104, 8,  119, 2,   111, 107, 97,  42,  98, 255, 255, 255,
                       249, 70,  64, 10,  0,   0,   0,   0,   0,   0,  109, 0,   0,
                       0,   5,   98, 121, 116, 101, 115, 107, 0,   3,  115, 116, 114,
                       108, 0,   0,  0,   1,   119, 1,   97,  119, 1,  98,  116, 0,
                       0,   0,   1,  119, 1,   107, 119, 1,   118};
  CHECK(etf::encode(t) == expected);
  CHECK(decoded(expected) == t);
}

TEST_CASE("round trips keep every kind of term and encode stably", "[etf]") {
  std::vector<std::uint8_t> magnitude(4096, 0xAB);
  const std::vector<term> samples{
      0,
      -1,
      std::numeric_limits<std::int64_t>::min(),
      std::numeric_limits<std::int64_t>::max(),
      big("-123456789012345678901234567890"),
      make_integer(true, magnitude),
      3.141592653589793,
      -2.5e-300,
      atom("hello"),
      atom("\xE6\x97\xA5\xE6\x9C\xAC"),
      binary::from(std::string(70000, 'x')),
      charlist("writing a book"),
      charlist("\xE6\x97\xA5"),  // a code point above 255: LIST_EXT of INTEGER_EXT
      list{1, 2.0, atom("three"), charlist("four")},
      list::improper({1, 2}, binary::from("tail")),
      tuple(atom("store"), atom("joe"), charlist("writing a book")),
      tuple(tuple(std::vector<term>{term(tuple())}), list{list{term()}}, map{{map(), map()}}),
      map{{atom("k"), 1}, {1, atom("k")}, {1.0, atom("f")}, {charlist("s"), tuple()}},
  };
  for (const term& t : samples) {
    const bytes once = etf::encode(t);
    const term back = decoded(once);
    CHECK(back == t);
    CHECK(etf::encode(back) == once);
  }
}

TEST_CASE("encode_to appends after what the buffer holds", "[etf]") {
  bytes out{9, 9};
  etf::encode_to(out, tuple(atom("lookup"), atom("joe")));
  etf::encode_to(out, 1);
  CHECK(out == bytes{9,   9,   131, 104, 2,   119, 6,   108, 111, 111, 107,
                     117, 112, 119, 3,   106, 111, 101, 131, 97,  1});
}

TEST_CASE("decode_next reads encodings back to back and advances the offset", "[etf]") {
  bytes stream{7};
  etf::encode_to(stream, atom("a"));
  etf::encode_to(stream, list{1, 2});
  stream.push_back(131);  // a third encoding, cut short
  std::size_t offset = 1;
  auto first = etf::decode_next(stream, offset);
  REQUIRE(first.has_value());
  CHECK(*first == term(atom("a")));
  CHECK(offset == 5);
  auto second = etf::decode_next(stream, offset);
  REQUIRE(second.has_value());
  CHECK(*second == term(list{1, 2}));
  CHECK(offset == 11);
  auto third = etf::decode_next(stream, offset);
  REQUIRE_FALSE(third.has_value());
  CHECK(offset == 11);  // unchanged on error
  CHECK(third.error().offset == 12);
  std::size_t past = stream.size() + 1;
  CHECK_FALSE(etf::decode_next(stream, past).has_value());
}

TEST_CASE("decode_shared points large binaries into the input and keeps it alive", "[etf]") {
  // About 76 KiB in all. Shared: binaries of at least share_min_bytes that
  // are at least a quarter of the input (share_max_amplification is 4).
  const term small = binary(bytes(etf::share_min_bytes - 1, 's'));  // too short: copied
  const term mid = binary(bytes(4 * 1024, 'M'));                    // 1/19 of the input: copied
  const term large = binary(bytes(24 * 1024, 'L'));                 // about 1/3: shared
  const term huge = binary(bytes(48 * 1024, 'H'));                  // shared
  const term message = tuple(atom("put"), small, list{mid, large, huge});
  auto input = std::make_shared<bytes>(etf::encode(message));
  REQUIRE(etf::share_max_amplification == 4);
  REQUIRE(input->size() / 4 > mid.as_binary()->size());
  REQUIRE(input->size() / 4 < large.as_binary()->size());
  const std::uint8_t* const first = input->data();
  const std::uint8_t* const last = first + input->size();
  const auto inside = [&](const term& t) {
    const std::uint8_t* p = t.as_binary()->data();
    return p >= first && p < last;
  };

  auto decoded_shared = etf::decode_shared(*input, input);
  REQUIRE(decoded_shared.has_value());
  CHECK(*decoded_shared == message);
  CHECK(*decoded_shared == decoded(*input));  // the same value as a copying decode
  const auto& parts = decoded_shared->as_tuple()->elements;
  const auto& listed = parts[2].as_list()->elements();
  CHECK_FALSE(inside(parts[1]));
  CHECK_FALSE(inside(listed[0]));
  CHECK(inside(listed[1]));
  CHECK(inside(listed[2]));
  CHECK(input.use_count() == 3);  // this test's, and one per shared binary

  // Dropping every other owner leaves the bytes with the term: under
  // AddressSanitizer, a binary that did not keep them would fail here.
  input.reset();
  const term kept = listed[2];
  decoded_shared = etf::decode_shared({}, nullptr);  // replaces the result: an error
  CHECK(kept == huge);
  CHECK(etf::encode(kept) == etf::encode(huge));

  // decode_next_shared shares by the same rules, per encoding.
  auto stream = std::make_shared<bytes>(etf::encode(huge));
  etf::encode_to(*stream, small);
  std::size_t offset = 0;
  const auto one = etf::decode_next_shared(*stream, offset, stream);
  REQUIRE(one.has_value());
  CHECK(one->as_binary()->data() == stream->data() + 6);
  const auto two = etf::decode_next_shared(*stream, offset, stream);
  REQUIRE(two.has_value());
  CHECK(*two == small);
  CHECK(offset == stream->size());

  // A copying decode shares nothing with its input.
  const auto plain_input = etf::encode(huge);
  const term plain = decoded(plain_input);
  CHECK(plain.as_binary()->data() != plain_input.data() + 6);
}

TEST_CASE("result.value() throws the decode error as invalid_argument", "[etf]") {
  const bytes bad{131, 88};
  CHECK_THROWS_AS(etf::decode(bad).value(), std::invalid_argument);
  CHECK_THROWS_WITH(etf::decode(bad).value(),
                    Catch::Contains("byte 1: ") && Catch::Contains("pids"));
}

TEST_CASE("legacy tags decode: FLOAT_EXT, ATOM_EXT, SMALL_ATOM_EXT", "[etf]") {
  // erl 25: term_to_binary(1.5, [{minor_version, 0}]).
  bytes float_ext{131, 99};
  float_ext << "1.50000000000000000000e+00";
  float_ext.insert(float_ext.end(), 5, 0);
  REQUIRE(float_ext.size() == 33);
  CHECK(decoded(float_ext) == term(1.5));

  // No NUL at all (31 digits) and bytes after the NUL are both accepted by erl.
  bytes unpadded{131, 99};
  unpadded << "1.5000000000000000000000000e+00";
  CHECK(decoded(unpadded) == term(1.5));
  bytes after_nul{131, 99};
  after_nul << "-2.5e-3";
  after_nul.push_back(0);
  after_nul << "junk";
  after_nul.insert(after_nul.end(), 33 - after_nul.size(), 0);
  CHECK(decoded(after_nul) == term(-2.5e-3));

  // Latin-1 'ä' (228) becomes UTF-8 C3 A4.
  CHECK(decoded({131, 100, 0, 2, 228, 97}) == term(atom("\xC3\xA4"
                                                        "a")));
  CHECK(decoded({131, 115, 2, 228, 97}) == term(atom("\xC3\xA4"
                                                     "a")));
  CHECK(decoded({131, 115, 0}) == term(atom("")));
  // 255 Latin-1 characters is the most an atom holds.
  bytes latin1_255{131, 100, 0, 255};
  latin1_255.insert(latin1_255.end(), 255, 0xE9);
  CHECK(decoded(latin1_255) == atom_of(255, "\xC3\xA9"));
  // A short atom in the long form is the same atom.
  CHECK(decoded({131, 118, 0, 2, 111, 107}) == term(atom("ok")));
}

TEST_CASE("decoding normalises integers to their canonical form", "[etf]") {
  CHECK(decoded({131, 98, 0, 0, 0, 5}) == term(5));  // INTEGER_EXT of a byte
  CHECK(decoded({131, 110, 1, 0, 5}) == term(5));    // SMALL_BIG_EXT that fits
  CHECK(decoded({131, 110, 1, 1, 5}) == term(-5));
  CHECK(decoded({131, 110, 0, 0}) == term(0));                   // no magnitude bytes
  CHECK(decoded({131, 110, 1, 1, 0}) == term(0));                // -0
  CHECK(decoded({131, 111, 0, 0, 0, 2, 0, 1, 1}) == term(257));  // LARGE_BIG_EXT that fits
  // High zero bytes are dropped: 2^64 with three zero bytes on top.
  CHECK(decoded({131, 110, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}) ==
        big("18446744073709551616"));
  CHECK(decoded({131, 110, 8, 1, 0, 0, 0, 0, 0, 0, 0, 128}) ==
        term(std::numeric_limits<std::int64_t>::min()));
  const term two_63 = decoded({131, 110, 8, 0, 0, 0, 0, 0, 0, 0, 0, 128});
  CHECK(two_63.as_big_integer() != nullptr);
  CHECK(etf::encode(decoded({131, 110, 1, 0, 5})) == bytes{131, 97, 5});
}

TEST_CASE("decoding splices list tails and sorts maps", "[etf]") {
  // [1 | [2 | a]] as two LIST_EXTs is [1, 2 | a] (erl 25 decodes it so).
  CHECK(decoded({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 119, 1, 97}) ==
        term(list::improper({1, 2}, atom("a"))));
  // A STRING_EXT tail: [1 | [1, 2]] is [1, 1, 2].
  CHECK(decoded({131, 108, 0, 0, 0, 1, 97, 1, 107, 0, 2, 1, 2}) == term(list{1, 1, 2}));
  // A NIL tail after a LIST_EXT tail: [1 | [2]].
  CHECK(decoded({131, 108, 0, 0, 0, 1, 97, 1, 108, 0, 0, 0, 1, 97, 2, 106}) == term(list{1, 2}));
  // LIST_EXT with no elements is its tail, as in erl.
  CHECK(decoded({131, 108, 0, 0, 0, 0, 119, 1, 97}) == term(atom("a")));
  CHECK(decoded({131, 108, 0, 0, 0, 0, 106}) == term());
  // An empty STRING_EXT is [].
  CHECK(decoded({131, 107, 0, 0}) == term());
  // Map entries out of order are put in map-key order (erl accepts them too).
  const term m = decoded({131, 116, 0, 0, 0, 3, 119, 1,  98, 97, 2, 70, 63,
                          240, 0,   0, 0, 0, 0, 0,   97, 3,  97, 1, 97, 1});
  CHECK(m == term(map{{1, 1}, {1.0, 3}, {atom("b"), 2}}));
  CHECK(etf::encode(m) == bytes{131, 116, 0, 0, 0, 3, 97, 1, 97,  1, 70, 63, 240,
                                0,   0,   0, 0, 0, 0, 97, 3, 119, 1, 98, 97, 2});
}
