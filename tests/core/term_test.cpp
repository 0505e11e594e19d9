// The term model: construction, normalisation, equality, Erlang's term order,
// map-key order, big integers, hashing and depth (DESIGN.md §2).
#include <catch2/catch.hpp>

#include <limits>
#include <unordered_set>

#include "capchan/core/term.hpp"

using namespace capchan;

namespace {

term big(std::string_view decimal) {
  auto t = make_integer(decimal);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("terms build like Erlang source", "[term]") {
  const term msg = tuple(atom("store"), atom("joe"), charlist("writing a book"));
  REQUIRE(msg.is_tuple());
  REQUIRE(msg.as_tuple()->elements.size() == 3);
  CHECK(msg.element(0)->is_atom("store"));
  CHECK(msg.element(2)->as_charlist() == "writing a book");
  CHECK(msg.element(3) == nullptr);

  const term one = tuple(atom("ok"));
  REQUIRE(one.as_tuple()->elements.size() == 1);

  const term defaulted;
  CHECK(defaulted.is_nil());
  CHECK(term(list{}).is_nil());
  CHECK_FALSE(term(list{1}).is_nil());
  CHECK(term('a') == term(97));
}

TEST_CASE("charlists are lists of code points", "[term]") {
  CHECK(charlist("abc") == term(list{97, 98, 99}));
  CHECK(charlist("дом") == term(list{0x434, 0x43E, 0x43C}));
  CHECK(charlist("дом").as_charlist() == "дом");
  CHECK_THROWS_AS(charlist("\xC3"), std::invalid_argument);
  CHECK_FALSE(term(list{-1}).as_charlist());
  CHECK_FALSE(term(list{0xD800}).as_charlist());
  CHECK_FALSE(term(list{atom("a")}).as_charlist());
}

TEST_CASE("improper lists are normalised", "[term]") {
  const term spliced = list::improper({atom("a")}, list{atom("b")});
  CHECK(spliced == term(list{atom("a"), atom("b")}));
  CHECK(spliced.as_list()->is_proper());

  const term nested = list::improper({1}, list::improper({2}, 3));
  CHECK(nested == term(list::improper({1, 2}, 3)));
  REQUIRE(nested.as_list()->tail());
  CHECK(*nested.as_list()->tail() == term(3));
  CHECK(nested.as_list()->size() == 2);

  CHECK(term(list::improper({1}, list{})) == term(list{1}));
  CHECK_THROWS_AS(list::improper({}, atom("t")), std::invalid_argument);
}

TEST_CASE("integers take one representation", "[term]") {
  CHECK(big("9223372036854775807").as_int64());
  CHECK(big("-9223372036854775808").as_int64());
  CHECK(*big("-9223372036854775808").as_int64() == std::numeric_limits<std::int64_t>::min());
  const term over = big("9223372036854775808");
  REQUIRE(over.as_big_integer());
  CHECK(over.as_big_integer()->magnitude() == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 0x80});
  CHECK(term(std::uint64_t{1} << 63) == over);
  CHECK(term(std::uint64_t{5}) == term(5));
  CHECK(make_integer(false, {1, 0, 0, 0}) == term(1));  // high zero bytes dropped
  CHECK(make_integer(true, {}) == term(0));

  const std::string two_200 = "1606938044258990275541962092341162602522202993782792835301376";
  CHECK(big(two_200).as_big_integer()->to_decimal() == two_200);
  CHECK(big("-" + two_200).as_big_integer()->to_decimal() == "-" + two_200);
  CHECK(big("+12") == term(12));
  CHECK(big("-9223372036854775809").as_big_integer()->to_decimal() == "-9223372036854775809");

  CHECK_FALSE(make_integer(""));
  CHECK_FALSE(make_integer("-"));
  CHECK_FALSE(make_integer("12a"));
  CHECK_FALSE(make_integer(std::string(20000, '9')));  // past max_magnitude_bytes
}

TEST_CASE("equality is exact", "[term]") {
  CHECK(term(1) != term(1.0));
  CHECK(term(0.0) != term(-0.0));
  CHECK(term(atom("a")) != term(binary::from("a")));
  CHECK(term(binary::from("a")) != charlist("a"));
  CHECK(tuple(1, 2) == tuple(1, 2));
  CHECK_THROWS_AS(term(std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  CHECK_THROWS_AS(term(std::numeric_limits<double>::infinity()), std::invalid_argument);
}

TEST_CASE("term order follows Erlang", "[term]") {
  // number < atom < tuple < map < [] < list < binary (erts "Term Comparison").
  const std::vector<term> ascending = {
      big("-18446744073709551616"), -1.0e19, -5, -0.0, 0.0, 1, 1.5, 2,
      big("18446744073709551616"),
      1.8446744073709552e19,  // ties 2^64 by value: the integer comes first
      1.0e20, atom("a"), atom("b"), atom("дом"),
      tuple(atom("z")),  // tuples by size first
      tuple(atom("a"), atom("a")), map{}, map{{1, 1}}, list{},
      list::improper({atom("a")}, atom("b")),  // [a|b] < [a]: the tails, b < []
      list{atom("a")},                          // [a] < [a,c]: the tails, [] < [c]
      list{atom("a"), atom("c")}, binary{}, binary::from("a"), binary::from("ab")};
  for (std::size_t i = 0; i + 1 < ascending.size(); ++i) {
    INFO("index " << i);
    CHECK(ascending[i] < ascending[i + 1]);
    CHECK(ascending[i + 1] > ascending[i]);
    CHECK((ascending[i] <=> ascending[i]) == std::strong_ordering::equal);
  }
  CHECK(term(1) < term(1.0));  // equal value: integer first, so the order is total
  CHECK(big("18446744073709551616") < term(1.8446744073709552e19 * 2));
}

TEST_CASE("map keys: integers before floats, at any depth", "[term]") {
  CHECK(map_key_less(term(2), term(1.0)));
  CHECK_FALSE(map_key_less(term(1.0), term(2)));
  CHECK(term(1.0) < term(2));  // but not in term order
  CHECK(map_key_less(tuple(term(2)), tuple(term(1.0))));
  CHECK(map_key_less(term(1.0), term(atom("a"))));

  const map m{{1.0, atom("x")}, {2, atom("y")}, {atom("a"), 1}};
  REQUIRE(m.size() == 3);
  CHECK(m.entries()[0].first == term(2));
  CHECK(m.entries()[1].first == term(1.0));
  CHECK(m.entries()[2].first == term(atom("a")));
  REQUIRE(m.find(term(1.0)));
  CHECK(*m.find(term(1.0)) == term(atom("x")));
  CHECK(m.find(term(1)) == nullptr);
}

TEST_CASE("maps: later keys win and equal maps compare equal", "[term]") {
  const map m{{atom("a"), 1}, {atom("b"), 2}, {atom("a"), 3}};
  REQUIRE(m.size() == 2);
  CHECK(*m.find(term(atom("a"))) == term(3));
  CHECK(term(map{{atom("b"), 2}, {atom("a"), 3}}) == term(m));
  // Maps order by size, then keys, then values.
  CHECK(term(map{{atom("z"), 1}}) < term(map{{atom("a"), 1}, {atom("b"), 1}}));
  CHECK(term(map{{atom("a"), 2}}) < term(map{{atom("b"), 1}}));
  CHECK(term(map{{atom("a"), 1}}) < term(map{{atom("a"), 2}}));
}

TEST_CASE("hash agrees with equality", "[term]") {
  std::unordered_set<term> set;
  set.insert(tuple(atom("lookup"), atom("joe")));
  set.insert(tuple(atom("lookup"), atom("joe")));
  set.insert(term(1));
  set.insert(term(1.0));
  set.insert(term(0.0));
  set.insert(term(-0.0));
  set.insert(map{{atom("b"), 2}, {atom("a"), 1}});
  set.insert(map{{atom("a"), 1}, {atom("b"), 2}});
  CHECK(set.size() == 6);  // {lookup,joe}, 1, 1.0, 0.0, -0.0, the map
  CHECK(hash_value(list::improper({1}, 2)) != hash_value(list{1, 2}));
}

TEST_CASE("depth counts as DESIGN.md §2 says", "[term]") {
  CHECK(depth(term(1)) == 1);
  CHECK(depth(term(list{})) == 1);
  CHECK(depth(term(tuple())) == 1);
  CHECK(depth(tuple(1, list{2})) == 3);
  CHECK(depth(term(map{{1, tuple(term(1))}})) == 3);
  CHECK(depth(term(list::improper({1}, tuple(term(1))))) == 3);
  term nested = atom("x");
  for (int i = 0; i < 59; ++i) nested = tuple(nested);
  CHECK(depth(nested) == 60);
}

TEST_CASE("a moved-from binary is empty and the moved-to one keeps the bytes", "[term]") {
  binary a = binary::from("some bytes that matter");
  binary b = std::move(a);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): what a move leaves is the point
  CHECK(a.data() == nullptr);
  CHECK(b.view() == "some bytes that matter");
  binary c;
  c = std::move(b);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(c.view() == "some bytes that matter");
}
