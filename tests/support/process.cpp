// fork/exec with pipes, for tests that drive real processes.
#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
  for (const auto& kv : extra_env) {
    if (kv.find('=') == std::string::npos) {
      ::unsetenv(kv.c_str());
    } else {
      ::putenv(const_cast<char*>(kv.c_str()));
    }
  }
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

using steady = std::chrono::steady_clock;

// Milliseconds left until `deadline`, as poll(2) takes them (-1: forever).
int poll_timeout(std::optional<steady::time_point> deadline) {
  if (!deadline) return -1;
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - steady::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<long long>(left.count(), 1 << 30));
}

std::optional<steady::time_point> deadline_after(std::chrono::milliseconds limit) {
  if (limit == no_limit) return std::nullopt;
  return steady::now() + limit;
}

int decode_status(int status, int* signal_out) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (signal_out && WIFSIGNALED(status)) *signal_out = WTERMSIG(status);
  return -1;
}

}  // namespace

process_result run_process(const std::vector<std::string>& argv, const std::string& input,
                           const std::vector<std::string>& extra_env, std::chrono::milliseconds limit) {
  const auto deadline = deadline_after(limit);
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
    const int ready = ::poll(fds, 3, result.timed_out ? -1 : poll_timeout(deadline));
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) {  // past the limit: its pipes close when it dies
      ::kill(pid, SIGKILL);
      result.timed_out = true;
      continue;
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

child_process::child_process(const std::vector<std::string>& argv) { start(argv, {}, false, {}); }

child_process::child_process(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                             bool merge_stderr) {
  start(argv, extra_env, merge_stderr, {});
}

child_process::child_process(const std::vector<std::string>& argv, const std::string& stderr_path) {
  start(argv, {}, false, stderr_path);
}

void child_process::start(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
                          bool merge_stderr, const std::string& stderr_path) {
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
  if (pid_ == 0) exec_child(argv, in[0], out[1], merge_stderr ? out[1] : err_fd, extra_env);
  ::close(in[0]);
  ::close(out[1]);
  if (err_fd >= 0) ::close(err_fd);
  to_child_ = in[1];
  from_child_ = out[0];
}

child_process::~child_process() {
  if (!reaped_) {
    close_stdin();
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (from_child_ >= 0) ::close(from_child_);
}

bool child_process::write_line(const std::string& line) {
  const std::string data = line + "\n";
  return to_child_ >= 0 && write_all(to_child_, data.data(), data.size());
}

std::optional<std::string> child_process::read_line() { return read_line(no_limit); }

std::optional<std::string> child_process::read_line(std::chrono::milliseconds limit) {
  const auto deadline = deadline_after(limit);
  for (;;) {
    if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    pollfd fd = {from_child_, POLLIN, 0};
    const int ready = ::poll(&fd, 1, poll_timeout(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char buf[65536];
    const ssize_t n = ::read(from_child_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

void child_process::close_stdin() {
  if (to_child_ >= 0) ::close(to_child_);
  to_child_ = -1;
}

bool child_process::signal(int signo) { return !reaped_ && ::kill(pid_, signo) == 0; }

std::optional<int> child_process::wait(std::chrono::milliseconds limit) {
  close_stdin();
  if (!reaped_ && limit != no_limit) {
    // A pidfd becomes readable when the child exits: an event to wait for.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) throw std::runtime_error(std::string("pidfd_open: ") + std::strerror(errno));
    const auto deadline = deadline_after(limit);
    pollfd fd = {pidfd, POLLIN, 0};
    int ready = 0;
    while ((ready = ::poll(&fd, 1, poll_timeout(deadline))) < 0 && errno == EINTR) {
    }
    ::close(pidfd);
    if (ready == 0) return std::nullopt;
  }
  return wait();
}

int child_process::wait() {
  close_stdin();
  if (!reaped_) {
    while (::waitpid(pid_, &status_, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  return decode_status(status_, nullptr);
}

}  // namespace capchan::test
