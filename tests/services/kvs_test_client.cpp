// A kvs client in a process of its own, for presence tests that SIGKILL it:
//   kvs_test_client PORT FINGERPRINT KEY
// connects to the "kvs" service (password "secret"), puts KEY (Erlang text)
// as an ephemeral key, prints "registered", then waits on stdin.
#include <iostream>
#include <string>

#include "capchan/client/sync.hpp"
#include "capchan/core/text.hpp"

int main(int argc, char** argv) {
  using namespace capchan;
  if (argc != 4) {
    std::cerr << "usage: kvs_test_client PORT FINGERPRINT KEY\n";
    return 2;
  }
  client::connect_options o;
  o.key = argv[2];
  auto ch = client::sync::connect("127.0.0.1", static_cast<std::uint16_t>(std::stoi(argv[1])),
                                  "kvs", "secret", term(), o);
  if (!ch) {
    std::cerr << "kvs_test_client: " << ch.error().message() << "\n";
    return 4;
  }
  const term key = text::parse(argv[3]).value();
  auto reply =
      ch->rpc(tuple(atom("put"), key, atom("alive"), map{{atom("ephemeral"), atom("true")}}));
  if (!reply || *reply != term(atom("ok"))) {
    std::cerr << "kvs_test_client: the put failed\n";
    return 1;
  }
  std::cout << "registered" << std::endl;
  std::string line;
  std::getline(std::cin, line);
  return 0;
}
