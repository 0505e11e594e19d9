// One running `erl` that answers a line protocol over its stdin/stdout, for the
// oracle test (tests/core/oracle_test.cpp) and the ETF benchmark's baseline
// (bench/etf_bench.cpp). erl is the oracle for terms (DESIGN.md §2) and the
// baseline for speed (§9); both start it once per run, because erl takes a few
// hundred milliseconds to boot.
//
// The Erlang side is a module whose `main/0` serves the protocol; it is
// compiled in memory by erl's own compiler (what `erlc` runs), so it executes
// as compiled BEAM code and no temporary directory is needed. Lines carry only
// ASCII (payloads are hex-encoded): erl's stdout in -noshell is a latin1
// device, and hex sidesteps any encoding or newline question. The process
// itself is a `child_process` (process.hpp), reaped when this object goes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "capchan/core/hex.hpp"
#include "process.hpp"

namespace capchan::test {

// Bytes as hex, the payload encoding of the line protocol.
inline std::string to_hex(std::string_view bytes) {
  return hex::encode({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

// The bytes of a hex field of erl's answer; throws on anything else.
inline std::string from_hex(std::string_view text) {
  const auto bytes = hex::decode(text);
  if (!bytes)
    throw std::runtime_error("not hex in erl's answer: " + std::string(text.substr(0, 80)));
  return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
}

// Splits a protocol line into its space-separated fields (empty fields kept).
inline std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) return fields;
    start = space + 1;
  }
}

class erl_process {
 public:
  // Starts `erl_program` serving `module_source`'s main/0. Its first line must
  // begin with `ready_banner`; that line is kept in `banner()`. Throws
  // std::runtime_error if erl cannot be started or does not come up.
  erl_process(const std::string& erl_program, const std::string& module_source,
              std::string_view ready_banner)
      : erl_(arguments(erl_program, module_source)) {
    banner_ = read_line();
    if (!banner_.starts_with(ready_banner)) {
      throw std::runtime_error("erl did not come up: its first line was '" + banner_ + "'");
    }
  }

  // erl halts when its stdin closes; waiting for that instead of killing it
  // lets erl end its helper process (erl_child_setup) too, leaving nothing behind.
  ~erl_process() { erl_.wait(); }

  erl_process(const erl_process&) = delete;
  erl_process& operator=(const erl_process&) = delete;

  const std::string& banner() const { return banner_; }

  // Sends one request line and returns erl's one-line answer. Throws
  // std::runtime_error, saying how erl ended, if it died.
  std::string ask(const std::string& request) {
    if (!erl_.write_line(request))
      throw std::runtime_error("cannot write to erl; " + how_erl_ended());
    return read_line();
  }

 private:
  static std::vector<std::string> arguments(const std::string& erl_program,
                                            const std::string& module_source) {
    // The module is compiled and loaded from memory; a compile error or a
    // crash in main/0 ends erl with a non-zero status, never a hanging shell.
    // Idle schedulers do not busy-wait, leaving the (shared) cores to the
    // process that tests or measures. A crash writes no erl_crash.dump.
    return {erl_program,
            "-noshell",
            "+sbwt",
            "none",
            "+sbwtdcpu",
            "none",
            "+sbwtdio",
            "none",
            "-env",
            "ERL_CRASH_DUMP_SECONDS",
            "0",
            "-eval",
            "try [Src] = init:get_plain_arguments(),"
            "  case compile:file(Src, [binary, return_errors]) of"
            "    {ok, M, B} -> {module, M} = code:load_binary(M, Src, B), M:main();"
            "    Error -> io:format(standard_error, \"cannot compile ~ts: ~p~n\", [Src, Error]),"
            "             halt(3)"
            "  end "
            "catch C:R:S -> io:format(standard_error, \"erl side failed: ~p~n\", [{C, R, S}]),"
            "               halt(4) "
            "end.",
            "-extra",
            module_source};
  }

  std::string read_line() {
    auto line = erl_.read_line();
    if (!line) throw std::runtime_error("erl closed its output; " + how_erl_ended());
    return *line;
  }

  std::string how_erl_ended() {
    const int code = erl_.wait();
    return code >= 0 ? "erl exited with status " + std::to_string(code)
                     : std::string("erl was killed by a signal");
  }

  capchan::test::child_process erl_;
  std::string banner_;
};

}  // namespace capchan::test
