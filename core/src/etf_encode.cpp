// ETF encoder: writes a term as the exact bytes of erl's
// `term_to_binary(T, [{minor_version, 2}])` (DESIGN.md §2; the tags and their
// layouts are those of erts/doc "External Term Format").
//
// The output is deterministic (map entries are written in the map's stored
// order, which is erl's order for maps of up to 32 keys), so a term's bytes
// can serve as a storage key. Speed matters: the encoder grows the output
// buffer geometrically and writes through a raw pointer, so a term costs no
// heap work beyond the occasional buffer growth.
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <variant>

#include "capchan/core/etf.hpp"
#include "capchan/core/utf8.hpp"
#include "etf_tags.hpp"

namespace capchan::etf {
namespace {

// SMALL_INTEGER_EXT holds an unsigned byte; INTEGER_EXT a signed 32-bit integer.
constexpr std::int64_t small_integer_max = 255;
constexpr std::int64_t integer_min = std::numeric_limits<std::int32_t>::min();
constexpr std::int64_t integer_max = std::numeric_limits<std::int32_t>::max();
// SMALL_BIG_EXT, SMALL_ATOM_UTF8_EXT and SMALL_TUPLE_EXT have a one-byte length.
constexpr std::size_t one_byte_max = 255;
// STRING_EXT has a two-byte length ("Lists longer than 65535 elements are
// encoded as LIST_EXT"); ATOM_UTF8_EXT has a two-byte length too.
constexpr std::size_t two_byte_max = 65535;
constexpr std::size_t four_byte_max = 0xFFFF'FFFF;
// A first buffer big enough for most messages, so small terms grow it at most once.
constexpr std::size_t initial_capacity = 256;

// Appends to a byte vector that is kept resized to its capacity: `room(n)`
// hands out n writable bytes, and the destructor trims the vector to what was
// written. The write position is a raw pointer, so that a byte costs a store
// and a compare, not a vector size computation.
class term_encoder {
 public:
  explicit term_encoder(std::vector<std::uint8_t>& out) : out_(out), start_(out.size()) {
    out_.resize(std::max(out_.capacity(), start_ + initial_capacity));
    cur_ = out_.data() + start_;
    end_ = out_.data() + out_.size();
  }
  // On an exception the output is left as it was given.
  ~term_encoder() {
    out_.resize(finished_ ? static_cast<std::size_t>(cur_ - out_.data()) : start_);
  }
  term_encoder(const term_encoder&) = delete;
  term_encoder& operator=(const term_encoder&) = delete;

  void finish() { finished_ = true; }

  void put_byte(std::uint8_t b) { *room(1) = b; }

  // Scalars are written inline; containers out of line (they recurse), so
  // that each element of a container costs no call unless it is one itself.
  [[gnu::always_inline]] void put_term(const term& t) {
    const term::storage& v = t.value();
    switch (v.index()) {
      case 0:
        put(*std::get_if<0>(&v));
        return;
      case 1:
        put(*std::get_if<1>(&v));
        return;
      case 2:
        put(*std::get_if<2>(&v));
        return;
      case 3:
        put(*std::get_if<3>(&v));
        return;
      case 4:
        put(*std::get_if<4>(&v));
        return;
      case 5:
        put(*std::get_if<5>(&v));
        return;
      case 6:
        put(*std::get_if<6>(&v));
        return;
      case 7:
        put(*std::get_if<7>(&v));
        return;
    }
  }

 private:
  static_assert(std::variant_size_v<term::storage> == 8, "put_term handles every alternative");

  std::uint8_t* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - cur_) < n) grow(n);
    std::uint8_t* p = cur_;
    cur_ += n;
    return p;
  }

  [[gnu::noinline]] void grow(std::size_t n) {
    const auto pos = static_cast<std::size_t>(cur_ - out_.data());
    out_.resize(std::max(out_.size() * 2, pos + n));
    cur_ = out_.data() + pos;
    end_ = out_.data() + out_.size();
  }

  static void store_be16(std::uint8_t* p, std::size_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
  }
  static void store_be32(std::uint8_t* p, std::uint64_t v) {
    for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
  }

  // A tag followed by a four-byte length, the layout of most container tags.
  void put_tag_len32(std::uint8_t tag, std::size_t n, const char* what) {
    if (n > four_byte_max)
      throw std::length_error(std::string("ETF cannot encode a ") + what + " this long");
    std::uint8_t* p = room(5);
    p[0] = tag;
    store_be32(p + 1, n);
  }

  void put(std::int64_t v) {
    if (v >= 0 && v <= small_integer_max) {
      std::uint8_t* p = room(2);
      p[0] = tag::small_integer;
      p[1] = static_cast<std::uint8_t>(v);
    } else if (v >= integer_min && v <= integer_max) {
      std::uint8_t* p = room(5);
      p[0] = tag::integer;
      store_be32(p + 1, static_cast<std::uint32_t>(v));
    } else {
      put_small_big(v);
    }
  }

  // Outside int32 erl writes SMALL_BIG_EXT: byte count, sign, little-endian magnitude.
  void put_small_big(std::int64_t v) {
    // Negating in unsigned arithmetic is defined for INT64_MIN too.
    const std::uint64_t magnitude =
        v < 0 ? ~static_cast<std::uint64_t>(v) + 1 : static_cast<std::uint64_t>(v);
    const auto n = static_cast<std::size_t>((std::bit_width(magnitude) + 7) / 8);
    std::uint8_t* p = room(3 + n);
    p[0] = tag::small_big;
    p[1] = static_cast<std::uint8_t>(n);
    p[2] = v < 0 ? 1 : 0;
    for (std::size_t i = 0; i < n; ++i) p[3 + i] = static_cast<std::uint8_t>(magnitude >> (8 * i));
  }

  [[gnu::noinline]] void put(const big_integer& v) {
    const auto& magnitude = v.magnitude();
    const std::size_t n = magnitude.size();
    std::uint8_t* p;
    if (n <= one_byte_max) {
      p = room(3 + n);
      p[0] = tag::small_big;
      p[1] = static_cast<std::uint8_t>(n);
      p += 2;
    } else {
      put_tag_len32(tag::large_big, n, "big integer");
      p = room(1 + n);
    }
    p[0] = v.negative() ? 1 : 0;
    std::memcpy(p + 1, magnitude.data(), n);
  }

  // NEW_FLOAT_EXT: the IEEE 754 bits, big-endian.
  void put(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    std::uint8_t* p = room(9);
    p[0] = tag::new_float;
    for (int i = 0; i < 8; ++i) p[1 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  }

  void put(const atom& a) {
    const std::string& name = a.name;
    const std::size_t n = name.size();
    std::uint8_t* p;
    if (n <= one_byte_max) {
      p = room(2 + n);
      p[0] = tag::small_atom_utf8;
      p[1] = static_cast<std::uint8_t>(n);
      p += 2;
    } else {
      // Only names of over 255 bytes can be over 255 characters: count them then.
      std::size_t characters = 0;
      if (n > two_byte_max || !utf8::valid(name, &characters) ||
          characters > atom::max_characters) {
        throw std::invalid_argument("ETF: an atom is at most 255 characters of valid UTF-8");
      }
      p = room(3 + n);
      p[0] = tag::atom_utf8;
      store_be16(p + 1, n);
      p += 3;
    }
    std::memcpy(p, name.data(), n);
  }

  void put(const binary& b) {
    put_tag_len32(tag::binary, b.bytes.size(), "binary");
    std::uint8_t* p = room(b.bytes.size());
    if (!b.bytes.empty()) std::memcpy(p, b.bytes.data(), b.bytes.size());
  }

  // erl writes a proper list of bytes (0..255) of up to 65535 elements as
  // STRING_EXT, any other non-empty list as LIST_EXT: count, elements, tail.
  [[gnu::noinline]] void put(const list& l) {
    const auto elements = l.elements();
    if (elements.empty()) {
      put_byte(tag::nil);
      return;
    }
    if (l.is_proper() && elements.size() <= two_byte_max && put_string(elements)) return;
    put_tag_len32(tag::list, elements.size(), "list");
    for (const term& e : elements) put_term(e);
    if (const term* tail = l.tail()) {
      put_term(*tail);
    } else {
      put_byte(tag::nil);
    }
  }

  // Writes STRING_EXT if every element is a byte; otherwise writes nothing.
  bool put_string(std::span<const term> elements) {
    for (const term& e : elements) {
      const std::int64_t* i = e.as_int64();
      if (!i || *i < 0 || *i > small_integer_max) return false;
    }
    std::uint8_t* p = room(3 + elements.size());
    p[0] = tag::string;
    store_be16(p + 1, elements.size());
    p += 3;
    for (const term& e : elements) *p++ = static_cast<std::uint8_t>(*e.as_int64());
    return true;
  }

  [[gnu::noinline]] void put(const tuple& t) {
    const std::size_t n = t.elements.size();
    if (n <= one_byte_max) {
      std::uint8_t* p = room(2);
      p[0] = tag::small_tuple;
      p[1] = static_cast<std::uint8_t>(n);
    } else {
      put_tag_len32(tag::large_tuple, n, "tuple");
    }
    for (const term& e : t.elements) put_term(e);
  }

  // MAP_EXT: size, then key and value pairs in the map's stored order.
  [[gnu::noinline]] void put(const map& m) {
    put_tag_len32(tag::map, m.size(), "map");
    for (const auto& [key, value] : m.entries()) {
      put_term(key);
      put_term(value);
    }
  }

  std::vector<std::uint8_t>& out_;
  std::size_t start_;
  std::uint8_t* cur_;
  std::uint8_t* end_;
  bool finished_ = false;
};

}  // namespace

void encode_to(std::vector<std::uint8_t>& out, const term& t) {
  term_encoder encoder(out);
  encoder.put_byte(version_magic);
  encoder.put_term(t);
  encoder.finish();
}

std::vector<std::uint8_t> encode(const term& t) {
  std::vector<std::uint8_t> out;
  encode_to(out, t);
  return out;
}

}  // namespace capchan::etf
