// The book's name-server session (Programming Erlang, lib_chan) as a C++
// program on capchan's blocking client API. Start the server (`make run`),
// then: build/bin/nameserver_client [HOST PORT [KEY]]
// The password comes from CAPCHAN_PASSWORD (the example config's is ABXy45).
// Without KEY, the server's key is checked against known_hosts (trust on
// first use); with it, the key must be that one.
#include <cstdlib>
#include <iostream>
#include <string>

#include "capchan/client/sync.hpp"
#include "capchan/core/text.hpp"  // prints terms in Erlang syntax

using namespace capchan;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const std::string host = argc > 2 ? argv[1] : "127.0.0.1";
  const auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 1234);
  const char* password = std::getenv("CAPCHAN_PASSWORD");
  if (password == nullptr) {
    std::cerr << "set CAPCHAN_PASSWORD to the nameServer password\n";
    return 2;
  }
  client::connect_options options;
  if (argc > 3) options.key = argv[3];

  // lib_chan:connect(Host, Port, nameServer, Password, "")
  auto channel = sync::connect(host, port, "nameServer", password, term(), options);
  if (!channel) {
    std::cerr << channel.error() << "\n";
    return 1;
  }

  // lib_chan:cast(Pid, {store, joe, "writing a book"})
  const term store = tuple(atom("store"), atom("joe"), charlist("writing a book"));
  if (auto sent = channel->cast(store); !sent) {
    std::cerr << sent.error() << "\n";
    return 1;
  }
  std::cout << "cast " << store << "\n";

  // lib_chan:rpc(Pid, {lookup, joe}), then {lookup, jim}
  for (const char* who : {"joe", "jim"}) {
    const term lookup = tuple(atom("lookup"), atom(who));
    auto reply = channel->rpc(lookup, 5s);
    if (!reply) {
      std::cerr << reply.error() << "\n";
      return 1;
    }
    std::cout << "rpc " << lookup << " -> " << *reply << "\n";
  }
  channel->close();
}
