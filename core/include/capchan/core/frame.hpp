// The frames of capchan's wire protocol v1 (DESIGN.md §3): typed C++ values
// for the Erlang terms that travel inside the encrypted channel, and strict
// conversion from terms (anything else is a protocol error with a text that
// can go back to the peer in `{close, {protocol_error, Text}}`).
//
// Login phase:
//   C→S {login, Service::binary}
//   S→C {challenge, Salt::binary(16), {argon2id, OpsLimit, MemLimit}}
//   C→S {proof, ClientProof::binary(32), ArgsC::term}
//   S→C {welcome, ServerSignature::binary(32)}  |  {close, auth_failed}
// Channel phase:
//   {cast, Msg}  {call, Id, Msg}  {reply, Id, Msg}  {fail, Id, Reason}  {close, Reason}
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include <boost/system/result.hpp>

#include "capchan/core/term.hpp"

namespace capchan::frames {

struct login {
  std::string service;  // the bytes of the binary, not necessarily UTF-8
};
struct challenge {
  std::array<std::uint8_t, 16> salt{};
  std::uint64_t ops_limit = 0;
  std::uint64_t mem_limit = 0;  // bytes
};
struct proof {
  std::array<std::uint8_t, 32> client_proof{};
  term args;  // ArgsC; [] when the client gives none
};
struct welcome {
  std::array<std::uint8_t, 32> server_signature{};
};
struct cast {
  term message;
};
// Id is a positive integer that fits int64; the client picks it, unique among
// its calls in flight.
struct call {
  std::int64_t id = 0;
  term message;
};
struct reply {
  std::int64_t id = 0;
  term message;
};
struct fail {
  std::int64_t id = 0;
  term reason;  // no_reply | {handler_error, Text} | overload | ...
};
struct close {
  term reason;  // normal | {shutdown, Why} | {protocol_error, Text} | auth_failed | ...
};

using frame = std::variant<login, challenge, proof, welcome, cast, call, reply, fail, close>;

term to_term(frame f);

// The frame a term is, or the reason it is none (for {protocol_error, Text}).
boost::system::result<frame, std::string> from_term(term t);

// Appends the frame's ETF encoding (version byte included).
void encode_to(std::vector<std::uint8_t>& out, frame f);

// `{protocol_error, <<Text>>}`, the close reason for a peer that broke the protocol.
term protocol_error(std::string_view text);

}  // namespace capchan::frames
