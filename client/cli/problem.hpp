// What the CLI's own checks return when something is wrong: a sentence for
// a person (what is wrong, what to do). A type of its own, so that a
// result<std::string, problem> never confuses its value with its error.
#pragma once

#include <string>
#include <utility>

#include <boost/system/result.hpp>

namespace capchan::cli {

struct problem {
  // Explicit, so that a string never silently becomes one. (A
  // checked<std::string> then needs boost::system::in_place_value for its
  // value: both types can be made from a string.)
  problem() = default;  // result<T, problem>::error() needs it
  explicit problem(std::string m) : message(std::move(m)) {}
  std::string message;
};

template <class T>
using checked = boost::system::result<T, problem>;

}  // namespace capchan::cli
