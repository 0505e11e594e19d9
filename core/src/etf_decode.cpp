// ETF decoder: turns `term_to_binary` bytes from an untrusted peer into a
// term, or into a decode_error that names the byte offset and what was wrong
// (DESIGN.md §2; tags and layouts from erts/doc "External Term Format").
//
// Bounded by construction: every read checks the bytes left; every count
// (arity, length, size) is checked against the bytes left before anything is
// allocated, since each element takes at least one byte (a map entry two), so
// the memory a decode allocates grows linearly with its input; nesting is
// checked before each descent, so recursion stops at the depth limit; and
// chains of LIST_EXT tails, which do not nest in the decoded term, are
// followed by a loop rather than by recursion.
//
// Decoding normalises as erl does: a big integer that fits int64 becomes an
// int64, a LIST_EXT whose tail is a list is spliced into one list, map entries
// are put in map-key order. Terms that capchan messages never carry (pids,
// refs, ports, funs, bitstrings) and distribution framing are refused by name.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <boost/throw_exception.hpp>

#include "capchan/core/etf.hpp"
#include "capchan/core/utf8.hpp"
#include "etf_tags.hpp"

namespace capchan::etf {
namespace {

// FLOAT_EXT: a float as 31 bytes of "%.20e" text, NUL-padded.
constexpr std::size_t float_text_bytes = 31;
// Every UTF-8 code point takes at most four bytes, so an atom of more bytes
// than this has more than 255 characters (or is not UTF-8): refused unread.
constexpr std::size_t max_atom_utf8_bytes = atom::max_characters * 4;
// Recursion stops here whatever decode_limits asks for: a level costs at most
// about 1 KiB of stack (the map decoder's frame), so 256 levels fit easily in
// any thread's stack, sanitizers included.
constexpr std::size_t max_supported_depth = 256;
// Minimum encoded bytes per counted item, used to refuse counts that the
// bytes left cannot hold before allocating for them.
constexpr std::uint64_t min_bytes_per_element = 1;
constexpr std::uint64_t min_bytes_per_map_entry = 2;

using result_type = boost::system::result<term, decode_error>;

// The text form of a tag in messages: its spec name and number.
std::string tag_name(std::string_view name, std::uint8_t tag) {
  return std::string(name) + " (tag " + std::to_string(tag) + ")";
}

// Why a tag is refused: what it encodes, or that the tag is unknown.
std::string refusal(std::uint8_t t) {
  switch (t) {
    case tag::compressed:
      return "compressed terms are not supported";
    case tag::new_pid:
      return tag_name("NEW_PID_EXT", t) + ": pids are not supported in capchan messages";
    case tag::pid:
      return tag_name("PID_EXT", t) + ": pids are not supported in capchan messages";
    case tag::newer_reference:
      return tag_name("NEWER_REFERENCE_EXT", t) +
             ": references are not supported in capchan messages";
    case tag::new_reference:
      return tag_name("NEW_REFERENCE_EXT", t) +
             ": references are not supported in capchan messages";
    case tag::reference:
      return tag_name("REFERENCE_EXT", t) + ": references are not supported in capchan messages";
    case tag::new_port:
      return tag_name("NEW_PORT_EXT", t) + ": ports are not supported in capchan messages";
    case tag::port:
      return tag_name("PORT_EXT", t) + ": ports are not supported in capchan messages";
    case tag::v4_port:
      return tag_name("V4_PORT_EXT", t) + ": ports are not supported in capchan messages";
    case tag::new_fun:
      return tag_name("NEW_FUN_EXT", t) + ": funs are not supported in capchan messages";
    case tag::fun:
      return tag_name("FUN_EXT", t) + ": funs are not supported in capchan messages";
    case tag::export_fun:
      return tag_name("EXPORT_EXT", t) + ": funs (fun M:F/A) are not supported in capchan messages";
    case tag::bit_binary:
      return tag_name("BIT_BINARY_EXT", t) +
             ": bitstrings that are not whole bytes are not supported";
    case tag::atom_cache_ref:
      return tag_name("ATOM_CACHE_REF", t) +
             ": atom cache references belong to Erlang distribution, not capchan";
    case tag::dist_header:
      return tag_name("DIST_HEADER", t) +
             ": distribution headers belong to Erlang distribution, not capchan";
    case tag::local:
      return tag_name("LOCAL_EXT", t) + ": node-local terms are not supported";
    default:
      return "unknown tag " + std::to_string(t);
  }
}

bool is_ascii(std::span<const std::uint8_t> bytes) {
  std::uint8_t any = 0;
  for (const std::uint8_t b : bytes) any |= b;
  return any < 0x80;
}

// Where a decoded term goes: appended to a vector (tuple and list elements,
// constructed in place there, so the hot path copies no finished term) or
// stored in a slot (map keys and values, and the whole term).
class append_to {
 public:
  explicit append_to(std::vector<term>& items) : items_(items) {}
  template <class T>
  void operator()(T&& value) {
    items_.emplace_back(std::forward<T>(value));
  }

 private:
  std::vector<term>& items_;
};

class store_in {
 public:
  explicit store_in(term& slot) : slot_(slot) {}
  template <class T>
  void operator()(T&& value) {
    slot_ = term(std::forward<T>(value));
  }

 private:
  term& slot_;
};

// The whole term: constructed in place in the decode result.
class emplace_in {
 public:
  explicit emplace_in(result_type& result) : result_(result) {}
  template <class T>
  void operator()(T&& value) {
    result_.emplace(std::forward<T>(value));
  }

 private:
  result_type& result_;
};

// An atom's name, made into an atom only inside term's constructor, which
// saves one move of the name per atom.
struct atom_text {
  std::string_view text;
  operator atom() const {  // NOLINT(google-explicit-constructor): used by term's constructor
    atom a;
    // A name that fits std::string's own buffer (most do) is copied byte by
    // byte: a memcpy call costs more than the copy.
    if (text.size() > a.name.capacity()) a.name.reserve(text.size());
    for (const char c : text) a.name.push_back(c);
    return a;
  }
};

// Reads one encoding (version byte and term) from a span, from a position.
// The decode functions return false once error_ is set; the caller stops.
class term_decoder {
 public:
  // With an owner, binaries of share_min_bytes or more point into `in`.
  term_decoder(std::span<const std::uint8_t> in, std::size_t pos, const decode_limits& limits,
               const std::shared_ptr<const void>* owner)
      : in_(in), pos_(pos), max_depth_(std::min(limits.max_depth, max_supported_depth)), owner_(owner) {}

  // On success the term is in `out`; on failure `out` is unchanged.
  bool decode(result_type& out) {
    if (!need(1, "the version byte")) return false;
    if (const std::uint8_t v = in_[pos_]; v != version_magic) {
      return fail(pos_, "expected version byte 131, got " + std::to_string(v));
    }
    ++pos_;
    return decode_term(emplace_in(out), 1);
  }

  std::size_t position() const { return pos_; }
  decode_error take_error() { return std::move(error_); }

 private:
  std::size_t left() const { return in_.size() - pos_; }

  // Failing is out of line: the message strings would otherwise swell the
  // stack frames of the container decoders, which nest.
  [[gnu::noinline, gnu::cold]] bool fail(std::size_t offset, std::string message) {
    error_ = decode_error{offset, std::move(message)};
    return false;
  }
  [[gnu::noinline, gnu::cold]] bool fail(std::size_t offset, const char* message) {
    return fail(offset, std::string(message));
  }

  // The checks are inline and their messages built out of line: the checks
  // run for every field, the messages only on bad input.
  bool need(std::size_t n, std::string_view what) { return left() >= n || fail_need(n, what); }

  [[gnu::noinline, gnu::cold]] bool fail_need(std::size_t n, std::string_view what) {
    return fail(pos_, "input ends inside " + std::string(what) + ": needs " + byte_count(n) + ", " +
                          std::to_string(left()) + " left");
  }

  // "3 bytes", "1 byte": for messages.
  static std::string byte_count(std::uint64_t n) {
    return std::to_string(n) + (n == 1 ? " byte" : " bytes");
  }
  std::string bytes_left() const { return byte_count(left()) + " left"; }

  // A count of items, each taking at least `bytes_each` bytes (plus `extra`
  // bytes after them), must fit in the bytes left: checked before allocating.
  bool check_count(std::uint64_t count, std::uint64_t bytes_each, std::uint64_t extra,
                   std::size_t count_offset, std::string_view what) {
    const std::uint64_t needed = count * bytes_each + extra;  // < 2^34: no overflow
    return needed <= left() || fail_count(count, bytes_each, extra, count_offset, what);
  }

  [[gnu::noinline, gnu::cold]] bool fail_count(std::uint64_t count, std::uint64_t bytes_each,
                                               std::uint64_t extra, std::size_t count_offset,
                                               std::string_view what) {
    std::string message = std::string(what) + " " + std::to_string(count);
    if (bytes_each == 1 && extra == 0) {
      message += " exceeds the " + bytes_left();
    } else {
      message += " needs at least " + byte_count(count * bytes_each + extra) + "; " + bytes_left();
    }
    return fail(count_offset, std::move(message));
  }

  // Elements of a container at `level` sit at level + 1 (DESIGN.md §2 depth).
  bool check_depth(std::size_t level, std::size_t container_offset) {
    return level < max_depth_ || fail_depth(container_offset);
  }

  [[gnu::noinline, gnu::cold]] bool fail_depth(std::size_t container_offset) {
    return fail(container_offset,
                "term nests deeper than the depth limit of " + std::to_string(max_depth_));
  }

  [[gnu::noinline, gnu::cold]] bool fail_tag(std::size_t at, std::uint8_t t) {
    return fail(at, refusal(t));
  }

  std::uint8_t read_u8() { return in_[pos_++]; }
  // ETF integers are big-endian; one unaligned load and a byte swap each.
  template <class U>
  U read_be() {
    U v;
    std::memcpy(&v, in_.data() + pos_, sizeof v);
    pos_ += sizeof v;
    if constexpr (std::endian::native == std::endian::little) {
      if constexpr (sizeof v == 2) v = __builtin_bswap16(v);
      if constexpr (sizeof v == 4) v = __builtin_bswap32(v);
      if constexpr (sizeof v == 8) v = __builtin_bswap64(v);
    }
    return v;
  }
  std::uint32_t read_be16() { return read_be<std::uint16_t>(); }
  std::uint32_t read_be32() { return read_be<std::uint32_t>(); }
  // Reads a length of `width` bytes (1, 2 or 4), checking they are there.
  template <std::size_t width>
  bool read_length(std::string_view what, std::uint32_t& n) {
    static_assert(width == 1 || width == 2 || width == 4);
    if (!need(width, what)) return false;
    n = width == 1 ? read_u8() : width == 2 ? read_be16() : read_be32();
    return true;
  }
  std::span<const std::uint8_t> take(std::size_t n) {
    const auto bytes = in_.subspan(pos_, n);
    pos_ += n;
    return bytes;
  }

  // Inlined into every caller, and the tuple decoder is [[gnu::flatten]], so
  // a scalar element of a tuple (every message of the book) costs no call at
  // all, while containers and rare tags stay out of line ([[gnu::noinline]]),
  // which also bounds the recursion to one container frame per nesting
  // level. Lists and maps are not flattened: with three sinks each, that made
  // this file take 72 s to compile (11 s without), for 1-4% on the book's
  // messages, which are tuples (bench/etf_bench, same run, 2026-11-23).
  template <class Sink>
  [[gnu::always_inline]] bool decode_term(Sink sink, std::size_t level) {
    if (!need(1, "a term's tag")) return false;
    const std::size_t at = pos_;
    const std::uint8_t t = read_u8();
    switch (t) {
      case tag::small_integer:
        return decode_small_integer(sink);
      case tag::integer:
        return decode_integer(sink);
      case tag::small_big:
        return decode_big<1>(sink);
      case tag::large_big:
        return decode_big<4>(sink);
      case tag::new_float:
        return decode_new_float(sink, at);
      case tag::float_text:
        return decode_float_text(sink, at);
      case tag::small_atom_utf8:
        return decode_atom_utf8<1>(sink);
      case tag::atom_utf8:
        return decode_atom_utf8<2>(sink);
      case tag::small_atom_latin1:
        return decode_atom_latin1<1>(sink);
      case tag::atom_latin1:
        return decode_atom_latin1<2>(sink);
      case tag::binary:
        return decode_binary(sink);
      case tag::nil:
        sink(list());
        return true;
      case tag::string:
        return decode_string(sink, level, at);
      case tag::list:
        return decode_list(sink, level, at);
      case tag::small_tuple:
        return decode_tuple<1>(sink, level, at);
      case tag::large_tuple:
        return decode_tuple<4>(sink, level, at);
      case tag::map:
        return decode_map(sink, level, at);
      default:
        return fail_tag(at, t);
    }
  }

  template <class Sink>
  bool decode_small_integer(Sink sink) {
    if (!need(1, "SMALL_INTEGER_EXT")) return false;
    sink(std::int64_t{read_u8()});
    return true;
  }

  template <class Sink>
  bool decode_integer(Sink sink) {
    if (!need(4, "INTEGER_EXT")) return false;
    sink(std::int64_t{static_cast<std::int32_t>(read_be32())});
    return true;
  }

  // SMALL_BIG_EXT / LARGE_BIG_EXT: byte count, sign byte, little-endian magnitude.
  template <std::size_t width, class Sink>
  [[gnu::noinline]] bool decode_big(Sink sink) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<width>("a big integer's length", n)) return false;
    if (n > big_integer::max_magnitude_bytes) {
      return fail(count_at, "big integer of " + std::to_string(n) + " bytes exceeds the limit of " +
                                std::to_string(big_integer::max_magnitude_bytes) + " bytes");
    }
    if (!check_count(n, 1, 1, count_at, "big integer length")) return false;
    const std::size_t sign_at = pos_;
    const std::uint8_t sign = read_u8();
    if (sign > 1)
      return fail(sign_at, "big integer sign byte is " + std::to_string(sign) + ", not 0 or 1");
    const auto magnitude = take(n);
    sink(make_integer(sign == 1, std::vector<std::uint8_t>(magnitude.begin(), magnitude.end())));
    return true;
  }

  template <class Sink>
  static bool finite_float(double v, Sink sink) {
    if (!std::isfinite(v)) return false;
    sink(v);
    return true;
  }

  // NEW_FLOAT_EXT: IEEE 754 binary64, big-endian. erl never writes NaN or
  // infinities and refuses them on input; so do we.
  template <class Sink>
  bool decode_new_float(Sink sink, std::size_t at) {
    if (!need(8, "NEW_FLOAT_EXT")) return false;
    const auto bits = read_be<std::uint64_t>();
    if (finite_float(std::bit_cast<double>(bits), sink)) return true;
    return fail(at, "float is not finite (NaN or infinity)");
  }

  // FLOAT_EXT (legacy): "%.20e" text in 31 bytes, ended by the first NUL if
  // any; like erl, the whole text must be a number and what follows the NUL
  // is ignored. from_chars reads exactly the given bytes: no locale, no overrun.
  template <class Sink>
  [[gnu::noinline]] bool decode_float_text(Sink sink, std::size_t at) {
    if (!need(float_text_bytes, "FLOAT_EXT")) return false;
    const auto bytes = take(float_text_bytes);
    std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    text = text.substr(0, text.find('\0'));
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
      if (ec == std::errc::result_out_of_range) return fail(at, "FLOAT_EXT float is out of range");
      return fail(at, "FLOAT_EXT text is not a float");
    }
    if (finite_float(v, sink)) return true;
    return fail(at, "float is not finite (NaN or infinity)");
  }

  // SMALL_ATOM_UTF8_EXT / ATOM_UTF8_EXT: strict UTF-8, at most 255 characters.
  template <std::size_t width, class Sink>
  bool decode_atom_utf8(Sink sink) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<width>("an atom's length", n)) return false;
    if (n > max_atom_utf8_bytes) return fail(count_at, "atom is longer than 255 characters");
    if (!check_count(n, 1, 0, count_at, "atom length")) return false;
    const std::size_t text_at = pos_;
    const auto bytes = take(n);
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    // Most atoms are ASCII: one byte per character and nothing to validate.
    if (!is_ascii(bytes)) {
      std::size_t characters = 0;
      if (!utf8::valid(text, &characters)) return fail(text_at, "atom is not valid UTF-8");
      if (characters > atom::max_characters)
        return fail(count_at, "atom is longer than 255 characters");
    } else if (n > atom::max_characters) {
      return fail(count_at, "atom is longer than 255 characters");
    }
    sink(atom_text{text});
    return true;
  }

  // ATOM_EXT / SMALL_ATOM_EXT (legacy): Latin-1, one character per byte.
  template <std::size_t width, class Sink>
  [[gnu::noinline]] bool decode_atom_latin1(Sink sink) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<width>("an atom's length", n)) return false;
    if (n > atom::max_characters) return fail(count_at, "atom is longer than 255 characters");
    if (!check_count(n, 1, 0, count_at, "atom length")) return false;
    std::string name;
    name.reserve(2 * n);  // at most two UTF-8 bytes per Latin-1 character
    for (const std::uint8_t c : take(n)) utf8::append(name, c);
    sink(atom(std::move(name)));
    return true;
  }

  template <class Sink>
  [[gnu::noinline]] bool decode_binary(Sink sink) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<4>("a binary's length", n)) return false;
    if (!check_count(n, 1, 0, count_at, "binary length")) return false;
    const auto bytes = take(n);
    // Sharing keeps the whole input alive: only a binary that is a good part
    // of it may, so that what a kept binary holds is at most
    // share_max_amplification times its size.
    if (owner_ && n >= share_min_bytes && n * share_max_amplification >= in_.size()) {
      sink(binary::shared(*owner_, bytes));
    } else {
      sink(binary(bytes));
    }
    return true;
  }

  // Makes room for n more items without reserving per call: a chain of
  // LIST_EXT tails must not cost a reallocation per link.
  template <class T>
  static void grow_for(std::vector<T>& items, std::size_t n) {
    if (items.capacity() - items.size() < n)
      items.reserve(std::max(items.capacity() * 2, items.size() + n));
  }

  // STRING_EXT: a proper list of bytes, two-byte length.
  bool read_string(std::size_t level, std::size_t at, std::span<const std::uint8_t>& bytes) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<2>("a STRING_EXT length", n)) return false;
    if (!check_count(n, 1, 0, count_at, "string length")) return false;
    if (n > 0 && !check_depth(level, at)) return false;
    bytes = take(n);
    return true;
  }

  // The usual list of bytes (a charlist): its elements built in one go, by
  // the vector's range constructor, which checks no capacity per element.
  template <class Sink>
  [[gnu::noinline]] bool decode_string(Sink sink, std::size_t level, std::size_t at) {
    std::span<const std::uint8_t> bytes;
    if (!read_string(level, at, bytes)) return false;
    sink(list(std::vector<term>(bytes.begin(), bytes.end())));
    return true;
  }

  // LIST_EXT: count, elements, tail. A tail that is itself a list (LIST_EXT,
  // STRING_EXT or NIL_EXT) continues this list; that is followed here in a
  // loop, so a long chain of tails never deepens the recursion.
  template <class Sink>
  [[gnu::noinline]] bool decode_list(Sink sink, std::size_t level, std::size_t at) {
    std::vector<term> items;
    std::size_t segment_at = at;
    for (;;) {
      const std::size_t count_at = pos_;
      std::uint32_t n = 0;
      if (!read_length<4>("a LIST_EXT length", n)) return false;
      if (!check_count(n, min_bytes_per_element, 1, count_at, "list length")) return false;
      if (n > 0 && !check_depth(level, segment_at)) return false;
      grow_for(items, n);
      for (std::uint32_t i = 0; i < n; ++i) {
        if (!decode_term(append_to(items), level + 1)) return false;
      }
      if (!need(1, "a list's tail")) return false;
      segment_at = pos_;
      switch (in_[pos_]) {
        case tag::list:
          ++pos_;
          continue;
        case tag::nil:
          ++pos_;
          sink(list(std::move(items)));
          return true;
        case tag::string: {
          ++pos_;
          std::span<const std::uint8_t> bytes;
          if (!read_string(level, segment_at, bytes)) return false;
          items.insert(items.end(), bytes.begin(), bytes.end());
          sink(list(std::move(items)));
          return true;
        }
        default:
          return decode_improper_tail(sink, std::move(items), level);
      }
    }
  }

  // The tail is not a list. With no elements before it, erl decodes the
  // "list" as the tail itself, which then sits at the list's own level.
  template <class Sink>
  [[gnu::noinline]] bool decode_improper_tail(Sink sink, std::vector<term> items,
                                              std::size_t level) {
    if (items.empty()) return decode_term(sink, level);
    term tail;  // the depth check for level + 1 passed when the elements were read
    if (!decode_term(store_in(tail), level + 1)) return false;
    sink(list::improper(std::move(items), std::move(tail)));
    return true;
  }

  template <std::size_t width, class Sink>
  [[gnu::noinline, gnu::flatten]] bool decode_tuple(Sink sink, std::size_t level, std::size_t at) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<width>("a tuple's arity", n)) return false;
    if (!check_count(n, min_bytes_per_element, 0, count_at, "tuple arity")) return false;
    if (n > 0 && !check_depth(level, at)) return false;
    std::vector<term> elements;
    elements.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!decode_term(append_to(elements), level + 1)) return false;
    }
    sink(tuple(std::move(elements)));
    return true;
  }

  // MAP_EXT: size, then key/value pairs. erl writes maps of up to 32 keys in
  // map-key order and larger ones in hash order; the map constructor sorts
  // only when needed. A duplicate key is an error, as in erl: the map then
  // comes out smaller than its size field says.
  template <class Sink>
  [[gnu::noinline]] bool decode_map(Sink sink, std::size_t level, std::size_t at) {
    const std::size_t count_at = pos_;
    std::uint32_t n = 0;
    if (!read_length<4>("a map's size", n)) return false;
    if (!check_count(n, min_bytes_per_map_entry, 0, count_at, "map size")) return false;
    if (n > 0 && !check_depth(level, at)) return false;
    const std::size_t entries_at = pos_;
    std::vector<map::entry> entries;
    entries.reserve(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      auto& [key, value] = entries.emplace_back();
      if (!decode_term(store_in(key), level + 1) || !decode_term(store_in(value), level + 1))
        return false;
    }
    map m(std::move(entries));
    if (m.size() != n) return fail_duplicate_key(entries_at, n, level);
    sink(std::move(m));
    return true;
  }

  // Only on error: decodes the entries again (they decoded fine a moment
  // ago) to find the first key, in input order, that repeats an earlier one.
  [[gnu::noinline, gnu::cold]] bool fail_duplicate_key(std::size_t entries_at, std::size_t n,
                                                       std::size_t level) {
    pos_ = entries_at;
    std::vector<std::pair<term, std::size_t>> keys;  // key and its offset
    keys.reserve(n);
    term value;
    for (std::size_t i = 0; i < n; ++i) {
      keys.emplace_back(term(), pos_);
      if (!decode_term(store_in(keys.back().first), level + 1) ||
          !decode_term(store_in(value), level + 1)) {
        return false;
      }
    }
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return map_key_less(keys[a].first, keys[b].first);
    });
    std::size_t repeat = n;
    for (std::size_t i = 1; i < n; ++i) {
      if (keys[order[i]].first == keys[order[i - 1]].first) repeat = std::min(repeat, order[i]);
    }
    return fail(keys[repeat].second,
                "map has a duplicate key (entry " + std::to_string(repeat + 1) + ")");
  }

  std::span<const std::uint8_t> in_;
  std::size_t pos_;
  std::size_t max_depth_;
  const std::shared_ptr<const void>* owner_;  // null: binaries copy
  decode_error error_;
};

}  // namespace

std::string decode_error::to_string() const {
  return "byte " + std::to_string(offset) + ": " + message;
}

void throw_exception_from_error(const decode_error& e, const boost::source_location& loc) {
  boost::throw_with_location(std::invalid_argument("ETF decode error at " + e.to_string()), loc);
}

namespace {

// Decodes one encoding at `offset` into a result built in place, so the term
// is never moved; with `whole`, bytes after it are an error. On success the
// offset moves past the encoding; on error it stays.
result_type decode_at(std::span<const std::uint8_t> bytes, std::size_t& offset,
                      const decode_limits& limits, bool whole, const std::shared_ptr<const void>* owner) {
  result_type result(boost::system::in_place_error);  // until the term is there
  if (offset > bytes.size()) {
    result = result_type(boost::system::in_place_error,
                         decode_error{offset, "offset is past the end of the " +
                                                  std::to_string(bytes.size()) + "-byte input"});
    return result;
  }
  term_decoder decoder(bytes, offset, limits, owner);
  if (!decoder.decode(result)) {
    result = result_type(boost::system::in_place_error, decoder.take_error());
    return result;
  }
  const std::size_t end = decoder.position();
  if (whole && end != bytes.size()) {
    const std::size_t extra = bytes.size() - end;
    result = result_type(
        boost::system::in_place_error,
        decode_error{end, std::to_string(extra) + (extra == 1 ? " byte follows" : " bytes follow") +
                              " the term"});
    return result;
  }
  offset = end;
  return result;
}

}  // namespace

result_type decode_next(std::span<const std::uint8_t> bytes, std::size_t& offset,
                        const decode_limits& limits) {
  return decode_at(bytes, offset, limits, false, nullptr);
}

result_type decode(std::span<const std::uint8_t> bytes, const decode_limits& limits) {
  std::size_t offset = 0;
  return decode_at(bytes, offset, limits, true, nullptr);
}

result_type decode_next_shared(std::span<const std::uint8_t> bytes, std::size_t& offset,
                               const std::shared_ptr<const void>& owner, const decode_limits& limits) {
  return decode_at(bytes, offset, limits, false, &owner);
}

result_type decode_shared(std::span<const std::uint8_t> bytes, const std::shared_ptr<const void>& owner,
                          const decode_limits& limits) {
  std::size_t offset = 0;
  return decode_at(bytes, offset, limits, true, &owner);
}

}  // namespace capchan::etf
