// A minimal capchan server for the client tests, written from the crypto and
// frame APIs only (it stands in for server/ until end-to-end tests exist):
// WebSocket accept on 127.0.0.1:0 with the capchan.v1 subprotocol, Noise NX
// as responder, the password proof's server side, then a scripted channel.
//
// Channel script (calls are answered in order, on one coroutine per connection):
//   any call X            -> {reply, Id, X}              (echo)
//   hold                  -> no reply yet; remembered
//   release               -> {reply, Held, held} and {reply, Id, released}, in one message
//   {fail, R}             -> {fail, Id, R}
//   {push, N}             -> N x {cast, {push, I}} and the reply ok, in one message
//   {push_each, N}        -> N messages of one {cast, {push, I}}, then the reply ok
//   {close, R}            -> {close, R}, then the WebSocket close
//   drop                  -> closes the TCP socket, no close frame
//   stall                 -> stops reading (and answering pings) for good
//   args                  -> {reply, Id, ArgsC}
//   bad_id                -> {reply, 1000000, oops} (an Id never sent)
//   garbage               -> a transport message whose plaintext is not ETF
//   cast {push_back, X}   -> {cast, X}
//   {close, normal} from the client -> the WebSocket close
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "capchan/core/crypto/noise.hpp"
#include "capchan/core/crypto/password_proof.hpp"

namespace capchan::test {

struct responder_options {
  std::string service = "svc";
  std::string password = "secret";
  bool refuse_upgrade = false;      // answer 400, as to an upgrade without capchan.v1
  bool answer_subprotocol = true;   // else leave it out of the 101 response
  bool forge_welcome = false;       // a server that does not know the password
  bool stall = false;               // accept TCP and the upgrade, then say nothing
};

class test_responder {
 public:
  explicit test_responder(responder_options options = {});
  ~test_responder();
  test_responder(const test_responder&) = delete;
  test_responder& operator=(const test_responder&) = delete;

  std::uint16_t port() const { return port_; }
  std::string fingerprint() const;
  // Successful logins so far.
  int logins() const { return logins_.load(); }

 private:
  struct session;
  void accept();

  responder_options options_;
  crypto::noise::keypair key_;
  crypto::password_verifier verifier_;
  boost::asio::io_context context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::atomic<int> logins_{0};
  std::thread thread_;
};

// A port on 127.0.0.1 where nothing listens (bound, then released).
std::uint16_t unused_port();

}  // namespace capchan::test
