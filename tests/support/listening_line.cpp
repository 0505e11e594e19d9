// See listening_line.hpp.
#include "listening_line.hpp"

#include <charconv>
#include <stdexcept>
#include <string_view>

namespace capchan::test {

listening_line parse_listening_line(const std::string& line) {
  constexpr std::string_view prefix = "capchan-server listening on ";
  const auto refuse = [&] {
    return std::runtime_error("capchan-server printed '" + line + "', not its listening line");
  };
  if (!line.starts_with(prefix)) throw refuse();
  const std::string_view rest = std::string_view(line).substr(prefix.size());
  const auto key_at = rest.find(" key ");
  if (key_at == std::string_view::npos) throw refuse();
  const std::string_view where = rest.substr(0, key_at);
  const auto colon = where.rfind(':');
  if (colon == std::string_view::npos) throw refuse();
  listening_line out;
  out.host = std::string(where.substr(0, colon));
  const std::string_view port = where.substr(colon + 1);
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), out.port);
  if (ec != std::errc() || end != port.data() + port.size() || out.port == 0) throw refuse();
  out.fingerprint = std::string(rest.substr(key_at + 5));
  if (!out.fingerprint.starts_with("SHA256:") || out.fingerprint.find(' ') != std::string::npos) throw refuse();
  return out;
}

listening_line read_listening_line(child_process& server, const std::string& what,
                                   std::chrono::milliseconds limit) {
  const auto line = server.read_line(limit);
  if (!line) throw std::runtime_error(what + " printed no listening line (see its log)");
  return parse_listening_line(*line);
}

}  // namespace capchan::test
