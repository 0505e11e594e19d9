// The term model: construction with normalisation, exact equality, Erlang's
// term order, map-key order, hashing and depth (DESIGN.md §2).
#include "capchan/core/term.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>

#include "capchan/core/utf8.hpp"

namespace capchan {
namespace {

// How numbers of different types compare. Term order compares by value (1 and
// 1.0 tie, then integer first); map-key order puts every integer before every
// float, as erts orders map keys.
enum class number_order { by_value, integers_first };

using ordering = std::strong_ordering;

ordering compare(const term& a, const term& b, number_order mode);

// Rank of each kind in Erlang's term order (erts/doc "Term Comparison"):
// number < atom < reference < fun < port < pid < tuple < map < nil < list < bitstring.
int type_rank(const term& t) {
  switch (t.kind()) {
    case term_kind::integer:
    case term_kind::floating: return 0;
    case term_kind::atom: return 1;
    case term_kind::tuple: return 2;
    case term_kind::map: return 3;
    case term_kind::list: return t.is_nil() ? 4 : 5;
    case term_kind::binary: return 6;
  }
  return 7;
}

ordering compare_magnitudes(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  for (std::size_t i = a.size(); i-- > 0;) {
    if (a[i] != b[i]) return a[i] <=> b[i];
  }
  return ordering::equal;
}

ordering compare_big(const big_integer& a, const big_integer& b) {
  if (a.negative() != b.negative()) return a.negative() ? ordering::less : ordering::greater;
  const ordering m = compare_magnitudes(a.magnitude(), b.magnitude());
  return a.negative() ? 0 <=> m : m;
}

// Any big_integer lies outside int64, so its sign alone places it.
ordering compare_big_int(const big_integer& a, std::int64_t) {
  return a.negative() ? ordering::less : ordering::greater;
}

ordering compare_doubles(double a, double b) {
  if (a < b) return ordering::less;
  if (a > b) return ordering::greater;
  // Equal values: only 0.0 and -0.0 differ; -0.0 first keeps the order total.
  return std::signbit(b) <=> std::signbit(a);
}

constexpr double two_pow_63 = 9223372036854775808.0;

// Orders integer i against float d by value; a tie counts as less (integer first).
ordering compare_int_double(std::int64_t i, double d) {
  if (d >= two_pow_63) return ordering::less;
  if (d < -two_pow_63) return ordering::greater;
  const double whole = std::trunc(d);
  const auto whole_int = static_cast<std::int64_t>(whole);
  if (i != whole_int) return i <=> whole_int;
  const double fraction = d - whole;  // exact for doubles
  return fraction < 0 ? ordering::greater : ordering::less;
}

// The magnitude of an integral double with |d| >= 2^63, in little-endian bytes.
std::vector<std::uint8_t> integral_double_magnitude(double d) {
  int exponent = 0;
  const double fraction = std::frexp(std::fabs(d), &exponent);  // |d| = f * 2^e, f in [0.5, 1)
  auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  const int shift = exponent - 53;  // |d| = mantissa * 2^shift, shift >= 11 here
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(shift / 8) + 9, 0);
  mantissa <<= (shift % 8);  // < 2^60: no overflow
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[static_cast<std::size_t>(shift / 8) + i] = static_cast<std::uint8_t>(mantissa >> (8 * i));
  }
  while (!bytes.empty() && bytes.back() == 0) bytes.pop_back();
  return bytes;
}

ordering compare_big_double(const big_integer& a, double d) {
  if (std::fabs(d) < two_pow_63 || a.negative() != std::signbit(d)) {
    return a.negative() ? ordering::less : ordering::greater;
  }
  const ordering m = compare_magnitudes(a.magnitude(), integral_double_magnitude(d));
  if (m == ordering::equal) return ordering::less;  // integer first
  return a.negative() ? 0 <=> m : m;
}

ordering compare_integer_float(const term& integer, double d, number_order mode) {
  if (mode == number_order::integers_first) return ordering::less;
  if (const auto* i = integer.as_int64()) return compare_int_double(*i, d);
  return compare_big_double(*integer.as_big_integer(), d);
}

ordering compare_numbers(const term& a, const term& b, number_order mode) {
  const double* da = a.as_double();
  const double* db = b.as_double();
  if (da && db) return compare_doubles(*da, *db);
  if (db) return compare_integer_float(a, *db, mode);
  if (da) return 0 <=> compare_integer_float(b, *da, mode);
  const auto* ia = a.as_int64();
  const auto* ib = b.as_int64();
  if (ia && ib) return *ia <=> *ib;
  if (ia) return 0 <=> compare_big_int(*b.as_big_integer(), *ia);
  if (ib) return compare_big_int(*a.as_big_integer(), *ib);
  return compare_big(*a.as_big_integer(), *b.as_big_integer());
}

ordering compare_sequences(std::span<const term> a, std::span<const term> b, number_order mode) {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (const ordering c = compare(a[i], b[i], mode); c != 0) return c;
  }
  return a.size() <=> b.size();
}

// Lists compare element by element; where one runs out, what is left of each
// (more elements, [] or an improper tail) is compared as a term would be.
ordering compare_lists(const list& a, const list& b, number_order mode) {
  const auto ea = a.elements();
  const auto eb = b.elements();
  const std::size_t n = std::min(ea.size(), eb.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (const ordering c = compare(ea[i], eb[i], mode); c != 0) return c;
  }
  auto rest_rank = [&](const list& l, std::size_t count) {
    if (l.elements().size() > count) return 5;  // a non-empty list
    return l.tail() ? type_rank(*l.tail()) : 4;
  };
  const int ra = rest_rank(a, n);
  const int rb = rest_rank(b, n);
  if (ra != rb) return ra <=> rb;
  if (ra == 4 || ra == 5) return ordering::equal;  // both [] (5 cannot tie here)
  return compare(*a.tail(), *b.tail(), mode);
}

ordering compare_maps(const map& a, const map& b, number_order mode) {
  if (a.size() != b.size()) return a.size() <=> b.size();
  const auto& ea = a.entries();
  const auto& eb = b.entries();
  for (std::size_t i = 0; i < ea.size(); ++i) {
    if (const ordering c = compare(ea[i].first, eb[i].first, number_order::integers_first); c != 0) {
      return c;
    }
  }
  for (std::size_t i = 0; i < ea.size(); ++i) {
    if (const ordering c = compare(ea[i].second, eb[i].second, mode); c != 0) return c;
  }
  return ordering::equal;
}

ordering compare_binaries(const binary& a, const binary& b) {
  const std::size_t n = std::min(a.size(), b.size());
  if (n != 0) {
    if (const int c = std::memcmp(a.data(), b.data(), n); c != 0) return c <=> 0;
  }
  return a.size() <=> b.size();
}

ordering compare(const term& a, const term& b, number_order mode) {
  const int ra = type_rank(a);
  const int rb = type_rank(b);
  if (ra != rb) return ra <=> rb;
  switch (a.kind()) {
    case term_kind::integer:
    case term_kind::floating: return compare_numbers(a, b, mode);
    case term_kind::atom: return a.as_atom()->name.compare(b.as_atom()->name) <=> 0;
    case term_kind::tuple: {
      const auto& ta = a.as_tuple()->elements;
      const auto& tb = b.as_tuple()->elements;
      if (ta.size() != tb.size()) return ta.size() <=> tb.size();
      return compare_sequences(ta, tb, mode);
    }
    case term_kind::map: return compare_maps(*a.as_map(), *b.as_map(), mode);
    case term_kind::list: return compare_lists(*a.as_list(), *b.as_list(), mode);
    case term_kind::binary: return compare_binaries(*a.as_binary(), *b.as_binary());
  }
  return ordering::equal;
}

void hash_combine(std::size_t& seed, std::size_t v) {
  seed ^= v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

}  // namespace

// --- binary ---------------------------------------------------------------

binary::binary(std::vector<std::uint8_t> bytes) {
  if (bytes.empty()) return;
  auto owner = std::make_shared<const std::vector<std::uint8_t>>(std::move(bytes));
  data_ = owner->data();
  size_ = owner->size();
  owner_ = std::move(owner);
}

binary::binary(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return;
  // One allocation holds the count and the bytes.
  auto owner = std::make_shared_for_overwrite<std::uint8_t[]>(bytes.size());
  std::memcpy(owner.get(), bytes.data(), bytes.size());
  data_ = owner.get();
  size_ = bytes.size();
  owner_ = std::move(owner);
}

binary binary::from(std::string_view text) {
  return binary(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

binary binary::shared(std::shared_ptr<const void> owner, std::span<const std::uint8_t> bytes) {
  binary b;
  if (bytes.empty()) return b;
  b.owner_ = std::move(owner);
  b.data_ = bytes.data();
  b.size_ = bytes.size();
  return b;
}

// --- list -----------------------------------------------------------------

list::list(std::initializer_list<term> items) : items_(items) {}

list::list(std::vector<term> items) : items_(std::move(items)) {}

list list::improper(std::vector<term> items, term tail) {
  if (const list* rest = tail.as_list()) {
    list out(std::move(items));
    out.items_.insert(out.items_.end(), rest->items_.begin(), rest->items_.end());
    out.improper_ = rest->improper_;
    return out;
  }
  if (items.empty()) {
    throw std::invalid_argument("an improper list needs at least one element before its tail");
  }
  list out(std::move(items));
  out.items_.push_back(std::move(tail));
  out.improper_ = true;
  return out;
}

std::span<const term> list::elements() const {
  return std::span<const term>(items_).first(size());
}

const term* list::tail() const { return improper_ ? &items_.back() : nullptr; }

bool operator==(const list& a, const list& b) {
  return a.improper_ == b.improper_ && a.items_ == b.items_;
}

tuple::tuple(term only) { elements.push_back(std::move(only)); }

bool operator==(const tuple& a, const tuple& b) { return a.elements == b.elements; }

// --- map ------------------------------------------------------------------

map::map(std::initializer_list<entry> entries) : map(std::vector<entry>(entries)) {}

map::map(std::vector<entry> entries) : entries_(std::move(entries)) {
  const auto key_less = [](const entry& a, const entry& b) { return map_key_less(a.first, b.first); };
  if (std::is_sorted(entries_.begin(), entries_.end(), key_less) &&
      std::adjacent_find(entries_.begin(), entries_.end(), [](const entry& a, const entry& b) {
        return a.first == b.first;
      }) == entries_.end()) {
    return;
  }
  std::stable_sort(entries_.begin(), entries_.end(), key_less);
  // Keep the last entry of each run of equal keys: later entries win.
  std::vector<entry> unique;
  unique.reserve(entries_.size());
  for (auto& e : entries_) {
    if (!unique.empty() && unique.back().first == e.first) {
      unique.back() = std::move(e);
    } else {
      unique.push_back(std::move(e));
    }
  }
  entries_ = std::move(unique);
}

const term* map::find(const term& key) const {
  const auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                                   [](const entry& e, const term& k) { return map_key_less(e.first, k); });
  if (it != entries_.end() && it->first == key) return &it->second;
  return nullptr;
}

bool operator==(const map& a, const map& b) { return a.entries_ == b.entries_; }

// --- term -----------------------------------------------------------------

term::term() : v_(list{}) {}

term term::from_unsigned(std::uint64_t value) {
  std::vector<std::uint8_t> magnitude(8);
  for (std::size_t i = 0; i < 8; ++i) magnitude[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return make_integer(false, std::move(magnitude));
}

term::term(big_integer value) : v_(std::move(value)) {}

term::term(double value) : v_(value) {
  if (!std::isfinite(value)) throw std::invalid_argument("Erlang floats are finite: no NaN or infinity");
}

term::term(atom value) : v_(std::move(value)) {}
term::term(binary value) : v_(std::move(value)) {}
term::term(list value) : v_(std::move(value)) {}
term::term(tuple value) : v_(std::move(value)) {}
term::term(map value) : v_(std::move(value)) {}

term_kind term::kind() const {
  switch (v_.index()) {
    case 0:
    case 1: return term_kind::integer;
    case 2: return term_kind::floating;
    case 3: return term_kind::atom;
    case 4: return term_kind::binary;
    case 5: return term_kind::list;
    case 6: return term_kind::tuple;
    default: return term_kind::map;
  }
}

bool term::is_atom(std::string_view name) const {
  const atom* a = as_atom();
  return a && a->name == name;
}

bool term::is_nil() const {
  const list* l = as_list();
  return l && l->empty();
}

std::optional<std::string> term::as_charlist() const {
  const list* l = as_list();
  if (!l || !l->is_proper()) return std::nullopt;
  std::string out;
  out.reserve(l->size());
  for (const term& e : l->elements()) {
    const std::int64_t* c = e.as_int64();
    if (!c || !utf8::is_scalar(*c)) return std::nullopt;
    utf8::append(out, static_cast<char32_t>(*c));
  }
  return out;
}

const term* term::element(std::size_t index) const {
  const tuple* t = as_tuple();
  if (!t || index >= t->elements.size()) return nullptr;
  return &t->elements[index];
}

bool operator==(const term& a, const term& b) {
  if (a.v_.index() != b.v_.index()) return false;
  if (const double* da = a.as_double()) {
    // Bitwise, so that 0.0 and -0.0 (which encode differently) differ.
    return std::bit_cast<std::uint64_t>(*da) == std::bit_cast<std::uint64_t>(*b.as_double());
  }
  return a.v_ == b.v_;
}

std::strong_ordering operator<=>(const term& a, const term& b) {
  return compare(a, b, number_order::by_value);
}

bool map_key_less(const term& a, const term& b) {
  return compare(a, b, number_order::integers_first) < 0;
}

term charlist(std::string_view text) {
  std::vector<term> chars;
  chars.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto c = utf8::next(text, pos);
    if (!c) throw std::invalid_argument("charlist: text is not valid UTF-8");
    chars.emplace_back(static_cast<std::int64_t>(*c));
  }
  return term(list(std::move(chars)));
}

std::size_t hash_value(const term& t) {
  std::size_t seed = static_cast<std::size_t>(t.value().index());
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::int64_t>) {
          hash_combine(seed, std::hash<std::int64_t>{}(v));
        } else if constexpr (std::is_same_v<T, double>) {
          hash_combine(seed, std::hash<std::uint64_t>{}(std::bit_cast<std::uint64_t>(v)));
        } else if constexpr (std::is_same_v<T, big_integer>) {
          hash_combine(seed, v.negative());
          for (auto b : v.magnitude()) hash_combine(seed, b);
        } else if constexpr (std::is_same_v<T, atom>) {
          hash_combine(seed, std::hash<std::string>{}(v.name));
        } else if constexpr (std::is_same_v<T, binary>) {
          hash_combine(seed, std::hash<std::string_view>{}(v.view()));
        } else if constexpr (std::is_same_v<T, list>) {
          for (const term& e : v.elements()) hash_combine(seed, hash_value(e));
          if (v.tail()) hash_combine(seed, hash_value(*v.tail()) ^ 0x5bd1e995);
        } else if constexpr (std::is_same_v<T, tuple>) {
          for (const term& e : v.elements) hash_combine(seed, hash_value(e));
        } else {
          for (const auto& [k, val] : v.entries()) {
            hash_combine(seed, hash_value(k));
            hash_combine(seed, hash_value(val));
          }
        }
      },
      t.value());
  return seed;
}

std::size_t depth(const term& t) {
  std::size_t deepest = 0;
  if (const list* l = t.as_list()) {
    for (const term& e : l->elements()) deepest = std::max(deepest, depth(e));
    if (l->tail()) deepest = std::max(deepest, depth(*l->tail()));
  } else if (const tuple* tu = t.as_tuple()) {
    for (const term& e : tu->elements) deepest = std::max(deepest, depth(e));
  } else if (const map* m = t.as_map()) {
    for (const auto& [k, v] : m->entries()) deepest = std::max({deepest, depth(k), depth(v)});
  } else {
    return 1;
  }
  return 1 + deepest;
}

}  // namespace capchan
