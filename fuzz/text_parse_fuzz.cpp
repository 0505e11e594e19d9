// libFuzzer target for the term text parser (DESIGN.md §2). Any input must be
// either parsed or refused with a located parse_error, never crash or
// overflow the stack; a term that parses must respect the depth limit, print
// to text that parses back to the same term, and print the same text again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "capchan/core/text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const capchan::text::parse_limits limits;
  const auto first = capchan::text::parse(input, limits);
  if (!first) {
    const auto& e = first.error();
    if (e.line == 0 || e.column == 0 || e.message.empty()) std::abort();
    return 0;
  }
  if (capchan::depth(*first) > limits.max_depth) std::abort();
  const std::string printed = capchan::text::print(*first);
  const auto second = capchan::text::parse(printed, limits);
  if (!second || !(*second == *first)) std::abort();
  if (capchan::text::print(*second) != printed) std::abort();
  return 0;
}
