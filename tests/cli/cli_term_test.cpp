// `capchan term encode|decode`, run as a user would: the real binary, its
// stdout, stderr and exit code (DESIGN.md §6: 2 for usage and bad input).
#include <catch2/catch.hpp>

#include "process.hpp"

using capchan::test::run_process;

namespace {

capchan::test::process_result capchan_cli(std::vector<std::string> args, const std::string& input = {}) {
  args.insert(args.begin(), CAPCHAN_CLI);
  return run_process(args, input);
}

// {lookup,joe} as erl 25 writes it: term_to_binary({lookup,joe}, [{minor_version,2}]).
constexpr const char* lookup_joe_hex = "83680277066c6f6f6b757077036a6f65";

}  // namespace

TEST_CASE("term encode prints ETF as lower-case hex", "[cli]") {
  const auto r = capchan_cli({"term", "encode", "{lookup, joe}"});
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string(lookup_joe_hex) + "\n");
  CHECK(r.err.empty());
}

TEST_CASE("term decode prints Erlang syntax", "[cli]") {
  const auto r = capchan_cli({"term", "decode", lookup_joe_hex});
  CHECK(r.exit_code == 0);
  CHECK(r.out == "{lookup,joe}\n");

  const auto book = capchan_cli({"term", "encode", R"({store, joe, "writing a book"})"});
  REQUIRE(book.exit_code == 0);
  const auto back = capchan_cli({"term", "decode", book.out});
  CHECK(back.out == "{store,joe,\"writing a book\"}\n");
}

TEST_CASE("term encode/decode read stdin for -", "[cli]") {
  const auto enc = capchan_cli({"term", "encode", "-"}, "#{k => <<1,2,3>>}.\n");
  CHECK(enc.exit_code == 0);
  const auto dec = capchan_cli({"term", "decode", "-"}, enc.out);
  CHECK(dec.exit_code == 0);
  CHECK(dec.out == "#{k => <<1,2,3>>}\n");
}

TEST_CASE("bad term text: exit 2 and line:column on stderr", "[cli]") {
  const auto r = capchan_cli({"term", "encode", "{lookup,\n joe"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("capchan term encode: 2:"));
}

TEST_CASE("bad hex and bad ETF: exit 2 with what is wrong", "[cli]") {
  const auto not_hex = capchan_cli({"term", "decode", "83zz"});
  CHECK(not_hex.exit_code == 2);
  CHECK_THAT(not_hex.err, Catch::Contains("not hexadecimal"));

  const auto truncated = capchan_cli({"term", "decode", "8368027706"});
  CHECK(truncated.exit_code == 2);
  CHECK_THAT(truncated.err, Catch::StartsWith("capchan term decode: byte "));

  const auto pid = capchan_cli({"term", "decode", "835800"});
  CHECK(pid.exit_code == 2);
  CHECK_THAT(pid.err, Catch::Contains("pid"));
}

TEST_CASE("usage: --help exits 0, a missing subcommand exits 2", "[cli]") {
  const auto help = capchan_cli({"term", "encode", "--help"});
  CHECK(help.exit_code == 0);
  CHECK_THAT(help.out, Catch::Contains("TERM"));

  const auto none = capchan_cli({});
  CHECK(none.exit_code == 2);
  const auto unknown = capchan_cli({"frobnicate"});
  CHECK(unknown.exit_code == 2);
}
