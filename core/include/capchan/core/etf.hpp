// Erlang External Term Format (ETF), version 131: the bytes of
// `term_to_binary(T, [{minor_version, 2}])` (DESIGN.md §2; the format is
// specified in erts/doc "External Term Format").
//
// Encoding is deterministic: equal terms give equal bytes, so a term's bytes
// can serve as a storage key. Decoding is bounded for hostile input: every read
// checks the bytes left, element counts are checked against the bytes left
// before anything is allocated, nesting is capped, and errors carry the byte
// offset and what was wrong.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "capchan/core/term.hpp"

namespace capchan::etf {

inline constexpr std::uint8_t version_magic = 131;

// Nesting depth as DESIGN.md §2 counts it (a scalar is 1).
inline constexpr std::size_t default_max_depth = 64;

struct decode_limits {
  std::size_t max_depth = default_max_depth;
};

struct decode_error {
  std::size_t offset = 0;  // byte offset in the input where the problem is
  std::string message;     // what was wrong, e.g. "atom is not valid UTF-8"
  // "byte 17: atom is not valid UTF-8"
  std::string to_string() const;
};

// Lets `result.value()` throw when it holds a decode_error (Boost.System finds
// it by argument-dependent lookup): std::invalid_argument with to_string().
[[noreturn]] void throw_exception_from_error(const decode_error& e, const boost::source_location& loc);

// The full encoding: version byte, then the term.
std::vector<std::uint8_t> encode(const term& t);
// Appends the full encoding (version byte included) to `out`.
void encode_to(std::vector<std::uint8_t>& out, const term& t);

// Decodes exactly one whole encoding; bytes after the term are an error.
boost::system::result<term, decode_error> decode(std::span<const std::uint8_t> bytes,
                                                 const decode_limits& limits = {});

// decode_shared shares the input with a binary of at least share_min_bytes
// (erts keeps binaries over 64 bytes off the process heap too) that is at
// least 1/share_max_amplification of the whole input; other binaries copy.
// A shared binary keeps the whole input alive, so the second rule bounds what
// keeping one costs: a handler that stores a 100-byte binary from a 1 MiB
// message must not hold the megabyte.
inline constexpr std::size_t share_min_bytes = 64;
inline constexpr std::size_t share_max_amplification = 4;

// decode() without copying large binaries: `bytes` lie in memory kept alive by
// `owner`, and binaries chosen by the rules above point into it.
boost::system::result<term, decode_error> decode_shared(std::span<const std::uint8_t> bytes,
                                                        const std::shared_ptr<const void>& owner,
                                                        const decode_limits& limits = {});

// Decodes one encoding starting at `offset` and moves `offset` past it, for
// several encodings back to back (channel frames, DESIGN.md §3). On error,
// `offset` is unchanged.
boost::system::result<term, decode_error> decode_next(std::span<const std::uint8_t> bytes,
                                                      std::size_t& offset,
                                                      const decode_limits& limits = {});

// decode_next() without copying large binaries, as decode_shared().
boost::system::result<term, decode_error> decode_next_shared(std::span<const std::uint8_t> bytes,
                                                             std::size_t& offset,
                                                             const std::shared_ptr<const void>& owner,
                                                             const decode_limits& limits = {});

}  // namespace capchan::etf
