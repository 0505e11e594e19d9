// Lines from a file descriptor (the shell's standard input), bounded, and
// interruptible: another thread can wake a reader that waits for input, so
// the shell leaves at once when its channel closes while nobody types.
#pragma once

#include <cstddef>
#include <string>

namespace capchan::cli {

class line_reader {
 public:
  // Reads `fd` (not owned). Lines longer than `max_line` bytes are skipped
  // and reported as too_long.
  line_reader(int fd, std::size_t max_line);
  ~line_reader();
  line_reader(const line_reader&) = delete;
  line_reader& operator=(const line_reader&) = delete;

  enum class status { line, end_of_input, too_long, woken };
  // The next line, without its "\n" (and "\r"), in `out`. A last line
  // without a newline is still a line. Once woken, stays woken.
  status next(std::string& out);

  // Makes a waiting (or the next) next() return woken. Any thread;
  // async-signal-safe.
  void wake();

 private:
  bool fill();  // one read(2); false at end of input or when woken

  int fd_;
  std::size_t max_line_;
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no newline
  bool discarding_ = false;  // inside a line that was too long
  bool eof_ = false;
  bool woken_ = false;
  int wake_pipe_[2] = {-1, -1};
};

}  // namespace capchan::cli
