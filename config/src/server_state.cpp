// The pid and reload status files of a running server (server_state.hpp).
#include "capchan/config/server_state.hpp"

#include <charconv>

namespace capchan::config {

std::filesystem::path pid_file_path(const server_config& config) { return config.data_dir / "capchan-server.pid"; }

std::filesystem::path reload_status_path(const server_config& config) {
  return config.data_dir / "capchan-server.reload";
}

std::string format_reload_status(const reload_status& status) {
  std::string out = "generation " + std::to_string(status.generation) + "\n" + (status.ok ? "ok\n" : "failed\n");
  for (const auto& note : status.notes) out += note + "\n";
  return out;
}

std::optional<reload_status> parse_reload_status(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // a status always ends with a newline
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  constexpr std::string_view tag = "generation ";
  if (lines.size() < 2 || !lines[0].starts_with(tag)) return std::nullopt;
  reload_status status;
  const auto number = lines[0].substr(tag.size());
  const auto [ptr, ec] = std::from_chars(number.data(), number.data() + number.size(), status.generation);
  if (ec != std::errc{} || ptr != number.data() + number.size()) return std::nullopt;
  if (lines[1] != "ok" && lines[1] != "failed") return std::nullopt;
  status.ok = lines[1] == "ok";
  for (std::size_t i = 2; i < lines.size(); ++i) status.notes.emplace_back(lines[i]);
  return status;
}

}  // namespace capchan::config
