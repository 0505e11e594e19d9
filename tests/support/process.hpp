// Child processes for process-level tests: run a program to completion with
// captured output, or keep one running and talk to it over pipes (the erl
// oracle, servers under test). POSIX only; every child is reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace capchan::test {

struct process_result {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, if any
  std::string out;
  std::string err;
  bool timed_out = false;  // killed (SIGKILL) for running past its limit
};

// No limit on how long a child may run.
inline constexpr std::chrono::milliseconds no_limit = std::chrono::milliseconds::max();

// Runs argv[0] (a path) with the arguments, feeding `input` on stdin, and
// waits for it to end; past `limit` it is killed and timed_out is set, so a
// hung child fails its test instead of hanging it. `extra_env` holds
// "NAME=value" entries, or "NAME" alone to remove NAME from the child's
// environment.
process_result run_process(const std::vector<std::string>& argv, const std::string& input = {},
                           const std::vector<std::string>& extra_env = {},
                           std::chrono::milliseconds limit = no_limit);

// A running child with stdin and stdout as pipes (stderr is inherited, so its
// complaints show in the test log). The destructor closes stdin, then kills
// the child if it has not ended, and reaps it.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv);
  // With `extra_env` as for run_process; with `merge_stderr`, the child's
  // stderr goes to the same pipe as its stdout (2>&1).
  child_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                bool merge_stderr);
  // With stderr written to the file `stderr_path` (created or truncated),
  // for tests that read a server's log.
  child_process(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool write_line(const std::string& line);
  // One line without its newline; nullopt at end of file.
  std::optional<std::string> read_line();
  // The same, or nullopt when no whole line came within `limit`.
  std::optional<std::string> read_line(std::chrono::milliseconds limit);
  // Closes stdin (the child sees end of input).
  void close_stdin();
  pid_t pid() const { return pid_; }
  // Sends `signo` to the child; false if it has already been reaped.
  bool signal(int signo);
  // Closes stdin and waits for the exit code (-1 if killed by a signal).
  int wait();
  // The same, or nullopt if the child is still running after `limit`.
  std::optional<int> wait(std::chrono::milliseconds limit);

 private:
  void start(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env, bool merge_stderr,
             const std::string& stderr_path);
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace capchan::test
