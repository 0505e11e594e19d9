// libFuzzer target for the ETF decoder (DESIGN.md §2): any input must be
// decoded or refused without a crash, a sanitizer report or a runaway
// allocation; what decodes must survive a round trip unchanged, its encoding
// must be stable (encode(decode(encode(t))) == encode(t)), and it must respect
// the depth limit. Any violation aborts, which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "capchan/core/etf.hpp"
#include "capchan/core/term.hpp"

namespace {

[[noreturn]] void violation(const char* what) {
  std::fprintf(stderr, "etf_decode_fuzz: %s\n", what);
  std::abort();
}

void check_refusal(const capchan::etf::decode_error& e, std::size_t size) {
  if (e.offset > size) violation("error offset past the end of the input");
  if (e.message.empty()) violation("error without a message");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace etf = capchan::etf;
  const std::span<const std::uint8_t> input(data, size);

  // decode_next must agree with decode on where the term ends, and leave the
  // offset alone on error.
  std::size_t offset = 0;
  const auto next = etf::decode_next(input, offset);
  if (!next && offset != 0) violation("decode_next moved the offset on error");

  const auto first = etf::decode(input);
  if (!first) {
    check_refusal(first.error(), size);
    if (next && offset == size) violation("decode_next accepted what decode refused");
    return 0;
  }
  if (!next || offset != size || !(*next == *first)) violation("decode_next disagrees with decode");
  if (capchan::depth(*first) > etf::default_max_depth)
    violation("decoded a term past the depth limit");

  // decode_shared (what server and client run on every message) must give
  // the same term from a buffer it shares, and that term must outlive every
  // other owner of the buffer (AddressSanitizer checks the reads).
  {
    auto shared = std::make_shared<std::vector<std::uint8_t>>(input.begin(), input.end());
    auto from_shared = etf::decode_shared(*shared, shared);
    if (!from_shared) violation("decode_shared refused what decode accepted");
    shared.reset();
    if (!(*from_shared == *first)) violation("decode_shared disagrees with decode");
    if (etf::encode(*from_shared) != etf::encode(*first)) violation("decode_shared encodes differently");
  }

  const std::vector<std::uint8_t> encoded = etf::encode(*first);
  const auto second = etf::decode(encoded);
  if (!second) violation("our own encoding of a decoded term does not decode");
  if (!(*second == *first)) violation("round trip changed the term");
  if (etf::encode(*second) != encoded) violation("encoding is not stable");
  return 0;
}
