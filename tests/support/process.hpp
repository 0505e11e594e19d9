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
};

// Runs argv[0] (a path) with the arguments, feeding `input` on stdin, and
// waits for it to end.
process_result run_process(const std::vector<std::string>& argv, const std::string& input = {},
                           const std::vector<std::string>& extra_env = {});

// A running child with stdin and stdout as pipes (stderr is inherited, so its
// complaints show in the test log). The destructor closes stdin, then kills
// the child if it has not ended, and reaps it.
class child_process {
 public:
  explicit child_process(const std::vector<std::string>& argv);
  // The same with stderr written to the file `stderr_path` (created or
  // truncated), for tests that read a server's log.
  child_process(const std::vector<std::string>& argv, const std::string& stderr_path);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  bool write_line(const std::string& line);
  // One line without its newline; nullopt at end of file.
  std::optional<std::string> read_line();
  pid_t pid() const { return pid_; }
  // Closes stdin and waits for the exit code (-1 if killed by a signal).
  int wait();
  // Closes the child's stdin (it sees end of file) and leaves it running.
  void close_input();
  // read_line with a deadline: nullopt at end of file or after `limit`.
  std::optional<std::string> read_line_for(std::chrono::milliseconds limit);
  // wait() with a deadline (stdin stays open): the exit code, or nullopt if
  // the child is still running after `limit`.
  std::optional<int> wait_for(std::chrono::milliseconds limit);

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffer_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace capchan::test
