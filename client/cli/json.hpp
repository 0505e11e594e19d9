// `capchan --json`: terms as JSON for scripts. The mapping is one-to-one:
// every term has exactly one JSON form, and a JSON form names its term's kind,
// so a reader never guesses (is "ok" an atom, a binary or a charlist?).
//
//   integer        42, -7, 123456789012345678901234567890 (exact digits)
//   float          {"float": 1.5}
//   atom           {"atom": "ok"}
//   binary         {"binary": "text"}   when the bytes are valid UTF-8
//                  {"base64": "AAEC/w=="} otherwise (standard, padded)
//   charlist       {"string": "writing a book"} when erl prints the list as
//                  a string (~tp: printable Latin-1), else a list of integers
//   proper list    [...]
//   improper list  {"improper_list": [E1, ..., En, Tail]}
//   tuple          {"tuple": [...]}
//   map            {"map": [[K1, V1], ...]}  (keys in Erlang map order)
//
// So `{ok, "writing a book"}` is
// {"tuple":[{"atom":"ok"},{"string":"writing a book"}]}. Output is one line,
// UTF-8, with `"`, `\` and control characters escaped. docs/cli.md has the
// same table.
#pragma once

#include <cstddef>
#include <string>

#include "capchan/core/term.hpp"
#include "problem.hpp"

namespace capchan::cli {

// Terms off the wire are at most 64 deep (DESIGN.md §2); a deeper term is
// refused rather than printed with unbounded recursion.
inline constexpr std::size_t max_json_depth = 64;

// The JSON text of `t`, or why not (a term deeper than max_depth).
checked<std::string> to_json(const term& t, std::size_t max_depth = max_json_depth);

}  // namespace capchan::cli
