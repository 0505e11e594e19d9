// TOML values as Erlang terms, for a service's `args` (ArgsS).
//
// string -> binary (UTF-8), integer -> integer, float -> float,
// boolean -> the atom true or false, array -> list, table -> map with atom
// keys. Dates and times have no term form and are refused.
#pragma once

#include <string>

#include <boost/system/result.hpp>
#include <toml++/toml.h>

#include "capchan/core/term.hpp"

namespace capchan::config {

boost::system::result<term, std::string> toml_to_term(const toml::node& node);

}  // namespace capchan::config
