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
// device, and hex sidesteps any encoding or newline question.
//
// POSIX only: posix_spawn with a pipe each way; the child is reaped in the
// destructor, so no zombie is left behind.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

extern char** environ;

namespace capchan::testing {

// Bytes as upper-case hex, the payload encoding of the line protocol.
inline std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 0xF];
  }
  return out;
}

// The bytes of a hex string (either case); throws on anything else.
inline std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    throw std::runtime_error("not a hex digit in erl's answer");
  };
  if (hex.size() % 2 != 0) throw std::runtime_error("odd-length hex in erl's answer");
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
  }
  return out;
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
              std::string_view ready_banner, int answer_timeout_ms)
      : timeout_ms_(answer_timeout_ms) {
    int to_child[2];
    int from_child[2];
    if (pipe2(to_child, O_CLOEXEC) != 0) throw_errno("pipe");
    if (pipe2(from_child, O_CLOEXEC) != 0) {
      ::close(to_child[0]);
      ::close(to_child[1]);
      throw_errno("pipe");
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], STDOUT_FILENO);

    // A crash in erl must not leave erl_crash.dump files in the working directory.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (std::strncmp(*e, "ERL_CRASH_DUMP_SECONDS=", 23) != 0) env_strings.emplace_back(*e);
    }
    env_strings.emplace_back("ERL_CRASH_DUMP_SECONDS=0");
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);

    // The module is compiled and loaded from memory; a compile error or a
    // crash in main/0 ends erl with a non-zero status, never a hanging shell.
    // Schedulers do not busy-wait when idle, so that an idle erl leaves the
    // (shared) cores to the process measuring or testing.
    std::vector<std::string> args = {
        erl_program, "-noshell", "+sbwt", "none", "+sbwtdcpu", "none", "+sbwtdio", "none",
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
        "-extra", module_source};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    const int rc = posix_spawn(&pid_, erl_program.c_str(), &actions, nullptr, argv.data(),
                               envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    if (rc != 0) {
      ::close(to_child[1]);
      ::close(from_child[0]);
      pid_ = -1;
      throw std::runtime_error("cannot start " + erl_program + ": " + std::strerror(rc));
    }
    to_erl_ = to_child[1];
    from_erl_ = from_child[0];

    banner_ = read_line();
    if (!banner_.starts_with(ready_banner)) {
      throw std::runtime_error("erl did not come up: first line was '" + banner_ + "'");
    }
  }

  erl_process(const erl_process&) = delete;
  erl_process& operator=(const erl_process&) = delete;

  // Closing erl's stdin ends its serve loop (it halts on eof); a child that
  // does not leave within the timeout is killed, and in every case reaped.
  ~erl_process() {
    if (to_erl_ >= 0) ::close(to_erl_);
    if (pid_ > 0) {
      pollfd p{from_erl_, POLLIN, 0};
      char sink[4096];
      bool eof = false;
      while (!eof && ::poll(&p, 1, timeout_ms_) > 0) {
        const ssize_t n = ::read(from_erl_, sink, sizeof sink);
        eof = n == 0 || (n < 0 && errno != EINTR);
      }
      if (!eof) ::kill(pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (from_erl_ >= 0) ::close(from_erl_);
  }

  const std::string& banner() const { return banner_; }

  // Sends one request line and returns erl's one-line answer. Throws
  // std::runtime_error, saying how erl ended, if it died or did not answer.
  std::string ask(std::string_view request) {
    std::string line(request);
    line += '\n';
    write_all(line);
    return read_line();
  }

 private:
  [[noreturn]] static void throw_errno(const char* what) {
    throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
  }

  void write_all(std::string_view data) {
    // A dead erl must surface as an error, not as SIGPIPE ending the run.
    struct sigaction ignore {};
    struct sigaction previous {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ::sigaction(SIGPIPE, &ignore, &previous);
    while (!data.empty()) {
      const ssize_t n = ::write(to_erl_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        ::sigaction(SIGPIPE, &previous, nullptr);
        throw std::runtime_error("cannot write to erl (" + std::string(std::strerror(errno)) +
                                 "); " + how_erl_ended());
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    ::sigaction(SIGPIPE, &previous, nullptr);
  }

  std::string read_line() {
    for (;;) {
      const std::size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        return line;
      }
      pollfd p{from_erl_, POLLIN, 0};
      const int ready = ::poll(&p, 1, timeout_ms_);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) {
        throw std::runtime_error("erl did not answer within " + std::to_string(timeout_ms_) +
                                 " ms");
      }
      char chunk[65536];
      const ssize_t n = ::read(from_erl_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("erl closed its output; " + how_erl_ended());
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // Reaps erl (it has closed its output or its input) and says how it ended.
  std::string how_erl_ended() {
    if (pid_ <= 0) return "erl is not running";
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    if (r < 0) return "erl's status is unknown";
    if (WIFEXITED(status)) return "erl exited with status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "erl was killed by signal " + std::to_string(WTERMSIG(status));
    return "erl ended";
  }

  pid_t pid_ = -1;
  int to_erl_ = -1;
  int from_erl_ = -1;
  int timeout_ms_;
  std::string buffer_;
  std::string banner_;
};

}  // namespace capchan::testing
