// `capchan kvs get|put|del|list|watch` against a real capchan-server
// process (docs/cli.md "kvs"): terms in Erlang syntax both ways, paging,
// a watch that streams what other capchan processes write and ends with
// exit 0 on SIGINT, and the exit codes (5 for a missing key).
#include <signal.h>

#include <catch2/catch.hpp>

#include <thread>

#include "cli_runner.hpp"
#include "server_process.hpp"

using capchan::test::child_process;
using capchan::test::cli_runner;
using capchan::test::join;
using capchan::test::process_result;
using capchan::test::server_process;

namespace {

// Config text for one more kvs service NAME (the book's password) with `args`.
std::string extra_kvs(const std::string& name, const std::string& args) {
  return "\n[[service]]\nname = \"" + name +
         "\"\npassword = \"ABXy45\"\nhandler = \"kvs\"\nargon2id_ops = 1\nargon2id_mem = "
         "\"8KiB\"\nargs = " +
         args + "\n";
}

// capchan kvs ARGS... against `server`, key pinned.
process_result kvs(const cli_runner& cli, const server_process& server,
                   const std::vector<std::string>& args,
                   const std::vector<std::string>& env = {cli_runner::book_password_env()}) {
  return cli.run(join(join({"kvs"}, args), cli_runner::pinned(server)), env);
}

// `capchan kvs watch ARGS...` running, its stdout readable line by line.
std::unique_ptr<child_process> start_watch(const cli_runner& cli, const server_process& server,
                                           const std::vector<std::string>& args) {
  auto argv = join(join({CAPCHAN_CLI, "kvs", "watch"}, args), cli_runner::pinned(server));
  return std::make_unique<child_process>(argv, cli.environment({cli_runner::book_password_env()}),
                                         false);
}

}  // namespace

TEST_CASE("capchan kvs put, get and del, and exit 5 for a missing key", "[cli][server][kvs]") {
  server_process server;
  cli_runner cli;
  const auto put = kvs(cli, server, {"put", "joe", R"("writing a book")"});
  CHECK(put.exit_code == 0);
  CHECK(put.out.empty());
  CHECK(put.err.empty());

  const auto got = kvs(cli, server, {"get", "joe"});
  CHECK(got.exit_code == 0);
  CHECK(got.out == "\"writing a book\"\n");
  // The book's lookup sees the same store.
  const auto book =
      cli.run(join({"rpc", "nameServer", "{lookup, joe}"}, cli_runner::pinned(server)));
  CHECK(book.out == "{ok,\"writing a book\"}\n");
  CHECK(kvs(cli, server, {"get", "--json", "joe"}).out == R"({"string":"writing a book"})"
                                                          "\n");

  // A bare word is an atom: joe, "joe" and <<"joe">> are three keys.
  const auto as_string = kvs(cli, server, {"get", R"("joe")"});
  CHECK(as_string.exit_code == 5);
  CHECK(as_string.out == "undefined\n");
  CHECK(as_string.err.empty());
  REQUIRE(kvs(cli, server, {"put", R"(<<"joe">>)", "{binary, key}"}).exit_code == 0);
  CHECK(kvs(cli, server, {"get", R"(<<"joe">>)"}).out == "{binary,key}\n");
  CHECK(kvs(cli, server, {"get", "joe"}).out == "\"writing a book\"\n");

  // A stored atom undefined prints the same, but exits 0.
  REQUIRE(kvs(cli, server, {"put", "nothing", "undefined"}).exit_code == 0);
  const auto stored_undefined = kvs(cli, server, {"get", "nothing"});
  CHECK(stored_undefined.exit_code == 0);
  CHECK(stored_undefined.out == "undefined\n");

  const auto del = kvs(cli, server, {"del", "joe"});
  CHECK(del.exit_code == 0);
  CHECK(del.out.empty());
  CHECK(kvs(cli, server, {"get", "joe"}).exit_code == 5);
  CHECK(kvs(cli, server, {"del", "joe"}).exit_code == 0);  // absent already: still ok
}

TEST_CASE("capchan kvs list pages through every key of a prefix, and --limit stops early",
          "[cli][server][kvs]") {
  // A second kvs whose pages hold two items, so that list must page.
  server_process server(extra_kvs("pagedKvs", R"({ path = "paged.db", max_page = 2 })"));
  cli_runner cli;
  const std::vector<std::string> paged = {"--service", "pagedKvs"};
  for (const char* key : {"a3", "a1", "b", "a2", "a5", "a4"})
    REQUIRE(kvs(cli, server, join({"put", key, "1"}, paged)).exit_code == 0);
  REQUIRE(kvs(cli, server, join({"put", R"("a-string")", R"(<<"v">>)"}, paged)).exit_code == 0);

  // Four pages of two.
  const auto all = kvs(cli, server, join({"list"}, paged));
  CHECK(all.exit_code == 0);
  CHECK(all.out == "{a1,1}\n{a2,1}\n{a3,1}\n{a4,1}\n{a5,1}\n{b,1}\n{\"a-string\",<<\"v\">>}\n");

  // An atom prefix selects atoms only.
  const auto a = kvs(cli, server, join({"list", "a"}, paged));
  CHECK(a.out == "{a1,1}\n{a2,1}\n{a3,1}\n{a4,1}\n{a5,1}\n");
  CHECK(kvs(cli, server, join({"list", R"("a")"}, paged)).out == "{\"a-string\",<<\"v\">>}\n");

  const auto three = kvs(cli, server, join({"list", "a", "--limit", "3"}, paged));
  CHECK(three.exit_code == 0);
  CHECK(three.out == "{a1,1}\n{a2,1}\n{a3,1}\n");

  const auto none = kvs(cli, server, join({"list", R"(<<"x">>)"}, paged));
  CHECK(none.exit_code == 0);
  CHECK(none.out.empty());

  const auto json = kvs(cli, server, join({"list", "b", "--json"}, paged));
  CHECK(json.out == R"({"tuple":[{"atom":"b"},1]})"
                    "\n");

  // A prefix kvs does not take: the service refuses it, exit 1.
  const auto bad = kvs(cli, server, join({"list", "42"}, paged));
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("pagedKvs refused the list: {badarg,"));
  CHECK(kvs(cli, server, join({"list", "--limit", "0"}, paged)).exit_code == 2);
}

TEST_CASE("capchan kvs watch streams another capchan process's writes and exits 0 on SIGINT",
          "[cli][server][kvs]") {
  server_process server;
  cli_runner cli;
  REQUIRE(kvs(cli, server, {"put", "first", "1"}).exit_code == 0);

  // From revision 1: the history, then what comes.
  auto watch = start_watch(cli, server, {"--from", "1"});
  CHECK(watch->read_line(std::chrono::seconds(30)) ==
        std::optional<std::string>("{kvs,1,put,first,1}"));
  // Its line is out: the watch runs. A put from another process shows up.
  REQUIRE(kvs(cli, server, {"put", "second", R"(#{n => 2})"}).exit_code == 0);
  CHECK(watch->read_line(std::chrono::seconds(30)) ==
        std::optional<std::string>("{kvs,2,put,second,#{n => 2}}"));
  REQUIRE(kvs(cli, server, {"del", "first"}).exit_code == 0);
  CHECK(watch->read_line(std::chrono::seconds(30)) ==
        std::optional<std::string>("{kvs,3,delete,first}"));

  // A prefix watch sees only its keys; --json prints each event as JSON.
  auto filtered = start_watch(cli, server, {"sec", "--from", "1", "--json"});
  CHECK(
      filtered->read_line(std::chrono::seconds(30)) ==
      std::optional<std::string>(
          R"({"tuple":[{"atom":"kvs"},2,{"atom":"put"},{"atom":"second"},{"map":[[{"atom":"n"},2]]}]})"));

  REQUIRE(watch->signal(SIGINT));
  CHECK(watch->wait(std::chrono::seconds(30)) == std::optional<int>(0));
  CHECK(watch->read_line() == std::nullopt);  // nothing more was printed
  REQUIRE(filtered->signal(SIGTERM));
  CHECK(filtered->wait(std::chrono::seconds(30)) == std::optional<int>(0));
}

TEST_CASE("capchan kvs watch exits 4 when the server stops, and refuses a compacted revision",
          "[cli][server][kvs]") {
  server_process server(extra_kvs("shortKvs", R"({ path = "short.db", history = 2 })"));
  cli_runner cli;
  const std::vector<std::string> short_history = {"--service", "shortKvs"};
  for (const char* key : {"a", "b", "c", "d"})
    REQUIRE(kvs(cli, server, join({"put", key, "1"}, short_history)).exit_code == 0);
  const auto compacted = kvs(cli, server, join({"watch", "--from", "1"}, short_history));
  CHECK(compacted.exit_code == 1);
  CHECK_THAT(compacted.err, Catch::Contains("shortKvs refused the watch: {compacted,3}"));

  auto watch = start_watch(cli, server, join({"--from", "4"}, short_history));
  CHECK(watch->read_line(std::chrono::seconds(30)) ==
        std::optional<std::string>("{kvs,4,put,d,1}"));
  REQUIRE(server.terminate() == std::optional<int>(0));
  CHECK(watch->wait(std::chrono::seconds(30)) == std::optional<int>(4));
}

TEST_CASE("capchan kvs: usage errors exit 2, a wrong password 3, a service that is not a kvs 1",
          "[cli][server][kvs]") {
  server_process server;
  cli_runner cli;
  const auto bad_key = kvs(cli, server, {"get", "{joe"});
  CHECK(bad_key.exit_code == 2);
  CHECK_THAT(bad_key.err, Catch::Contains("capchan: KEY: "));
  CHECK(kvs(cli, server, {"put", "joe"}).exit_code == 2);  // no VALUE
  CHECK(kvs(cli, server, {"watch", "--from", "0"}).exit_code == 2);
  CHECK(kvs(cli, server, {}).exit_code == 2);  // no subcommand

  const auto wrong = kvs(cli, server, {"get", "joe"}, {"CAPCHAN_PASSWORD=wrong"});
  CHECK(wrong.exit_code == 3);
  CHECK_THAT(wrong.err, Catch::Contains("unknown service or wrong password"));

  // The echo service answers {lookup, joe} with itself.
  const auto echo =
      kvs(cli, server, {"get", "joe", "--service", "echo"}, {"CAPCHAN_PASSWORD=echo"});
  CHECK(echo.exit_code == 1);
  CHECK_THAT(echo.err, Catch::Contains("echo answered with something a kvs does not say"));

  // The flags may come before kvs, and a URL names the server and service.
  const std::string url =
      "capchan://" + server.host_port() + "/nameServer?key=" + server.fingerprint();
  REQUIRE(cli.run({"kvs", "put", "--service", url, "joe", "1"}).exit_code == 0);
  const auto before = cli.run(join(cli_runner::pinned(server), {"kvs", "get", "joe"}));
  CHECK(before.exit_code == 0);
  CHECK(before.out == "1\n");
}

TEST_CASE("capchan kvs watch outlives quiet periods longer than the server's idle_timeout",
          "[cli][server][kvs]") {
  server_process server("\n[limits]\nidle_timeout = \"1s\"\n");
  cli_runner cli;
  REQUIRE(kvs(cli, server, {"put", "first", "1"}).exit_code == 0);
  auto watch = start_watch(cli, server, {"--from", "1"});
  REQUIRE(watch->read_line(std::chrono::seconds(30)) ==
          std::optional<std::string>("{kvs,1,put,first,1}"));
  // Nothing happens for more than two idle timeouts: the watch must still be there.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  REQUIRE(kvs(cli, server, {"put", "second", "2"}).exit_code == 0);
  CHECK(watch->read_line(std::chrono::seconds(30)) ==
        std::optional<std::string>("{kvs,2,put,second,2}"));
  REQUIRE(watch->signal(SIGINT));
  CHECK(watch->wait(std::chrono::seconds(30)) == std::optional<int>(0));
}
