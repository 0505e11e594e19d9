// That the ETF decoder allocates nothing for a count it cannot back with
// input (DESIGN.md §2): a 10-byte input claiming 2^32-1 list elements must be
// refused before any vector is reserved. This binary replaces the global
// operator new and delete to count the bytes allocated during a decode.
#include <catch2/catch.hpp>

#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "capchan/core/etf.hpp"

namespace {

// Plain globals: operator new cannot reach anything else, and the tests run
// on one thread.
bool counting = false;
std::size_t allocated_bytes = 0;

void* allocate(std::size_t n) {
  if (counting) allocated_bytes += n;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (counting) allocated_bytes += n;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept {
  return operator new(n, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using bytes = std::vector<std::uint8_t>;

// The bytes allocated while decoding `input`, which must be refused.
std::size_t bytes_allocated_refusing(const bytes& input) {
  allocated_bytes = 0;
  counting = true;
  const bool decoded = static_cast<bool>(capchan::etf::decode(input));
  counting = false;
  CHECK_FALSE(decoded);
  return allocated_bytes;
}

// Allocation must stay under this for any refused input below: the error
// message is the only thing expected on the heap.
constexpr std::size_t small_allocation = 256;

}  // namespace

TEST_CASE("the allocation counter sees the decoder's allocations", "[etf]") {
  // A valid 1000-byte binary must allocate at least its 1000 bytes: proves
  // the replacement operator new is the one the decoder uses.
  bytes input{131, 109, 0, 0, 3, 232};
  input.resize(input.size() + 1000, 7);
  allocated_bytes = 0;
  counting = true;
  const bool decoded = static_cast<bool>(capchan::etf::decode(input));
  counting = false;
  CHECK(decoded);
  CHECK(allocated_bytes >= 1000);
}

TEST_CASE("counts far past the input allocate nothing", "[etf]") {
  const std::vector<bytes> inputs{
      {131, 108, 255, 255, 255, 255, 97, 1, 97, 2},            // LIST_EXT of 2^32-1 elements
      {131, 109, 255, 255, 255, 255, 1, 2, 3},                 // BINARY_EXT of 4 GiB
      {131, 116, 255, 255, 255, 255, 97, 1, 97, 2},            // MAP_EXT of 2^32-1 entries
      {131, 116, 128, 0, 0, 0, 97, 1, 97, 2},                  // MAP_EXT of 2^31 entries
      {131, 105, 255, 255, 255, 255, 97, 1, 97, 2},            // LARGE_TUPLE_EXT
      {131, 104, 255, 97, 1},                                  // SMALL_TUPLE_EXT of 255
      {131, 107, 255, 255, 1, 2, 3},                           // STRING_EXT of 65535
      {131, 111, 255, 255, 255, 255, 0, 1},                    // LARGE_BIG_EXT of 4 GiB
      {131, 111, 0, 0, 16, 0, 0, 1},                           // LARGE_BIG_EXT of 4096 bytes
      {131, 118, 3, 252, 97},                                  // ATOM_UTF8_EXT of 1020 bytes
      {131, 100, 0, 255, 97},                                  // ATOM_EXT of 255 bytes
      {131, 104, 1, 108, 255, 255, 255, 255, 106},             // inside a tuple
      {131, 108, 0, 0, 0, 1, 97, 1, 108, 255, 255, 255, 255},  // in a list tail
  };
  for (const bytes& input : inputs) {
    INFO("input of " << input.size() << " bytes, tag " << int{input[1]});
    CHECK(bytes_allocated_refusing(input) < small_allocation);
  }
}
