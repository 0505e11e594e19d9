// See json.hpp for the mapping. Recursive, with the depth checked before
// every descent, so the stack stays bounded whatever term it is handed.
#include "json.hpp"

#include <sodium.h>

#include <charconv>
#include <span>
#include <string_view>

#include "capchan/core/text.hpp"
#include "capchan/core/utf8.hpp"

namespace capchan::cli {
namespace {

// JSON's two-character escapes, or null.
const char* short_escape(unsigned char c) {
  // clang-format off
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: return nullptr;
  }
  // clang-format on
}

void append_string(std::string& out, std::string_view utf8_text) {
  static constexpr char digits[] = "0123456789abcdef";
  out += '"';
  for (const char ch : utf8_text) {
    const auto c = static_cast<unsigned char>(ch);
    if (const char* escape = short_escape(c)) {
      out += escape;
    } else if (c < 0x20 || c == 0x7f) {  // other control characters: \u00XX
      out += "\\u00";
      out += digits[c >> 4];
      out += digits[c & 15];
    } else {
      out += ch;
    }
  }
  out += '"';
}

void append_base64(std::string& out, std::span<const std::uint8_t> bytes) {
  std::string encoded(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL),
                      '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), bytes.data(), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  encoded.resize(encoded.size() - 1);  // the terminating NUL
  append_string(out, encoded);
}

// `{"Tag": ` ... `}` around whatever `body` appends.
template <class Body>
void tagged(std::string& out, std::string_view tag, Body body) {
  out += "{\"";
  out += tag;
  out += "\":";
  body();
  out += '}';
}

// Whether erl's ~tp prints this list as a string. Only lists of integers can
// be, and printing one of those costs no more than the list itself, so the
// core printer (the one authority on printability) decides.
bool prints_as_string(const term& t, const list& l) {
  if (l.empty() || !l.is_proper()) return false;
  for (const term& e : l.elements()) {
    if (!e.is_integer()) return false;
  }
  return text::print(t).starts_with('"');
}

class writer {
 public:
  explicit writer(std::size_t max_depth) : max_depth_(max_depth) {}

  bool write(const term& t, std::size_t depth) {
    if (depth > max_depth_) return false;
    switch (t.kind()) {
      case term_kind::integer:
        if (const auto* small = t.as_int64()) {
          out += std::to_string(*small);
        } else {
          out += t.as_big_integer()->to_decimal();
        }
        return true;
      case term_kind::floating: {
        char buffer[32];
        const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, *t.as_double());
        (void)ec;  // 32 bytes hold the shortest form of any double
        tagged(out, "float", [&] { out.append(buffer, end); });
        return true;
      }
      case term_kind::atom:
        tagged(out, "atom", [&] { append_string(out, t.as_atom()->name); });
        return true;
      case term_kind::binary: {
        const binary& b = *t.as_binary();
        if (utf8::valid(b.view())) {
          tagged(out, "binary", [&] { append_string(out, b.view()); });
        } else {
          tagged(out, "base64", [&] { append_base64(out, b.bytes()); });
        }
        return true;
      }
      case term_kind::list:
        return write_list(t, *t.as_list(), depth);
      case term_kind::tuple: {
        bool ok = true;
        tagged(out, "tuple", [&] { ok = write_array(t.as_tuple()->elements, depth); });
        return ok;
      }
      case term_kind::map: {
        bool ok = true;
        tagged(out, "map", [&] {
          out += '[';
          bool first = true;
          for (const auto& [key, value] : t.as_map()->entries()) {
            if (!first) out += ',';
            first = false;
            out += '[';
            ok = ok && write(key, depth + 1);
            out += ',';
            ok = ok && write(value, depth + 1);
            out += ']';
          }
          out += ']';
        });
        return ok;
      }
    }
    return false;
  }

  std::string out;

 private:
  bool write_list(const term& t, const list& l, std::size_t depth) {
    if (prints_as_string(t, l)) {
      tagged(out, "string", [&] { append_string(out, *t.as_charlist()); });
      return true;
    }
    if (l.is_proper()) return write_array(l.elements(), depth);
    bool ok = true;
    tagged(out, "improper_list", [&] {
      out += '[';
      for (const term& e : l.elements()) {
        ok = ok && write(e, depth + 1);
        out += ',';
      }
      ok = ok && write(*l.tail(), depth + 1);
      out += ']';
    });
    return ok;
  }

  bool write_array(std::span<const term> items, std::size_t depth) {
    out += '[';
    bool first = true;
    for (const term& e : items) {
      if (!first) out += ',';
      first = false;
      if (!write(e, depth + 1)) return false;
    }
    out += ']';
    return true;
  }

  std::size_t max_depth_;
};

}  // namespace

checked<std::string> to_json(const term& t, std::size_t max_depth) {
  writer w(max_depth);
  if (!w.write(t, 1)) {
    return problem{"the term is nested more than " + std::to_string(max_depth) +
                   " deep; --json refuses it (print it without --json)"};
  }
  return {boost::system::in_place_value, std::move(w.out)};
}

}  // namespace capchan::cli
