// Key names: the sortable text that list and watch prefixes match
// (docs/kvs.md "Prefixes").
#include "kvs_store.hpp"

namespace capchan::services::kvs {

key_name name_of(const term& key, const std::vector<std::uint8_t>& etf) {
  if (const auto* a = key.as_atom()) return {key_kind::atom, a->name};
  if (const auto* b = key.as_binary()) return {key_kind::binary, std::string(b->view())};
  if (key.is_list()) {
    // UTF-8 keeps code point order and prefixes, so "no" is a prefix of "node/1" in either form.
    if (auto text = key.as_charlist()) return {key_kind::string, std::move(*text)};
  }
  return {key_kind::other, std::string(etf.begin(), etf.end())};
}

bool prefix::matches(const key_name& k) const {
  return all || (k.kind == start.kind && k.text.starts_with(start.text));
}

}  // namespace capchan::services::kvs
