// Text edits of a config at the places toml++'s source regions name (see
// config_edit.hpp). Regions are 1-based line:column pairs with an exclusive
// end; a column counts code points, so offsets are found by walking UTF-8.
#include "capchan/config/config_edit.hpp"

#include <algorithm>
#include <cstdio>

#include <toml++/toml.h>

#include "capchan/config/toml_term.hpp"

namespace capchan::config {
namespace {

struct splice {
  std::size_t begin = 0;  // byte offsets into the text
  std::size_t end = 0;
  std::string replacement;
};

// Byte offsets of the text's lines, for turning regions into offsets.
class line_index {
 public:
  explicit line_index(std::string_view text) : text_(text) {
    starts_.push_back(0);
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '\n') starts_.push_back(i + 1);
    }
  }
  std::size_t lines() const { return starts_.size(); }
  // The start of 1-based `line`; the text's end past the last line.
  std::size_t line_start(std::size_t line) const {
    return line >= 1 && line <= starts_.size() ? starts_[line - 1] : text_.size();
  }
  std::string_view line_text(std::size_t line) const {
    const auto begin = line_start(line);
    auto end = line_start(line + 1);
    return text_.substr(begin, end - begin);
  }
  std::size_t offset(const toml::source_position& pos) const {
    std::size_t at = line_start(pos.line);
    for (std::size_t col = 1; col < pos.column && at < text_.size() && text_[at] != '\n'; ++col) {
      ++at;
      while (at < text_.size() && (static_cast<unsigned char>(text_[at]) & 0xC0) == 0x80) ++at;
    }
    return at;
  }

 private:
  std::string_view text_;
  std::vector<std::size_t> starts_;
};

bool blank_or_comment(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos || s[first] == '#';
}

bool blank(std::string_view s) { return s.find_first_not_of(" \t\r\n") == std::string_view::npos; }

std::size_t last_line_of(const toml::node& node) {
  std::size_t last = node.source().end.line;
  if (const auto* t = node.as_table()) {
    for (const auto& [key, value] : *t) {
      last = std::max<std::size_t>({last, key.source().end.line, last_line_of(value)});
    }
  } else if (const auto* a = node.as_array()) {
    for (const auto& v : *a) last = std::max(last, last_line_of(v));
  }
  return last;
}

std::string apply(std::string text, std::vector<splice> edits) {
  std::sort(edits.begin(), edits.end(), [](const splice& a, const splice& b) { return a.begin > b.begin; });
  for (const auto& e : edits) text.replace(e.begin, e.end - e.begin, e.replacement);
  return text;
}

using table_result = boost::system::result<toml::table, std::string>;

table_result parse_toml(std::string_view text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    return file + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
  }
}

// The [[service]] table named `name`, or an error a person can act on.
boost::system::result<const toml::table*, std::string> find_service(const toml::table& root, std::string_view name) {
  const auto* services = root["service"].as_array();
  if (services) {
    for (const auto& node : *services) {
      const auto* t = node.as_table();
      if (!t) continue;
      const auto* n = (*t)["name"].as_string();
      if (!n || n->get() != name) continue;
      if (t->is_inline()) {
        return std::string("service \"") + std::string(name) +
               "\" is written as an inline table; edit that line by hand";
      }
      return t;
    }
  }
  return std::string("no service named \"") + std::string(name) + "\"";
}

// Parses `text` into `root` and finds the service `name` in it.
boost::system::result<const toml::table*, std::string> locate_service(std::string_view text, const std::string& file,
                                                                      std::string_view name, toml::table& root) {
  auto parsed = parse_toml(text, file);
  if (!parsed) return parsed.error();
  root = std::move(*parsed);
  return find_service(root, name);
}

}  // namespace

std::string toml_quote(std::string_view text) {
  std::string out = "\"";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04X", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

edit_result check_args_toml(std::string_view value) {
  const std::string doc = "args = " + std::string(value) + "\n";
  auto root = parse_toml(doc, "--args");
  if (!root) return "not a TOML value (" + root.error() + "); write e.g. '{ path = \"names.db\" }'";
  if (root->size() != 1 || !root->contains("args")) return std::string("give exactly one TOML value");
  auto t = toml_to_term(*root->get("args"));
  if (!t) return "cannot be a term: " + t.error();
  return {};
}

boost::system::result<config_text, std::string> config_text::parse(std::string text,
                                                                   const std::filesystem::path& path) {
  config_text c(std::move(text), path);
  if (auto r = c.reparse(); !r) return r.error();
  return c;
}

edit_result config_text::reparse() {
  auto root = parse_toml(text_, path_.string());
  if (!root) return root.error();
  return {};
}

edit_result config_text::replace_text(std::string text) {
  std::swap(text, text_);
  if (auto r = reparse(); !r) {
    text_ = std::move(text);  // the text before the edit
    return "the edit would not parse (a bug: please report it): " + r.error();
  }
  return {};
}

std::vector<service_listing> config_text::services() const {
  std::vector<service_listing> out;
  auto root = parse_toml(text_, path_.string());
  if (!root) return out;
  const auto* services = (*root)["service"].as_array();
  if (!services) return out;
  for (const auto& node : *services) {
    const auto* t = node.as_table();
    if (!t) continue;
    service_listing s;
    s.name = (*t)["name"].value_or(std::string());
    s.handler = (*t)["handler"].value_or(std::string());
    s.secret_kind = t->contains("verifier") ? "verifier" : t->contains("password") ? "plaintext" : "none";
    s.line = t->source().begin.line;
    out.push_back(std::move(s));
  }
  return out;
}

bool config_text::has_service(std::string_view name) const {
  const auto all = services();
  return std::any_of(all.begin(), all.end(), [&](const service_listing& s) { return s.name == name; });
}

edit_result config_text::add_service(const new_service& s) {
  if (has_service(s.name)) {
    return "a service named \"" + s.name + "\" exists already; change its password with `capchan config passwd`";
  }
  if (!s.args_toml.empty()) {
    if (auto r = check_args_toml(s.args_toml); !r) return "--args: " + r.error();
  }
  std::string block = "[[service]]\nname = " + toml_quote(s.name) + "\nhandler = " + toml_quote(s.handler) +
                      "\nverifier = " + toml_quote(s.verifier) + "\n";
  if (!s.args_toml.empty()) block += "args = " + s.args_toml + "\n";
  std::string text = text_;
  if (!text.empty() && text.back() != '\n') text += '\n';
  // One blank line between the last thing in the file and the new block.
  if (!text.empty()) {
    const auto previous_end = text.size() >= 2 ? text.find_last_of('\n', text.size() - 2) : std::string::npos;
    const auto last_line = previous_end == std::string::npos ? 0 : previous_end + 1;
    if (!blank(std::string_view(text).substr(last_line))) text += '\n';
  }
  text += block;
  return replace_text(std::move(text));
}

edit_result config_text::set_verifier(std::string_view name, std::string_view verifier) {
  toml::table root;
  auto found = locate_service(text_, path_.string(), name, root);
  if (!found) return found.error();
  const toml::table& table = **found;
  const line_index lines(text_);
  std::vector<splice> edits;
  const std::string quoted = toml_quote(verifier);
  for (const auto& [key, value] : table) {
    const auto& k = key.str();
    if (k == "verifier") {
      edits.push_back({lines.offset(value.source().begin), lines.offset(value.source().end), quoted});
    } else if (k == "password") {
      // The pair becomes `verifier = "..."`; a comment after it stays.
      edits.push_back({lines.offset(key.source().begin), lines.offset(value.source().end), "verifier = " + quoted});
    } else if (k == "argon2id_ops" || k == "argon2id_mem") {
      const std::size_t first = key.source().begin.line, last = value.source().end.line;
      const auto begin = lines.line_start(first);
      const auto key_at = lines.offset(key.source().begin);
      const auto value_end = lines.offset(value.source().end);
      const auto end = lines.line_start(last + 1);
      if (!blank(std::string_view(text_).substr(begin, key_at - begin)) ||
          !blank_or_comment(std::string_view(text_).substr(value_end, end - value_end))) {
        return std::string(k) + " shares its line with other keys; edit that line by hand";
      }
      edits.push_back({begin, end, ""});
    }
  }
  if (!table.contains("verifier") && !table.contains("password")) {
    // Neither (an invalid service): the verifier goes right after the header.
    const auto at = lines.line_start(table.source().begin.line + 1);
    edits.push_back({at, at, "verifier = " + quoted + "\n"});
  }
  return replace_text(apply(text_, std::move(edits)));
}

edit_result config_text::remove_service(std::string_view name) {
  toml::table root;
  auto found = locate_service(text_, path_.string(), name, root);
  if (!found) return found.error();
  const toml::table& table = **found;
  const line_index lines(text_);
  std::size_t first = table.source().begin.line;
  const std::size_t last = last_line_of(table);
  // Comment lines right above the header describe this service.
  while (first > 1) {
    const auto above = lines.line_text(first - 1);
    if (blank(above) || !blank_or_comment(above)) break;
    --first;
  }
  std::size_t end_line = last + 1;
  // Do not leave two blank lines where the block was.
  const bool blank_before = first == 1 || blank(lines.line_text(first - 1));
  if (blank_before && end_line <= lines.lines() && blank(lines.line_text(end_line)) &&
      lines.line_start(end_line) < text_.size()) {
    ++end_line;
  }
  return replace_text(apply(text_, {{lines.line_start(first), lines.line_start(end_line), ""}}));
}

}  // namespace capchan::config
