// fork/exec with pipes, for tests that drive real processes.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace capchan::test {
namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> out;
  for (const auto& a : args) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
}

// In the child: wires the pipe ends to stdin/stdout(/stderr) and execs.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, int in_fd, int out_fd, int err_fd,
                             const std::vector<std::string>& extra_env) {
  ::dup2(in_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  if (err_fd >= 0) ::dup2(err_fd, STDERR_FILENO);
  for (const auto& kv : extra_env) ::putenv(const_cast<char*>(kv.c_str()));
  auto args = to_argv(argv);
  ::execve(args[0], args.data(), environ);
  const std::string msg = "exec " + argv[0] + ": " + std::strerror(errno) + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, msg.data(), msg.size());
  ::_exit(127);
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

int decode_status(int status, int* signal_out) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (signal_out && WIFSIGNALED(status)) *signal_out = WTERMSIG(status);
  return -1;
}

}  // namespace

process_result run_process(const std::vector<std::string>& argv, const std::string& input,
                           const std::vector<std::string>& extra_env) {
  ::signal(SIGPIPE, SIG_IGN);
  int in[2], out[2], err[2];
  make_pipe(in);
  make_pipe(out);
  make_pipe(err);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_child(argv, in[0], out[1], err[1], extra_env);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);

  // Feed stdin and drain stdout/stderr together so that no pipe fills up.
  process_result result;
  std::size_t written = 0;
  int in_fd = in[1];
  if (input.empty()) {
    ::close(in_fd);
    in_fd = -1;
  }
  int open_outputs = 2;
  pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
  while (open_outputs > 0 || in_fd >= 0) {
    fds[2].fd = in_fd;
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_outputs;
      }
    }
    if (in_fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::write(in_fd, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EINTR && errno != EAGAIN) written = input.size();
      if (written == input.size()) {
        ::close(in_fd);
        in_fd = -1;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = decode_status(status, &result.signal);
  return result;
}

child_process::child_process(const std::vector<std::string>& argv) : child_process(argv, std::string()) {}

child_process::child_process(const std::vector<std::string>& argv, const std::string& stderr_path) {
  ::signal(SIGPIPE, SIG_IGN);
  int err_fd = -1;
  if (!stderr_path.empty()) {
    err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err_fd < 0) throw std::runtime_error("open " + stderr_path + ": " + std::strerror(errno));
  }
  int in[2], out[2];
  make_pipe(in);
  make_pipe(out);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid_ == 0) exec_child(argv, in[0], out[1], err_fd, {});
  ::close(in[0]);
  ::close(out[1]);
  if (err_fd >= 0) ::close(err_fd);
  to_child_ = in[1];
  from_child_ = out[0];
}

child_process::~child_process() {
  if (!reaped_) {
    if (to_child_ >= 0) ::close(to_child_);
    to_child_ = -1;
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (from_child_ >= 0) ::close(from_child_);
}

bool child_process::write_line(const std::string& line) {
  const std::string data = line + "\n";
  return to_child_ >= 0 && write_all(to_child_, data.data(), data.size());
}

std::optional<std::string> child_process::read_line() {
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    char buf[65536];
    const ssize_t n = ::read(from_child_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

int child_process::wait() {
  if (to_child_ >= 0) {
    ::close(to_child_);
    to_child_ = -1;
  }
  if (!reaped_) {
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  return decode_status(status_, nullptr);
}

}  // namespace capchan::test

namespace capchan::test {

void child_process::close_input() {
  if (to_child_ >= 0) ::close(to_child_);
  to_child_ = -1;
}

std::optional<std::string> child_process::read_line_for(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd fd{from_child_, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t n = ::read(from_child_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds limit) {
  // waitpid has no timeout: poll it, a few milliseconds apart, up to the deadline.
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!reaped_) {
    const pid_t r = ::waitpid(pid_, &status_, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      break;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    ::usleep(5000);
  }
  return decode_status(status_, nullptr);
}

}  // namespace capchan::test
