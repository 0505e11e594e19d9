// capchan's message model: Erlang terms as C++ values (DESIGN.md §2).
//
// A `term` is an atom, an integer (int64, or a big integer kept exactly), a
// float, a binary, a list (proper or improper; charlist strings are lists of
// integers, as in Erlang), a tuple or a map. Terms are plain values: copying
// copies, equality is Erlang's exact equality (=:=), and `<` is Erlang's term
// order. pids, ports, refs and funs have no representation here: capchan
// messages never carry them.
//
//   using namespace capchan;
//   term msg = tuple(atom("store"), atom("joe"), charlist("writing a book"));
//   term reply = tuple(atom("ok"), 42, binary::from("bytes"), list{1, 2.5});
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace capchan {

class term;

// An atom: a name of at most 255 characters (Erlang's limit), held as UTF-8.
// Atoms are never interned: a hostile peer cannot exhaust an atom table.
struct atom {
  static constexpr std::size_t max_characters = 255;
  std::string name;

  atom() = default;
  explicit atom(std::string n) : name(std::move(n)) {}
  explicit atom(const char* n) : name(n) {}
  friend bool operator==(const atom&, const atom&) = default;
};

// An integer outside int64: sign and magnitude, the magnitude in little-endian
// bytes without high zero bytes (as ETF's SMALL_BIG/LARGE_BIG carry it).
// Invariant: the value never fits in int64 (such values are plain integers),
// so equal numbers have one representation.
class big_integer {
 public:
  // Caps the magnitude (32,768 bits) so that printing and parsing, which are
  // quadratic in the digit count, stay cheap on hostile input.
  static constexpr std::size_t max_magnitude_bytes = 4096;

  // The caller guarantees the invariant; use `make_integer` to normalise.
  big_integer(bool negative, std::vector<std::uint8_t> magnitude)
      : negative_(negative), magnitude_(std::move(magnitude)) {}

  bool negative() const { return negative_; }
  const std::vector<std::uint8_t>& magnitude() const { return magnitude_; }
  std::string to_decimal() const;

  friend bool operator==(const big_integer&, const big_integer&) = default;

 private:
  bool negative_;
  std::vector<std::uint8_t> magnitude_;
};

// A binary: a sequence of bytes (Erlang bitstrings that are not whole bytes
// are not supported). Binaries are immutable values whose bytes are shared by
// reference counting, as Erlang shares its large binaries: copying a binary,
// or a term holding one, never copies the bytes, and a decoder reading from a
// buffer it shares (etf::decode_shared) points large binaries into that
// buffer instead of copying them. A moved-from binary is <<>>.
class binary {
 public:
  binary() = default;  // <<>>
  explicit binary(std::vector<std::uint8_t> bytes);
  // Copies `bytes`.
  explicit binary(std::span<const std::uint8_t> bytes);
  static binary from(std::string_view text);
  // `bytes` inside memory that `owner` keeps alive (the result shares it).
  static binary shared(std::shared_ptr<const void> owner, std::span<const std::uint8_t> bytes);

  binary(const binary&) = default;
  binary& operator=(const binary&) = default;
  // The source is left empty, never pointing at bytes it no longer owns.
  binary(binary&& other) noexcept
      : owner_(std::move(other.owner_)),
        data_(std::exchange(other.data_, nullptr)),
        size_(std::exchange(other.size_, 0)) {}
  binary& operator=(binary&& other) noexcept {
    owner_ = std::move(other.owner_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {reinterpret_cast<const char*>(data_), size_}; }

  friend bool operator==(const binary& a, const binary& b) { return a.view() == b.view(); }

 private:
  std::shared_ptr<const void> owner_;  // null for <<>>
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

// A list. Proper lists hold their elements; an improper list `[a, b | t]`
// keeps its tail as the last item and sets `improper`. Invariant (kept by
// every constructor): an improper list has at least two items and its tail is
// not a list, so `[a | [b]]` and `[a, b]` are the same value.
class list {
 public:
  list() = default;
  list(std::initializer_list<term> items);
  explicit list(std::vector<term> items);
  // `[items... | tail]`, normalised: a list tail is spliced in.
  static list improper(std::vector<term> items, term tail);

  // The elements before the tail (all of them for a proper list).
  std::span<const term> elements() const;
  bool is_proper() const { return !improper_; }
  // The tail of an improper list; null for a proper one.
  const term* tail() const;
  bool empty() const;
  // Number of elements, the tail excluded.
  std::size_t size() const;

  friend bool operator==(const list&, const list&);

 private:
  std::vector<term> items_;
  bool improper_ = false;
};

// A tuple. `tuple(atom("lookup"), atom("joe"))` builds `{lookup, joe}`.
struct tuple {
  std::vector<term> elements;

  tuple() = default;
  explicit tuple(std::vector<term> e);
  // `{x}`. Explicit, so that a value never turns into a 1-tuple by accident.
  explicit tuple(term only);
  // `{a, b, ...}`.
  template <class... T>
    requires(sizeof...(T) >= 2)
  tuple(T&&... e) : elements{term(std::forward<T>(e))...} {}
  friend bool operator==(const tuple&, const tuple&);
};

// A map, its entries kept sorted in map-key order (see `map_key_less`) with
// unique keys, so that equal maps have equal entries and encode identically.
class map {
 public:
  using entry = std::pair<term, term>;
  map() = default;
  // Later entries win over earlier ones with the same key, as in `#{a => 1, a => 2}`.
  map(std::initializer_list<entry> entries);
  explicit map(std::vector<entry> entries);

  const std::vector<entry>& entries() const { return entries_; }
  std::size_t size() const;
  bool empty() const;
  const term* find(const term& key) const;

  friend bool operator==(const map&, const map&);

 private:
  std::vector<entry> entries_;
};

enum class term_kind { integer, floating, atom, binary, list, tuple, map };

class term {
 public:
  using storage =
      std::variant<std::int64_t, big_integer, double, atom, binary, list, tuple, map>;

  // The empty list, `[]`.
  term();
  template <class I>
    requires std::is_integral_v<I> && (!std::is_same_v<I, bool>)
  term(I value) {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= 8) {
      *this = from_unsigned(value);
    } else {
      v_ = static_cast<std::int64_t>(value);
    }
  }
  term(big_integer value);
  // Erlang floats are finite; constructing from NaN or an infinity throws.
  term(double value);
  term(atom value);
  term(binary value);
  term(list value);
  term(tuple value);
  term(map value);
  // `term("x")` would be ambiguous between atom, charlist and binary: say which.
  term(const char*) = delete;
  term(bool) = delete;

  term_kind kind() const;
  bool is_integer() const { return kind() == term_kind::integer; }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_atom() const { return std::holds_alternative<atom>(v_); }
  bool is_atom(std::string_view name) const;
  bool is_binary() const { return std::holds_alternative<binary>(v_); }
  bool is_list() const { return std::holds_alternative<list>(v_); }
  bool is_nil() const;
  bool is_tuple() const { return std::holds_alternative<tuple>(v_); }
  bool is_map() const { return std::holds_alternative<map>(v_); }

  // Accessors return null when the term is of another kind.
  const std::int64_t* as_int64() const { return std::get_if<std::int64_t>(&v_); }
  const big_integer* as_big_integer() const { return std::get_if<big_integer>(&v_); }
  const double* as_double() const { return std::get_if<double>(&v_); }
  const atom* as_atom() const { return std::get_if<atom>(&v_); }
  const binary* as_binary() const { return std::get_if<binary>(&v_); }
  const list* as_list() const { return std::get_if<list>(&v_); }
  const tuple* as_tuple() const { return std::get_if<tuple>(&v_); }
  // Tuples have no invariant to guard, so their elements may be moved out.
  tuple* as_tuple() { return std::get_if<tuple>(&v_); }
  const map* as_map() const { return std::get_if<map>(&v_); }

  // The text of a charlist (a proper list of code points) as UTF-8, if it is one.
  std::optional<std::string> as_charlist() const;

  // The element at `index` of a tuple of at least index+1 elements, else null.
  const term* element(std::size_t index) const;

  const storage& value() const { return v_; }

  // Exact equality (=:=): 1 and 1.0 differ, and so do 0.0 and -0.0.
  friend bool operator==(const term& a, const term& b);
  // Erlang's term order: number < atom < tuple < map < [] < list < binary,
  // numbers by value. Integers and floats of equal value (1 and 1.0), which
  // Erlang's order ties, are ordered integer first so that the order is total
  // and agrees with ==; likewise -0.0 < 0.0.
  friend std::strong_ordering operator<=>(const term& a, const term& b);

 private:
  static term from_unsigned(std::uint64_t value);
  storage v_;
};

// Defined where term is complete: clang instantiates std::vector<term>'s
// constexpr members eagerly and refuses them while term is incomplete.
inline bool list::empty() const { return items_.empty(); }
inline std::size_t list::size() const { return items_.size() - (improper_ ? 1 : 0); }
inline tuple::tuple(std::vector<term> e) : elements(std::move(e)) {}
inline std::size_t map::size() const { return entries_.size(); }
inline bool map::empty() const { return entries_.empty(); }

// The order of map keys in a map (and in its ETF encoding, as erl writes maps
// of up to 32 keys): term order, except that every integer sorts before every
// float, at any depth.
bool map_key_less(const term& a, const term& b);

// A charlist from UTF-8 text: one integer per code point. Throws
// std::invalid_argument on invalid UTF-8.
term charlist(std::string_view utf8);
// An integer term from any decimal text, big or small; nullopt when malformed
// or past big_integer::max_magnitude_bytes.
std::optional<term> make_integer(std::string_view decimal);
// An integer term from sign and little-endian magnitude: int64 when it fits.
term make_integer(bool negative, std::vector<std::uint8_t> magnitude);

// Hash consistent with ==.
std::size_t hash_value(const term& t);

// The nesting depth as DESIGN.md §2 counts it: a scalar is 1, a container is
// 1 + its deepest element (an empty container is 1).
std::size_t depth(const term& t);

}  // namespace capchan

template <>
struct std::hash<capchan::term> {
  std::size_t operator()(const capchan::term& t) const noexcept {
    return capchan::hash_value(t);
  }
};
