// capchan running on a pseudo-terminal, for tests of what a person sees at
// a terminal: prompts without echo, the terminal's settings restored.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace capchan::test {

// capchan running with a pseudo-terminal as its controlling terminal and
// stdin/stdout/stderr. The test keeps the terminal's other end open too, so
// its settings stay readable after the child has gone.
class terminal_child {
 public:
  using steady = std::chrono::steady_clock;
  static constexpr std::chrono::seconds limit{30};

  terminal_child(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    REQUIRE(::openpty(&master_, &terminal_, nullptr, nullptr, nullptr) == 0);
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::setsid();
      ::ioctl(terminal_, TIOCSCTTY, 0);
      ::dup2(terminal_, STDIN_FILENO);
      ::dup2(terminal_, STDOUT_FILENO);
      ::dup2(terminal_, STDERR_FILENO);
      ::close(master_);
      for (const auto& kv : env) {
        if (kv.find('=') == std::string::npos) {
          ::unsetenv(kv.c_str());
        } else {
          ::putenv(const_cast<char*>(kv.c_str()));
        }
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~terminal_child() {
    if (!reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(master_);
    ::close(terminal_);
  }

  // Reads what the child wrote until `text` has appeared `times` times in
  // all it wrote (or the limit).
  bool read_until(const std::string& text, std::size_t times = 1) {
    const auto deadline = steady::now() + limit;
    while (count(text) < times) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
      if (left.count() <= 0) return false;
      pollfd fd = {master_, POLLIN, 0};
      if (::poll(&fd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return false;
      output.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  void type(const std::string& keys) {
    REQUIRE(::write(master_, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  }

  bool echo_on() const {
    termios t{};
    REQUIRE(::tcgetattr(terminal_, &t) == 0);
    return (t.c_lflag & ECHO) != 0;
  }

  // The wait status, or nullopt if the child still runs after the limit.
  std::optional<int> wait_status() {
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    REQUIRE(pidfd >= 0);
    pollfd fd = {pidfd, POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(std::chrono::milliseconds(limit).count()));
    ::close(pidfd);
    if (ready <= 0) return std::nullopt;
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    reaped_ = true;
    return status;
  }

  // What the child has written since the last read_until.
  void drain() {
    for (;;) {
      pollfd fd = {master_, POLLIN, 0};
      if (::poll(&fd, 1, 0) <= 0) return;
      char buf[4096];
      const ssize_t n = ::read(master_, buf, sizeof buf);
      if (n <= 0) return;
      output.append(buf, static_cast<std::size_t>(n));
    }
  }

  std::size_t count(const std::string& text) const {
    std::size_t n = 0;
    for (auto at = output.find(text); at != std::string::npos;
         at = output.find(text, at + text.size()))
      ++n;
    return n;
  }

  std::string output;

 private:
  int master_ = -1;
  int terminal_ = -1;
  pid_t pid_ = -1;
  bool reaped_ = false;
};


}  // namespace capchan::test
