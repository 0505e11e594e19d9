// capchan_test_client: a well-behaved client in a process of its own, for
// process-level tests (a test SIGKILLs it and checks what the handler saw).
//
//   capchan_test_client PORT SERVICE PASSWORD KEY [RPCS]
//
// Connects to 127.0.0.1:PORT (server key pinned to KEY), does RPCS echo rpcs
// (default 1), prints "ready", then waits for stdin to end: at end of file it
// closes the channel, prints "closed REASON" and exits 0. Exit codes: 0 ok,
// 1 an rpc failed, 2 usage, 3 connect failed.
#include <cstdio>
#include <iostream>
#include <string>

#include "capchan/client/sync.hpp"
#include "capchan/core/text.hpp"

using namespace capchan;

int main(int argc, char** argv) {
  if (argc != 5 && argc != 6) {
    std::cerr << "usage: capchan_test_client PORT SERVICE PASSWORD KEY [RPCS]\n";
    return 2;
  }
  const auto port = static_cast<std::uint16_t>(std::stoi(argv[1]));
  const int rpcs = argc == 6 ? std::stoi(argv[5]) : 1;
  client::connect_options options;
  options.key = argv[4];
  auto ch = client::sync::connect("127.0.0.1", port, argv[2], argv[3], term(), options);
  if (!ch) {
    std::cerr << "capchan_test_client: " << ch.error().message() << "\n";
    return 3;
  }
  for (int i = 0; i < rpcs; ++i) {
    auto r = ch->rpc(tuple(atom("n"), i), std::chrono::seconds(10));
    if (!r || *r != term(tuple(atom("n"), i))) {
      std::cerr << "capchan_test_client: rpc " << i << " failed\n";
      return 1;
    }
  }
  std::cout << "ready" << std::endl;
  for (std::string line; std::getline(std::cin, line);) {
  }
  ch->close();
  std::cout << "closed " << text::print(ch->close_reason()) << std::endl;
  return 0;
}
