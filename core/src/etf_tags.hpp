// The tag bytes of the Erlang External Term Format (erts/doc "External Term
// Format"), shared by the encoder and the decoder. Private to capchan_core.
#pragma once

#include <cstdint>

namespace capchan::etf::tag {

// Tags capchan reads and writes.
inline constexpr std::uint8_t new_float = 70;         // NEW_FLOAT_EXT
inline constexpr std::uint8_t small_integer = 97;     // SMALL_INTEGER_EXT
inline constexpr std::uint8_t integer = 98;           // INTEGER_EXT
inline constexpr std::uint8_t small_tuple = 104;      // SMALL_TUPLE_EXT
inline constexpr std::uint8_t large_tuple = 105;      // LARGE_TUPLE_EXT
inline constexpr std::uint8_t nil = 106;              // NIL_EXT
inline constexpr std::uint8_t string = 107;           // STRING_EXT
inline constexpr std::uint8_t list = 108;             // LIST_EXT
inline constexpr std::uint8_t binary = 109;           // BINARY_EXT
inline constexpr std::uint8_t small_big = 110;        // SMALL_BIG_EXT
inline constexpr std::uint8_t large_big = 111;        // LARGE_BIG_EXT
inline constexpr std::uint8_t map = 116;              // MAP_EXT
inline constexpr std::uint8_t atom_utf8 = 118;        // ATOM_UTF8_EXT
inline constexpr std::uint8_t small_atom_utf8 = 119;  // SMALL_ATOM_UTF8_EXT

// Legacy tags capchan reads but never writes.
inline constexpr std::uint8_t float_text = 99;          // FLOAT_EXT
inline constexpr std::uint8_t atom_latin1 = 100;        // ATOM_EXT
inline constexpr std::uint8_t small_atom_latin1 = 115;  // SMALL_ATOM_EXT

// Tags capchan refuses: terms that have no place in a message (DESIGN.md §2)
// or framing that only the Erlang distribution protocol uses.
inline constexpr std::uint8_t dist_header = 68;      // DIST_HEADER
inline constexpr std::uint8_t bit_binary = 77;       // BIT_BINARY_EXT
inline constexpr std::uint8_t compressed = 80;       // compressed term
inline constexpr std::uint8_t atom_cache_ref = 82;   // ATOM_CACHE_REF
inline constexpr std::uint8_t new_pid = 88;          // NEW_PID_EXT
inline constexpr std::uint8_t new_port = 89;         // NEW_PORT_EXT
inline constexpr std::uint8_t newer_reference = 90;  // NEWER_REFERENCE_EXT
inline constexpr std::uint8_t reference = 101;       // REFERENCE_EXT
inline constexpr std::uint8_t port = 102;            // PORT_EXT
inline constexpr std::uint8_t pid = 103;             // PID_EXT
inline constexpr std::uint8_t new_fun = 112;         // NEW_FUN_EXT
inline constexpr std::uint8_t export_fun = 113;      // EXPORT_EXT
inline constexpr std::uint8_t new_reference = 114;   // NEW_REFERENCE_EXT
inline constexpr std::uint8_t fun = 117;             // FUN_EXT
inline constexpr std::uint8_t v4_port = 120;         // V4_PORT_EXT
inline constexpr std::uint8_t local = 121;           // LOCAL_EXT

}  // namespace capchan::etf::tag
