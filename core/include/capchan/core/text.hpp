// Erlang term text syntax (DESIGN.md §2): the parser reads what a person types
// (`{store, joe, "writing a book"}`, `#{k => v}`, `<<"bin">>`, `[a|b]`, `$a`,
// `16#ff`, `1.5e3`), and the printer writes exactly what erl's
// `io_lib:format("~tp", [T])` writes, on one line. Used by the CLI, logs,
// config `args` and test fixtures.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "capchan/core/term.hpp"

namespace capchan::text {

struct parse_limits {
  std::size_t max_depth = 64;          // as DESIGN.md §2 counts depth
  std::size_t max_input = 16u << 20;   // bytes of text
};

struct parse_error {
  std::size_t line = 1;    // 1-based
  std::size_t column = 1;  // 1-based, in code points
  std::string message;     // e.g. "expected ',' or '}' in tuple"
  // "1:7: expected ',' or '}' in tuple"
  std::string to_string() const;
};

// Streams to_string(): lets tests and logs print a parse result.
std::ostream& operator<<(std::ostream& os, const parse_error& e);
// Makes result<term, parse_error>::value() usable: it throws
// std::invalid_argument carrying to_string().
[[noreturn]] void throw_exception_from_error(const parse_error& e, const boost::source_location& loc);

// Parses one term; surrounding whitespace, `%` comments and one final `.`
// are allowed, anything else after the term is an error.
boost::system::result<term, parse_error> parse(std::string_view text,
                                               const parse_limits& limits = {});

// The term as `io_lib:format("~tp", [T])` prints it, on one line (UTF-8).
std::string print(const term& t);
void print_to(std::string& out, const term& t);

}  // namespace capchan::text

namespace capchan {
// Streams the text syntax (for logs and test failure messages).
std::ostream& operator<<(std::ostream& os, const term& t);
}  // namespace capchan
