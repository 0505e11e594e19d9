// See password.hpp. The prompt turns echo off with termios and must turn it
// back on even when the user presses Ctrl-C, so it installs handlers for the
// terminating signals while it waits, which restore the terminal and then
// re-raise the signal with its previous disposition.
#include "password.hpp"

#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace capchan::cli {
namespace {

using text_result = checked<std::string>;

constexpr std::array<int, 4> restoring_signals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

// The terminal state a signal handler must put back. A signal handler can
// reach nothing but globals; these two are set only while a prompt waits.
struct termios saved_terminal;
volatile sig_atomic_t terminal_saved = 0;

extern "C" void restore_terminal_and_reraise(int signo) {
  if (terminal_saved) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  ::signal(signo, SIG_DFL);
  ::raise(signo);
}

std::string strip_line_ending(std::string line) {
  if (!line.empty() && line.back() == '\n') line.pop_back();
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

text_result validated(std::string password, const std::string& source) {
  if (password.size() > max_password_bytes) {
    return problem{source + " holds a line of more than " + std::to_string(max_password_bytes) +
                   " bytes: that is not a password (is it the right file?)"};
  }
  if (password.empty()) return problem{source + " gives an empty password"};
  return {boost::system::in_place_value, std::move(password)};
}

text_result from_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string source = "--password-file '" + path + "'";
  if (!in) return problem{source + ": cannot read it (" + std::strerror(errno) + ")"};
  std::string line;
  // Reads at most one byte past the limit, so a huge file costs nothing.
  char c = 0;
  while (line.size() <= max_password_bytes && in.get(c) && c != '\n') line += c;
  return validated(strip_line_ending(std::move(line)), source);
}

// Restores the terminal and the signal dispositions when the prompt ends,
// whichever way it ends.
class echo_off {
 public:
  echo_off() {
    if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
    terminal_saved = 1;
    struct sigaction action {};
    action.sa_handler = restore_terminal_and_reraise;
    sigemptyset(&action.sa_mask);
    for (std::size_t i = 0; i < restoring_signals.size(); ++i) {
      ::sigaction(restoring_signals[i], &action, &previous_[i]);
    }
    struct termios quiet = saved_terminal;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;  // the Enter key still moves to the next line
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  ~echo_off() {
    if (!terminal_saved) return;
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    terminal_saved = 0;
    for (std::size_t i = 0; i < restoring_signals.size(); ++i) {
      ::sigaction(restoring_signals[i], &previous_[i], nullptr);
    }
  }
  echo_off(const echo_off&) = delete;
  echo_off& operator=(const echo_off&) = delete;

 private:
  std::array<struct sigaction, restoring_signals.size()> previous_{};
};

text_result from_prompt(const std::string& prompt) {
  std::string line;
  bool ended = false;
  {
    echo_off quiet;  // before the prompt shows: nothing typed after it echoes
    // stderr: stdout stays for the reply, so `capchan rpc ... > file` works.
    [[maybe_unused]] auto shown = ::write(STDERR_FILENO, prompt.data(), prompt.size());
    // Byte by byte: whatever follows the line on stdin (shell input) stays
    // there for the next reader.
    char c = 0;
    while (line.size() <= max_password_bytes) {
      const ssize_t n = ::read(STDIN_FILENO, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (c == '\n') {
        ended = true;
        break;
      }
      line += c;
    }
  }
  if (!ended && line.empty()) return problem{"no password typed at the prompt"};
  return validated(strip_line_ending(std::move(line)), "the prompt");
}

}  // namespace

text_result read_password(const password_request& request) {
  if (!request.password_file.empty()) return from_file(request.password_file);
  if (const char* env = std::getenv("CAPCHAN_PASSWORD"); env != nullptr && request.use_environment) {
    return validated(env, "CAPCHAN_PASSWORD");
  }
  if (::isatty(STDIN_FILENO)) return from_prompt(request.prompt);
  if (!request.use_environment) {
    return problem{"no password: pass --password-file FILE (its first line), or run with a terminal on standard "
                   "input to be asked"};
  }
  return problem{
      "no password: set CAPCHAN_PASSWORD, pass --password-file FILE (its first line), or run "
      "with a terminal on standard input to be asked"};
}

}  // namespace capchan::cli
