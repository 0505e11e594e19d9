// Reading and creating the server key file; see key_file.hpp for the format.
#include "capchan/core/crypto/key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace capchan::crypto {
namespace {

constexpr std::string_view key_tag = "capchan-server-key-v1";
constexpr std::string_view header =
    "# capchan server key: X25519 private key, base64. Keep it secret (mode 0600).\n";
// A key file is two short lines; anything much larger is not one.
constexpr std::uintmax_t max_key_file_bytes = 4096;
constexpr int base64_variant = sodium_base64_VARIANT_ORIGINAL;

std::string describe(const std::filesystem::path& path, const std::string& what) {
  return "key file " + path.string() + ": " + what;
}

std::string errno_text() { return std::strerror(errno); }

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

boost::system::result<noise::keypair, std::string> load_key_file(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return describe(path, "cannot read: " + ec.message());
  if (size > max_key_file_bytes) return describe(path, "too large to be a capchan key file");
  std::ifstream in(path);
  std::string line;
  std::optional<std::string> encoded;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (encoded || !line.starts_with(key_tag) || line.size() <= key_tag.size() || line[key_tag.size()] != ' ') {
      return describe(path, "not a capchan key file (expected one line \"" + std::string(key_tag) + " <base64>\")");
    }
    encoded = line.substr(key_tag.size() + 1);
  }
  if (!encoded) return describe(path, "no key line (expected \"" + std::string(key_tag) + " <base64>\")");
  std::array<std::uint8_t, noise::dh_len> raw{};
  std::size_t len = 0;
  const char* end = nullptr;
  const bool ok = sodium_base642bin(raw.data(), raw.size(), encoded->data(), encoded->size(), nullptr, &len,
                                    &end, base64_variant) == 0 &&
                  len == raw.size() && end == encoded->data() + encoded->size();
  sodium_memzero(encoded->data(), encoded->size());
  if (!ok) {
    sodium_memzero(raw.data(), raw.size());
    return describe(path, "the key is not 32 bytes of base64");
  }
  auto pair = noise::keypair::from_private_key(raw);
  sodium_memzero(raw.data(), raw.size());
  return pair;
}

boost::system::result<noise::keypair, std::string> create_key_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return describe(path, "cannot create: " + errno_text());
  auto pair = noise::keypair::generate();
  const auto priv = pair.private_key();
  std::string text(header);
  text += key_tag;
  text += ' ';
  std::string encoded(sodium_base64_ENCODED_LEN(priv.size(), base64_variant), '\0');
  sodium_bin2base64(encoded.data(), encoded.size(), priv.data(), priv.size(), base64_variant);
  encoded.pop_back();  // sodium's terminating NUL
  text += encoded;
  text += '\n';
  const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  const std::string error = ok ? "" : errno_text();
  sodium_memzero(encoded.data(), encoded.size());
  sodium_memzero(text.data(), text.size());
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return describe(path, "cannot write: " + error);
  }
  if (!fsync_dir(path.parent_path())) return describe(path, "cannot sync its folder: " + errno_text());
  return pair;
}

boost::system::result<noise::keypair, std::string> load_or_create_key_file(
    const std::filesystem::path& path, bool& created) {
  created = false;
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return load_key_file(path);
  auto made = create_key_file(path);
  if (made) {
    created = true;
    return made;
  }
  // Another process may have created it between our check and our O_EXCL.
  if (std::filesystem::exists(path, ec)) return load_key_file(path);
  return made;
}

bool readable_by_others(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace capchan::crypto
