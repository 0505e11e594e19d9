// Edits of a server config's text for `capchan config add|passwd|remove`
// (DESIGN.md §6). The file is never re-serialised: each edit parses the
// text with toml++, finds the places to change from the source regions of
// the nodes involved, and splices new text there, so a person's comments,
// blank lines, key order and spelling stay as they were.
//
//   add     appends a [[service]] block at the end of the file
//   passwd  replaces the value of `verifier` (or the `password = ...` pair
//           with `verifier = ...`), dropping argon2id_ops/argon2id_mem, which
//           only apply to a plaintext password
//   remove  deletes the service's lines from its header to its last value,
//           with the comment lines directly above the header
//
// Services written as inline tables (`service = [{ ... }]`) are refused:
// they are one line for several services, and editing them is for a person.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace capchan::config {

// What `capchan config list` shows of a service: never a secret.
struct service_listing {
  std::string name;
  std::string handler;
  std::string secret_kind;  // "verifier", "plaintext" or "none"
  std::size_t line = 0;     // its [[service]] header
};

struct new_service {
  std::string name;
  std::string handler;
  std::string verifier;   // a verifier string (verifier.hpp)
  std::string args_toml;  // a TOML value as the user wrote it, or empty for no args
};

using edit_result = boost::system::result<void, std::string>;

class config_text {
 public:
  // Fails when the text is not TOML (the message has the line).
  static boost::system::result<config_text, std::string> parse(std::string text, const std::filesystem::path& path);

  const std::string& text() const { return text_; }
  std::vector<service_listing> services() const;
  bool has_service(std::string_view name) const;

  edit_result add_service(const new_service& service);
  edit_result set_verifier(std::string_view name, std::string_view verifier);
  edit_result remove_service(std::string_view name);

 private:
  config_text(std::string text, std::filesystem::path path) : text_(std::move(text)), path_(std::move(path)) {}
  edit_result reparse();
  // Takes `text` if it parses; otherwise keeps the old text.
  edit_result replace_text(std::string text);

  std::string text_;
  std::filesystem::path path_;
};

// A TOML basic string ("...") holding `text` exactly.
std::string toml_quote(std::string_view text);

// Checks that `value` is one TOML value usable as a service's args; the
// error says what is wrong with it.
edit_result check_args_toml(std::string_view value);

}  // namespace capchan::config
