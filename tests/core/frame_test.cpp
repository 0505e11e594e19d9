// Protocol frames (DESIGN.md §3): each converts to the documented term and
// back, and malformed frames are refused with a text fit for protocol_error.
#include <catch2/catch.hpp>

#include "capchan/core/etf.hpp"
#include "capchan/core/frame.hpp"

using namespace capchan;

namespace {

frames::frame round_trip(frames::frame f) {
  auto back = frames::from_term(frames::to_term(std::move(f)));
  REQUIRE(back.has_value());
  return std::move(*back);
}

std::string refusal(term t) {
  auto r = frames::from_term(std::move(t));
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

term bytes(std::size_t n, std::uint8_t fill = 7) { return binary(std::vector<std::uint8_t>(n, fill)); }

}  // namespace

TEST_CASE("frames are the terms DESIGN.md §3 lists", "[frame]") {
  CHECK(frames::to_term(frames::login{"nameServer"}) == tuple(atom("login"), binary::from("nameServer")));
  frames::challenge c;
  c.salt.fill(1);
  c.ops_limit = 2;
  c.mem_limit = 67108864;
  CHECK(frames::to_term(c) == tuple(atom("challenge"), bytes(16, 1), tuple(atom("argon2id"), 2, 67108864)));
  CHECK(frames::to_term(frames::call{7, atom("ping")}) == tuple(atom("call"), 7, atom("ping")));
  CHECK(frames::to_term(frames::close{atom("normal")}) == tuple(atom("close"), atom("normal")));
  CHECK(frames::protocol_error("bad") == tuple(atom("protocol_error"), binary::from("bad")));

  std::vector<std::uint8_t> out;
  frames::encode_to(out, frames::cast{tuple(atom("lookup"), atom("joe"))});
  CHECK(out == etf::encode(tuple(atom("cast"), tuple(atom("lookup"), atom("joe")))));
}

TEST_CASE("every frame survives a round trip", "[frame]") {
  const auto login = std::get<frames::login>(round_trip(frames::login{"svc"}));
  CHECK(login.service == "svc");
  frames::proof p;
  p.client_proof.fill(9);
  p.args = list{atom("x")};
  const auto proof = std::get<frames::proof>(round_trip(p));
  CHECK(proof.client_proof == p.client_proof);
  CHECK(proof.args == p.args);
  frames::welcome w;
  w.server_signature.fill(3);
  CHECK(std::get<frames::welcome>(round_trip(w)).server_signature == w.server_signature);
  CHECK(std::get<frames::cast>(round_trip(frames::cast{charlist("hi")})).message == charlist("hi"));
  const auto r = std::get<frames::reply>(round_trip(frames::reply{42, atom("undefined")}));
  CHECK(r.id == 42);
  CHECK(r.message == term(atom("undefined")));
  CHECK(std::get<frames::fail>(round_trip(frames::fail{1, atom("no_reply")})).reason == term(atom("no_reply")));
  frames::challenge c;
  c.salt.fill(5);
  c.ops_limit = 3;
  c.mem_limit = 8192;
  const auto c2 = std::get<frames::challenge>(round_trip(c));
  CHECK((c2.salt == c.salt && c2.ops_limit == 3 && c2.mem_limit == 8192));
}

TEST_CASE("malformed frames are refused with a reason", "[frame]") {
  CHECK(refusal(atom("cast")) == "a frame must be a tuple tagged with an atom");
  CHECK(refusal(tuple(1, 2)) == "a frame must be a tuple tagged with an atom");
  CHECK(refusal(tuple(atom("cast"), 1, 2)) == "a malformed cast frame");
  CHECK(refusal(tuple(atom("hello"), 1)) == "a malformed hello frame");
  CHECK(refusal(tuple(atom("call"), 0, atom("x"))) == "call Id must be a positive integer");
  CHECK(refusal(tuple(atom("call"), -1, atom("x"))) == "call Id must be a positive integer");
  CHECK(refusal(tuple(atom("call"), 1.0, atom("x"))) == "call Id must be a positive integer");
  CHECK(refusal(tuple(atom("call"), *make_integer("99999999999999999999"), atom("x"))) ==
        "call Id must be a positive integer");
  CHECK(refusal(tuple(atom("login"), atom("svc"))) == "login Service must be a binary");
  CHECK(refusal(tuple(atom("proof"), bytes(31), list{})) == "proof ClientProof must be a 32-byte binary");
  CHECK(refusal(tuple(atom("welcome"), bytes(33))) == "welcome ServerSignature must be a 32-byte binary");
  CHECK(refusal(tuple(atom("challenge"), bytes(16), tuple(atom("scrypt"), 1, 1))) == "malformed challenge");
  CHECK(refusal(tuple(atom("challenge"), bytes(16), tuple(atom("argon2id"), -1, 1))) == "malformed challenge");
}
