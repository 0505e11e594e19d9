// See shell.hpp. Two threads: this one reads commands and runs them (an rpc
// blocks it until the reply); a listener thread takes pushes and the final
// chan_closed from the channel and prints them at once. Output lines are
// whole: one mutex guards stdout and stderr.
#include "shell.hpp"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <iostream>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "capchan/core/text.hpp"
#include "channel_flags.hpp"
#include "exit_codes.hpp"
#include "line_reader.hpp"

namespace capchan::cli {
namespace {

constexpr std::string_view help_text =
    "Commands, one per line (the final '.' is optional):\n"
    "  rpc TERM.    call the service and print its reply, e.g. rpc {lookup, joe}.\n"
    "  cast TERM.   send TERM one way, e.g. cast {store, joe, \"writing a book\"}.\n"
    "  TERM.        the same as rpc TERM.\n"
    "  help         this text\n"
    "  quit         close the channel and leave (so does end of input, Ctrl-D)\n"
    "Pushes from the service print as 'push TERM' whenever they arrive.\n";

// Prints whole lines from two threads; knows whether a prompt is showing.
class console {
 public:
  console(const shell_settings& s)
      : json_(s.json), interactive_(s.interactive), prompt_(s.service + "> ") {}

  void reply(const term& t) { show_term(t, false); }
  void push(const term& t) { show_term(t, true); }

  void error(const std::string& message) {
    std::lock_guard lock(mutex_);
    std::cout << std::flush;
    std::cerr << "capchan: " << message << std::endl;
  }

  void text(std::string_view s) {
    std::lock_guard lock(mutex_);
    std::cout << s << std::flush;
  }

  void prompt() {
    if (!interactive_) return;
    std::lock_guard lock(mutex_);
    std::cout << prompt_ << std::flush;
    prompt_showing_ = true;
  }
  void prompt_answered() {
    std::lock_guard lock(mutex_);
    prompt_showing_ = false;
  }

 private:
  void show_term(const term& t, bool is_push) {
    auto line = format_term(t, json_);
    std::lock_guard lock(mutex_);
    if (prompt_showing_) std::cout << "\n";
    if (!line) {
      std::cout << std::flush;
      std::cerr << "capchan: cannot print " << (is_push ? "a push" : "the reply") << ": "
                << line.error().message << std::endl;
    } else if (!is_push) {
      std::cout << *line << "\n";
    } else if (json_) {
      std::cout << "{\"push\":" << *line << "}\n";
    } else {
      std::cout << "push " << *line << "\n";
    }
    if (prompt_showing_) std::cout << prompt_;
    std::cout << std::flush;
  }

  std::mutex mutex_;
  bool json_;
  bool interactive_;
  std::string prompt_;
  bool prompt_showing_ = false;
};

struct command {
  enum class kind { skip, rpc, cast, help, quit, bad } what = kind::skip;
  term message;
  std::string problem;
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '@';
}

// One line of input, numbered `line_number` for error messages.
command parse_command(std::string_view line, std::size_t line_number) {
  const std::string where = "line " + std::to_string(line_number);
  std::size_t start = 0;
  while (start < line.size() && std::isspace(static_cast<unsigned char>(line[start]))) ++start;
  if (start == line.size() || line[start] == '%') return {};

  std::size_t word_end = start;
  while (word_end < line.size() && is_word_char(line[word_end])) ++word_end;
  const std::string_view word = line.substr(start, word_end - start);
  std::size_t rest_start = word_end;
  while (rest_start < line.size() && std::isspace(static_cast<unsigned char>(line[rest_start])))
    ++rest_start;
  std::string_view rest = line.substr(rest_start);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back())))
    rest.remove_suffix(1);

  command c;
  if (word == "help" || word == "quit") {
    if (rest.empty() || rest == ".") {
      c.what = word == "help" ? command::kind::help : command::kind::quit;
      return c;
    }
    c.what = command::kind::bad;
    c.problem = where + ": " + std::string(word) +
                " takes nothing after it (to send the atom, write rpc " + std::string(word) + ".)";
    return c;
  }
  std::size_t term_start = start;
  c.what = command::kind::rpc;
  if (word == "rpc" || word == "cast") {
    if (rest.empty() || rest == ".") {
      c.what = command::kind::bad;
      c.problem = where + ": " + std::string(word) + " needs a term, e.g. " + std::string(word) +
                  " {lookup, joe}.";
      return c;
    }
    c.what = word == "rpc" ? command::kind::rpc : command::kind::cast;
    term_start = rest_start;
  }
  auto parsed = text::parse(line.substr(term_start));
  if (!parsed) {
    const auto& e = parsed.error();
    // The prefix before the term is ASCII: its bytes are its columns.
    c.what = command::kind::bad;
    c.problem = where + ", column " + std::to_string(e.column + term_start) + ": " + e.message +
                " (type help for the commands)";
    return c;
  }
  c.message = std::move(*parsed);
  return c;
}

class shell {
 public:
  shell(client::sync::channel& channel, const shell_settings& settings)
      : channel_(channel),
        settings_(settings),
        console_(settings),
        input_(STDIN_FILENO, settings.max_line) {}

  int run() {
    std::thread listener([this] { listen(); });
    const bool channel_ended = read_commands();
    if (!channel_ended) channel_.close();  // ends the listener's receive()
    listener.join();
    if (!channel_ended && !closed_under_us_) return exit_ok;
    console_.error("the channel closed: " + text::print(close_reason_) + what_to_do(close_reason_));
    return exit_code_for_close(close_reason_);
  }

 private:
  static std::string what_to_do(const term& reason) {
    if (reason.is_atom("disconnected")) return " (the connection to the server was lost)";
    const term* tag = reason.element(0);
    if (tag && tag->is_atom("shutdown")) return " (the server stopped the service)";
    return "";
  }

  void listen() {
    for (;;) {
      client::incoming in = channel_.receive();
      if (auto* p = std::get_if<client::push>(&in)) {
        console_.push(p->message);
        continue;
      }
      close_reason_ = std::get<client::chan_closed>(in).reason;
      closed_under_us_ = !closing_.load();
      input_.wake();
      return;
    }
  }

  // Runs commands until the input ends or quit (false), or until the
  // channel ends (true).
  bool read_commands() {
    std::size_t line_number = 0;
    std::string line;
    for (;;) {
      console_.prompt();
      const auto status = input_.next(line);
      console_.prompt_answered();
      switch (status) {
        case line_reader::status::woken:
          return true;
        case line_reader::status::end_of_input:
          if (settings_.interactive)
            console_.text("\n");  // Ctrl-D left the cursor after the prompt
          closing_ = true;
          return false;
        case line_reader::status::too_long:
          console_.error("line " + std::to_string(++line_number) + ": longer than --max-line (" +
                         std::to_string(settings_.max_line) + " bytes); skipped");
          continue;
        case line_reader::status::line:
          break;
      }
      command c = parse_command(line, ++line_number);
      switch (c.what) {
        case command::kind::skip:
          continue;
        case command::kind::bad:
          console_.error(c.problem);
          continue;
        case command::kind::help:
          console_.text(help_text);
          continue;
        case command::kind::quit:
          closing_ = true;
          return false;
        case command::kind::cast: {
          auto sent = channel_.cast(std::move(c.message));
          if (!sent && !report(sent.error())) return true;
          continue;
        }
        case command::kind::rpc: {
          auto reply = channel_.rpc(std::move(c.message), settings_.timeout);
          if (reply) {
            console_.reply(*reply);
          } else if (!report(reply.error())) {
            return true;
          }
          continue;
        }
      }
    }
  }

  // Prints a failed command's error; false when the channel has ended (the
  // listener reports why).
  bool report(const client::error& e) {
    if (e.code == client::errc::closed) return false;
    console_.error(describe(e));
    return true;
  }

  client::sync::channel& channel_;
  const shell_settings& settings_;
  console console_;
  line_reader input_;
  std::atomic<bool> closing_{false};
  // Written by the listener before it wakes input_, read after join().
  term close_reason_;
  bool closed_under_us_ = false;
};

}  // namespace

int run_shell(client::sync::channel& channel, const shell_settings& settings) {
  return shell(channel, settings).run();
}

}  // namespace capchan::cli
