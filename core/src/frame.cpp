// Conversion between protocol frames and terms (DESIGN.md §3). from_term is
// strict: the exact tuple shape, binaries of the exact size, integers in range,
// so that the session code never sees a half-valid frame.
#include "capchan/core/frame.hpp"

#include <algorithm>
#include <limits>

#include "capchan/core/etf.hpp"

namespace capchan::frames {
namespace {

template <std::size_t N>
term fixed_binary(const std::array<std::uint8_t, N>& bytes) {
  return term(binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())));
}

template <std::size_t N>
bool read_fixed_binary(const term& t, std::array<std::uint8_t, N>& out) {
  const binary* b = t.as_binary();
  if (!b || b->size() != N) return false;
  std::copy(b->bytes().begin(), b->bytes().end(), out.begin());
  return true;
}

bool read_positive_id(const term& t, std::int64_t& out) {
  const std::int64_t* v = t.as_int64();
  if (!v || *v <= 0) return false;
  out = *v;
  return true;
}

bool read_unsigned(const term& t, std::uint64_t& out) {
  const std::int64_t* v = t.as_int64();
  if (!v || *v < 0) return false;
  out = static_cast<std::uint64_t>(*v);
  return true;
}

std::string describe_shape(const std::vector<term>& e) {
  const atom* tag = e.empty() ? nullptr : e[0].as_atom();
  return tag ? "a malformed " + tag->name + " frame" : "a tuple that is not a frame";
}

}  // namespace

term to_term(frame f) {
  return std::visit(
      [](auto&& v) -> term {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, login>) {
          return tuple(atom("login"), binary::from(v.service));
        } else if constexpr (std::is_same_v<T, challenge>) {
          return tuple(atom("challenge"), fixed_binary(v.salt),
                       tuple(atom("argon2id"), v.ops_limit, v.mem_limit));
        } else if constexpr (std::is_same_v<T, proof>) {
          return tuple(atom("proof"), fixed_binary(v.client_proof), std::move(v.args));
        } else if constexpr (std::is_same_v<T, welcome>) {
          return tuple(atom("welcome"), fixed_binary(v.server_signature));
        } else if constexpr (std::is_same_v<T, cast>) {
          return tuple(atom("cast"), std::move(v.message));
        } else if constexpr (std::is_same_v<T, call>) {
          return tuple(atom("call"), v.id, std::move(v.message));
        } else if constexpr (std::is_same_v<T, reply>) {
          return tuple(atom("reply"), v.id, std::move(v.message));
        } else if constexpr (std::is_same_v<T, fail>) {
          return tuple(atom("fail"), v.id, std::move(v.reason));
        } else {
          return tuple(atom("close"), std::move(v.reason));
        }
      },
      std::move(f));
}

boost::system::result<frame, std::string> from_term(term t) {
  tuple* tu = t.as_tuple();
  if (!tu || tu->elements.empty() || !tu->elements[0].is_atom()) {
    return std::string("a frame must be a tuple tagged with an atom");
  }
  // The tuple is ours: the frame takes its payload without a copy.
  auto& e = tu->elements;
  const std::string& tag = e[0].as_atom()->name;
  const std::size_t n = e.size();
  if (tag == "cast" && n == 2) return frame(cast{std::move(e[1])});
  if ((tag == "call" || tag == "reply" || tag == "fail") && n == 3) {
    std::int64_t id = 0;
    if (!read_positive_id(e[1], id)) return tag + " Id must be a positive integer";
    if (tag == "call") return frame(call{id, std::move(e[2])});
    if (tag == "reply") return frame(reply{id, std::move(e[2])});
    return frame(fail{id, std::move(e[2])});
  }
  if (tag == "close" && n == 2) return frame(close{std::move(e[1])});
  if (tag == "login" && n == 2) {
    const binary* b = e[1].as_binary();
    if (!b) return std::string("login Service must be a binary");
    return frame(login{std::string(b->view())});
  }
  if (tag == "challenge" && n == 3) {
    challenge c;
    const tuple* params = e[2].as_tuple();
    if (!read_fixed_binary(e[1], c.salt) || !params || params->elements.size() != 3 ||
        !params->elements[0].is_atom("argon2id") || !read_unsigned(params->elements[1], c.ops_limit) ||
        !read_unsigned(params->elements[2], c.mem_limit)) {
      return std::string("malformed challenge");
    }
    return frame(c);
  }
  if (tag == "proof" && n == 3) {
    proof p;
    if (!read_fixed_binary(e[1], p.client_proof)) return std::string("proof ClientProof must be a 32-byte binary");
    p.args = std::move(e[2]);
    return frame(std::move(p));
  }
  if (tag == "welcome" && n == 2) {
    welcome w;
    if (!read_fixed_binary(e[1], w.server_signature)) {
      return std::string("welcome ServerSignature must be a 32-byte binary");
    }
    return frame(w);
  }
  return describe_shape(e);
}

void encode_to(std::vector<std::uint8_t>& out, frame f) { etf::encode_to(out, to_term(std::move(f))); }

term protocol_error(std::string_view text) {
  return tuple(atom("protocol_error"), binary::from(text));
}

}  // namespace capchan::frames
