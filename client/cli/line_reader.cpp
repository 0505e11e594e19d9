// See line_reader.hpp. poll(2) on the input and on a self-pipe: writing a
// byte to the pipe is the one wake-up that works from any thread.
#include "line_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace capchan::cli {
namespace {

constexpr std::size_t read_chunk = 64 * 1024;

std::string without_carriage_return(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

line_reader::line_reader(int fd, std::size_t max_line) : fd_(fd), max_line_(max_line) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
}

line_reader::~line_reader() {
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void line_reader::wake() {
  const char byte = 1;
  [[maybe_unused]] auto n = ::write(wake_pipe_[1], &byte, 1);  // full pipe: already woken
}

bool line_reader::fill() {
  pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      eof_ = true;
      return false;
    }
    if (fds[1].revents & POLLIN) {
      woken_ = true;
      return false;
    }
    if (fds[0].revents == 0) continue;
    char chunk[read_chunk];
    const ssize_t n = ::read(fd_, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

line_reader::status line_reader::next(std::string& out) {
  for (;;) {
    if (woken_) return status::woken;
    const std::size_t newline = buffer_.find('\n', scanned_);
    if (newline != std::string::npos) {
      const bool skipped = discarding_;
      discarding_ = false;
      out = without_carriage_return(buffer_.substr(0, newline));
      buffer_.erase(0, newline + 1);
      scanned_ = 0;
      if (skipped) continue;  // the end of a line already reported as too long
      if (out.size() > max_line_) {
        out.clear();
        return status::too_long;
      }
      return status::line;
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > max_line_) {
      // Drop what we have and the rest of the line as it comes; report once.
      buffer_.clear();
      scanned_ = 0;
      if (!discarding_) {
        discarding_ = true;
        return status::too_long;
      }
    }
    if (eof_) {
      if (buffer_.empty() || discarding_) {
        discarding_ = false;
        buffer_.clear();
        return status::end_of_input;
      }
      out = without_carriage_return(std::move(buffer_));
      buffer_.clear();
      scanned_ = 0;
      return status::line;
    }
    fill();
  }
}

}  // namespace capchan::cli
