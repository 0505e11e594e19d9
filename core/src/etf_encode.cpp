// ETF encoder: writes a term as the exact bytes of erl's
// `term_to_binary(T, [{minor_version, 2}])` (DESIGN.md §2; the tags and their
// layouts are those of erts/doc "External Term Format").
//
// The output is deterministic (map entries are written in the map's stored
// order, which is erl's order for maps of up to 32 keys), so a term's bytes
// can serve as a storage key. Speed matters: the encoder writes through a raw
// pointer into a buffer on the stack (term_encoder below), so a message costs
// one allocation, of its exact size.
#include <algorithm>
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
// The encoder's staging buffer: big enough for every fixed-size field (the
// largest is a SMALL_BIG_EXT of 255 bytes, 258 bytes in all) and for most
// whole messages, which then reach the output in one allocation.
constexpr std::size_t staging_bytes = 512;
static_assert(staging_bytes >= 3 + one_byte_max, "room() must fit any fixed-size field");

// memcpy for runs of up to 16 bytes (atom names, mostly), inline: two
// overlapping loads and stores instead of a call; longer runs call memcpy.
inline void copy_short(std::uint8_t* dst, const void* from, std::size_t n) {
  const auto* src = static_cast<const std::uint8_t*>(from);
  const auto copy_ends = [&]<class U>(U) {  // the first and last sizeof(U) bytes
    U head;
    U tail;
    std::memcpy(&head, src, sizeof head);
    std::memcpy(&tail, src + n - sizeof tail, sizeof tail);
    std::memcpy(dst, &head, sizeof head);
    std::memcpy(dst + n - sizeof tail, &tail, sizeof tail);
  };
  if (n > 16) {
    std::memcpy(dst, src, n);
  } else if (n >= 8) {
    copy_ends(std::uint64_t{});
  } else if (n >= 4) {
    copy_ends(std::uint32_t{});
  } else if (n > 0) {
    dst[0] = src[0];
    dst[n / 2] = src[n / 2];
    dst[n - 1] = src[n - 1];
  }
}

// Writes a term through a raw pointer into a staging buffer on the stack and
// appends the buffer to the output when it fills and at the end; long byte
// runs (binaries, long atoms and big integers) go straight from the term to
// the output. So the output is never zero-filled, a byte costs a store and a
// compare, and a term that fits the buffer is appended in one allocation of
// exactly its size.
class term_encoder {
 public:
  explicit term_encoder(std::vector<std::uint8_t>& out) : out_(out), start_(out.size()) {}
  // On an exception the output is left as it was given.
  ~term_encoder() {
    if (!finished_) out_.resize(start_);
  }
  term_encoder(const term_encoder&) = delete;
  term_encoder& operator=(const term_encoder&) = delete;

  void finish() {
    if (out_.capacity() == 0) {
      out_.assign(staging_, cur_);  // the usual case: one allocation, exactly the size
    } else {
      flush();
    }
    finished_ = true;
  }

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

  std::size_t space() const { return static_cast<std::size_t>(staging_ + staging_bytes - cur_); }

  // n (at most staging_bytes) writable bytes.
  std::uint8_t* room(std::size_t n) {
    if (space() < n) flush();
    std::uint8_t* p = cur_;
    cur_ += n;
    return p;
  }

  // Makes room in the output for `extra` more bytes, growing it geometrically
  // so that a long run of flushes costs linear time.
  void reserve_output(std::size_t extra) {
    const std::size_t needed = out_.size() + extra;
    if (needed > out_.capacity()) out_.reserve(std::max(needed, 2 * out_.capacity()));
  }

  [[gnu::noinline]] void flush() {
    out_.insert(out_.end(), staging_, cur_);
    cur_ = staging_;
  }

  // Copies n bytes: into the staging buffer if they fit, else straight to
  // the output after what is staged (with one growth of the output for both).
  void append(const void* data, std::size_t n) {
    if (n <= space()) {
      if (n != 0) std::memcpy(cur_, data, n);
      cur_ += n;
      return;
    }
    append_long(static_cast<const std::uint8_t*>(data), n);
  }

  [[gnu::noinline]] void append_long(const std::uint8_t* data, std::size_t n) {
    reserve_output(static_cast<std::size_t>(cur_ - staging_) + n);
    flush();
    out_.insert(out_.end(), data, data + n);
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
    if (n <= one_byte_max) {
      std::uint8_t* p = room(2);
      p[0] = tag::small_big;
      p[1] = static_cast<std::uint8_t>(n);
    } else {
      put_tag_len32(tag::large_big, n, "big integer");
    }
    put_byte(v.negative() ? 1 : 0);
    append(magnitude.data(), n);
  }

  // NEW_FLOAT_EXT: the IEEE 754 bits, big-endian.
  void put(double v) {
    const auto bits = std::bit_cast<std::uint64_t>(v);
    std::uint8_t* p = room(9);
    p[0] = tag::new_float;
    for (int i = 0; i < 8; ++i) p[1 + i] = static_cast<std::uint8_t>(bits >> (56 - 8 * i));
  }

  [[gnu::always_inline]] void put(const atom& a) {
    const std::string& name = a.name;
    const std::size_t n = name.size();
    if (n <= one_byte_max) {
      std::uint8_t* p = room(2 + n);
      p[0] = tag::small_atom_utf8;
      p[1] = static_cast<std::uint8_t>(n);
      copy_short(p + 2, name.data(), n);
    } else {
      // Only names of over 255 bytes can be over 255 characters: count them then.
      std::size_t characters = 0;
      if (n > two_byte_max || !utf8::valid(name, &characters) ||
          characters > atom::max_characters) {
        throw std::invalid_argument("ETF: an atom is at most 255 characters of valid UTF-8");
      }
      std::uint8_t* p = room(3);
      p[0] = tag::atom_utf8;
      store_be16(p + 1, n);
      append(name.data(), n);
    }
  }

  void put(const binary& b) {
    put_tag_len32(tag::binary, b.size(), "binary");
    append(b.data(), b.size());
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
  // One pass checks and writes, in runs that fit the staging buffer (a string
  // may be longer than it); on the first element that is not a byte,
  // everything written since the start is dropped again.
  bool put_string(std::span<const term> elements) {
    const std::size_t out_mark = out_.size();
    std::uint8_t* const staged_mark = cur_;
    std::uint8_t* header = room(3);
    header[0] = tag::string;
    store_be16(header + 1, elements.size());
    for (std::size_t i = 0; i < elements.size();) {
      if (space() == 0) flush();
      const std::size_t run = std::min(space(), elements.size() - i);
      std::uint8_t* p = cur_;  // a local: stores through it cannot alias it
      for (const term& e : elements.subspan(i, run)) {
        const std::int64_t* c = e.as_int64();
        if (!c || static_cast<std::uint64_t>(*c) > small_integer_max) {
          unwind(out_mark, staged_mark);
          return false;
        }
        *p++ = static_cast<std::uint8_t>(*c);
      }
      cur_ = p;
      i += run;
    }
    return true;
  }

  // Drops what was written since the output had out_mark bytes and the
  // staging buffer ended at staged_mark, flushes in between included.
  void unwind(std::size_t out_mark, std::uint8_t* staged_mark) {
    if (out_.size() == out_mark) {
      cur_ = staged_mark;
    } else {
      out_.resize(out_mark + static_cast<std::size_t>(staged_mark - staging_));
      cur_ = staging_;
    }
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
  bool finished_ = false;
  std::uint8_t staging_[staging_bytes];  // not initialised: written before read
  std::uint8_t* cur_ = staging_;
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
