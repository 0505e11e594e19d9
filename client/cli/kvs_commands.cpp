// See kvs_commands.hpp. Each command opens one channel to the kvs service
// (--service, default nameServer), sends its requests as calls, and prints
// what it got on stdout, one term per line; failures go to stderr as one
// "capchan: ..." line. Exit codes: exit_codes.hpp, plus exit_not_found for
// `get` of a missing key.
#include "kvs_commands.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdint>
#include <functional>
#include <iostream>
#include <optional>
#include <system_error>
#include <thread>
#include <variant>

#include "capchan/core/text.hpp"
#include "exit_codes.hpp"

namespace capchan::cli {
namespace {

constexpr const char* default_service = "nameServer";

struct kvs_state {
  std::shared_ptr<channel_flags> flags;
  std::string service = default_service;
  std::string key;
  std::string value;
  std::string prefix = "'_'";
  std::size_t limit = 0;  // list: 0 prints every item
  std::int64_t from = 0;  // watch: 0 means "only what comes next"; --from is at least 1
};

// What a command's request got: the reply, or the exit code after the
// failure was reported on stderr.
using answer = std::variant<term, int>;

// `request` as a call; `what` names it in messages ("put", "list").
answer ask(client::sync::channel& ch, const channel_session& session, term request,
           std::string_view what) {
  auto reply = ch.rpc(std::move(request), session.timeout);
  if (!reply) {
    std::cerr << "capchan: " << describe(reply.error()) << "\n";
    return exit_code_for(reply.error());
  }
  // kvs answers what it refuses with {error, Reason} (docs/kvs.md).
  const auto* t = reply->as_tuple();
  if (t && t->elements.size() == 2 && t->elements[0].is_atom("error")) {
    std::cerr << "capchan: " << session.service << " refused the " << what << ": "
              << text::print(t->elements[1]) << "\n";
    return exit_remote;
  }
  return std::move(*reply);
}

// Prints `t` on a line of its own, flushed; exit_ok, or exit_remote if it
// cannot be printed (JSON refuses terms deeper than 64).
int print_line(const term& t, bool json) {
  auto line = format_term(t, json);
  if (!line) {
    std::cerr << "capchan: cannot print a term: " << line.error().message << "\n";
    return exit_remote;
  }
  std::cout << *line << std::endl;
  return exit_ok;
}

// A reply of a shape kvs never gives: SERVICE is not a kvs.
int unexpected(const channel_session& session, const term& reply) {
  std::cerr << "capchan: " << session.service
            << " answered with something a kvs does not say: " << text::print(reply)
            << " (is --service a kvs service?)\n";
  return exit_remote;
}

// Runs `body` on a channel to the kvs service.
int with_kvs(const kvs_state& s,
             const std::function<int(client::sync::channel&, const channel_session&)>& body) {
  return with_channel(*s.flags, s.service, body);
}

int get_command(const kvs_state& s) {
  auto key = parse_term_argument(s.key, "KEY");
  if (!key) return exit_usage;
  return with_kvs(s, [&](client::sync::channel& ch, const channel_session& session) {
    auto got = ask(ch, session, tuple(atom("lookup"), std::move(*key)), "lookup");
    if (const int* code = std::get_if<int>(&got)) return *code;
    const term& reply = std::get<term>(got);
    if (reply.is_atom("undefined")) {
      print_line(reply, s.flags->json);
      return exit_not_found;
    }
    const auto* t = reply.as_tuple();
    if (!t || t->elements.size() != 2 || !t->elements[0].is_atom("ok"))
      return unexpected(session, reply);
    return print_line(t->elements[1], s.flags->json);
  });
}

// put and del: one write, acknowledged once durable; nothing printed.
int write_command(const kvs_state& s, term request, std::string_view what) {
  return with_kvs(s, [&](client::sync::channel& ch, const channel_session& session) {
    auto got = ask(ch, session, std::move(request), what);
    if (const int* code = std::get_if<int>(&got)) return *code;
    if (!std::get<term>(got).is_atom("ok")) return unexpected(session, std::get<term>(got));
    return exit_ok;
  });
}

int put_command(const kvs_state& s) {
  auto key = parse_term_argument(s.key, "KEY");
  if (!key) return exit_usage;
  auto value = parse_term_argument(s.value, "VALUE");
  if (!value) return exit_usage;
  return write_command(s, tuple(atom("put"), std::move(*key), std::move(*value)), "put");
}

int del_command(const kvs_state& s) {
  auto key = parse_term_argument(s.key, "KEY");
  if (!key) return exit_usage;
  return write_command(s, tuple(atom("delete"), std::move(*key)), "delete");
}

// Pages through {list, Prefix, #{limit => N, after => K}} until done or
// --limit items are printed, one {K, V} per line.
int list_command(const kvs_state& s) {
  auto prefix = parse_term_argument(s.prefix, "PREFIX");
  if (!prefix) return exit_usage;
  return with_kvs(s, [&](client::sync::channel& ch, const channel_session& session) {
    std::size_t printed = 0;
    std::optional<term> after;
    for (;;) {
      std::vector<map::entry> options;
      if (s.limit > 0) {
        options.emplace_back(atom("limit"), static_cast<std::int64_t>(s.limit - printed));
      }
      if (after) options.emplace_back(atom("after"), *after);
      auto got = ask(ch, session, tuple(atom("list"), *prefix, map(std::move(options))), "list");
      if (const int* code = std::get_if<int>(&got)) return *code;
      const term& reply = std::get<term>(got);
      const auto* page = reply.as_tuple();
      const auto* items =
          page && page->elements.size() == 3 ? page->elements[1].as_list() : nullptr;
      if (!items || !page->elements[0].is_atom("ok")) return unexpected(session, reply);
      for (const auto& item : items->elements()) {
        if (const int code = print_line(item, s.flags->json); code != exit_ok) return code;
        ++printed;
      }
      const term& next = page->elements[2];
      if (next.is_atom("done") || (s.limit > 0 && printed >= s.limit)) return exit_ok;
      const auto* more = next.as_tuple();
      if (!more || more->elements.size() != 2 || !more->elements[0].is_atom("more"))
        return unexpected(session, reply);
      after = more->elements[1];
    }
  });
}

// SIGINT and SIGTERM while a watch runs: the handler writes a byte to a
// pipe (all it may safely do); a thread reading the pipe closes the channel,
// which ends the watch's receive(). Installed for the watch only, so that
// Ctrl-C at the password prompt or while connecting works as usual.
class interrupt_watch {
 public:
  explicit interrupt_watch(client::sync::channel& ch) : channel_(ch) {
    if (::pipe2(pipe_, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
    write_end_.store(pipe_[1]);
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &previous_int_);
    ::sigaction(SIGTERM, &action, &previous_term_);
    thread_ = std::thread([this] {
      char c = 0;
      while (::read(pipe_[0], &c, 1) < 0 && errno == EINTR) {
      }
      if (c == 'i') {
        interrupted_ = true;
        channel_.close();
      }
    });
    // The calling thread then waits in receive(), in a futex wait no
    // handler runs from under ThreadSanitizer (it defers a signal to the
    // thread's next intercepted call, which never comes). Blocked here, the
    // signals go to the I/O thread or the one above, both in calls that
    // run handlers at once.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &signals, &previous_mask_);
  }

  ~interrupt_watch() {
    const char done = 'd';
    (void)!::write(pipe_[1], &done, 1);  // wakes the thread if no signal did
    thread_.join();
    ::sigaction(SIGINT, &previous_int_, nullptr);
    ::sigaction(SIGTERM, &previous_term_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    write_end_.store(-1);
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }
  interrupt_watch(const interrupt_watch&) = delete;
  interrupt_watch& operator=(const interrupt_watch&) = delete;

  // After the channel closed: whether a signal closed it.
  bool interrupted() const { return interrupted_.load(); }

 private:
  static void on_signal(int) {
    const int saved = errno;
    const char c = 'i';
    if (const int fd = write_end_.load(); fd >= 0) (void)!::write(fd, &c, 1);
    errno = saved;
  }

  // The one watch of the process; a plain int for the handler.
  static inline std::atomic<int> write_end_{-1};
  client::sync::channel& channel_;
  int pipe_[2] = {-1, -1};
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
  sigset_t previous_mask_{};
  std::atomic<bool> interrupted_{false};
  std::thread thread_;
};

// {watch, Prefix[, From]}, then every event as it comes, one per line,
// until SIGINT/SIGTERM (exit 0) or the channel ends under it.
int watch_command(const kvs_state& s) {
  auto prefix = parse_term_argument(s.prefix, "PREFIX");
  if (!prefix) return exit_usage;
  return with_kvs(s, [&](client::sync::channel& ch, const channel_session& session) {
    interrupt_watch interrupt(ch);
    const term request =
        s.from > 0 ? tuple(atom("watch"), *prefix, s.from) : tuple(atom("watch"), *prefix);
    auto got = ask(ch, session, request, "watch");
    if (const int* code = std::get_if<int>(&got)) return interrupt.interrupted() ? exit_ok : *code;
    const auto* ok = std::get<term>(got).as_tuple();
    if (!ok || ok->elements.size() != 2 || !ok->elements[0].is_atom("ok"))
      return unexpected(session, std::get<term>(got));
    for (;;) {
      client::incoming in = ch.receive();
      if (const auto* push = std::get_if<client::push>(&in)) {
        if (const int code = print_line(push->message, s.flags->json); code != exit_ok) return code;
        continue;
      }
      if (interrupt.interrupted()) return exit_ok;
      const term& reason = std::get<client::chan_closed>(in).reason;
      std::cerr << "capchan: the channel closed: " << text::print(reason) << "\n";
      const int code = exit_code_for_close(reason);
      return code == exit_ok ? exit_connection : code;  // a watch does not end by itself
    }
  });
}

// kvs SUBCOMMAND with the channel flags and --service, wherever they are given.
// CLI11's PositiveNumber says "not in range 0.000000 to 1.79769e+308" for 0.
const CLI::Validator at_least_one(
    [](std::string& text) -> std::string {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size() || n < 1)
        return "expected a whole number of at least 1, got '" + text + "'";
      return {};
    },
    "", "at least 1");

CLI::App* add_kvs_subcommand(CLI::App& kvs, const char* name, const char* about, kvs_state& state) {
  auto* command = kvs.add_subcommand(name, about);
  add_channel_flags(*command, *state.flags);
  command
      ->add_option("--service", state.service,
                   "The kvs service: a name, or capchan://HOST:PORT/SERVICE?key=SHA256:...")
      ->type_name("NAME")
      ->capture_default_str();
  return command;
}

}  // namespace

void add_kvs_command(CLI::App& app, const std::shared_ptr<channel_flags>& flags, int& exit_code) {
  auto state = std::make_shared<kvs_state>();
  state->flags = flags;
  auto* kvs = app.add_subcommand("kvs", "Read, write and watch the kvs name server");
  kvs->require_subcommand(1);
  add_channel_flags(*kvs, *flags);
  kvs->add_option("--service", state->service, "The kvs service (default nameServer)")
      ->type_name("NAME");
  kvs->footer(
      "KEY, VALUE and PREFIX are terms in Erlang syntax: a bare word is an atom, \"joe\" a\n"
      "string, <<\"joe\">> a binary (quote them for the shell). Example (`make run` elsewhere):\n"
      "  export CAPCHAN_PASSWORD=ABXy45\n"
      "  capchan kvs put joe '\"writing a book\"'\n"
      "  capchan kvs get joe                  # prints \"writing a book\"\n"
      "  capchan kvs list                     # prints {joe,\"writing a book\"}\n"
      "  capchan kvs watch --from 1           # every change since revision 1; Ctrl-C stops\n"
      "Exit codes: 0 ok, 1 the service refused the request, 2 usage, 3 unknown service or wrong\n"
      "password, 4 no connection, 5 `get` found no such key.");

  auto* get = add_kvs_subcommand(*kvs, "get", "Print the value of KEY", *state);
  get->add_option("KEY", state->key, "The key, e.g. joe")->required();
  get->footer("Prints the value; a missing key prints undefined and exits 5.");
  get->callback([state, &exit_code] { exit_code = get_command(*state); });

  auto* put = add_kvs_subcommand(*kvs, "put", "Store VALUE under KEY, durably", *state);
  put->add_option("KEY", state->key, "The key, e.g. joe")->required();
  put->add_option("VALUE", state->value, "The value, e.g. '\"writing a book\"'")->required();
  put->footer("Returns once the write is committed; prints nothing.");
  put->callback([state, &exit_code] { exit_code = put_command(*state); });

  auto* del = add_kvs_subcommand(*kvs, "del", "Delete KEY", *state);
  del->add_option("KEY", state->key, "The key")->required();
  del->footer("Returns once the delete is committed (also when KEY was absent); prints nothing.");
  del->callback([state, &exit_code] { exit_code = del_command(*state); });

  auto* list = add_kvs_subcommand(*kvs, "list", "Print the keys that start with PREFIX", *state);
  list->add_option("PREFIX", state->prefix,
                   "An atom, string or binary prefix, or '_' for every key [default: '_']");
  list->add_option("--limit", state->limit, "Print at most N items [default: all]")
      ->type_name("N")
      ->check(at_least_one);
  list->footer(
      "Prints one {Key,Value} per line, in the store's key order, asking for page after page.");
  list->callback([state, &exit_code] { exit_code = list_command(*state); });

  auto* watch =
      add_kvs_subcommand(*kvs, "watch", "Print every change to the keys under PREFIX", *state);
  watch->add_option("PREFIX", state->prefix, "As for list [default: '_']");
  watch
      ->add_option("--from", state->from,
                   "Start at revision REV, replaying the kept history [default: what comes next]")
      ->type_name("REV")
      ->check(at_least_one);
  watch->footer(
      "Prints {kvs,Rev,put,Key,Value} and {kvs,Rev,delete,Key} as they commit, one per line,\n"
      "until Ctrl-C (exit 0). To resume after a break, watch --from the last Rev + 1.");
  watch->callback([state, &exit_code] { exit_code = watch_command(*state); });
}

}  // namespace capchan::cli
