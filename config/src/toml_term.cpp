// Conversion of a service's `args` from TOML to a term; bounded by the term
// depth limit that the wire enforces (DESIGN.md §2), so an args value that
// could never be sent is refused at load.
#include "capchan/config/toml_term.hpp"

#include <cmath>

#include "capchan/core/etf.hpp"
#include "capchan/core/utf8.hpp"

namespace capchan::config {
namespace {

boost::system::result<term, std::string> convert(const toml::node& node, std::size_t level) {
  if (level > etf::default_max_depth) {
    return std::string("nested deeper than ") + std::to_string(etf::default_max_depth) + " levels";
  }
  if (const auto* s = node.as_string()) return term(binary::from(s->get()));
  if (const auto* i = node.as_integer()) return term(i->get());
  if (const auto* f = node.as_floating_point()) {
    if (!std::isfinite(f->get())) return std::string("nan and inf have no Erlang form");
    return term(f->get());
  }
  if (const auto* b = node.as_boolean()) return term(atom(b->get() ? "true" : "false"));
  if (const auto* arr = node.as_array()) {
    std::vector<term> items;
    items.reserve(arr->size());
    for (const auto& elem : *arr) {
      auto t = convert(elem, level + 1);
      if (!t) return t.error();
      items.push_back(std::move(*t));
    }
    return term(list(std::move(items)));
  }
  if (const auto* table = node.as_table()) {
    std::vector<map::entry> entries;
    entries.reserve(table->size());
    for (const auto& [key, value] : *table) {
      std::size_t chars = 0;
      if (!utf8::valid(key.str(), &chars) || chars > atom::max_characters) {
        return std::string("key \"") + std::string(key.str()) + "\" is longer than an atom's 255 characters";
      }
      auto t = convert(value, level + 1);
      if (!t) return t.error();
      entries.emplace_back(term(atom(std::string(key.str()))), std::move(*t));
    }
    return term(map(std::move(entries)));
  }
  return std::string("dates and times have no term form; write them as strings");
}

}  // namespace

boost::system::result<term, std::string> toml_to_term(const toml::node& node) {
  return convert(node, 1);
}

}  // namespace capchan::config
