// Atomic replacement of a config file under a lock (see config_file.hpp).
// POSIX calls directly: the guarantees (O_EXCL, fsync of the file and of its
// folder, rename over the old file) are the point of this file.
#include "capchan/config/config_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace capchan::config {
namespace {

namespace fs = std::filesystem;

// A config file is a few kilobytes; the loader refuses more than this too.
constexpr off_t max_config_bytes = 4 << 20;

std::string os_error(const std::string& what, const fs::path& path) {
  return what + " '" + path.string() + "': " + std::strerror(errno);
}

// An error for any result<T, std::string>, also where T could be made from a
// string (a path, an aggregate whose first member is one).
struct failed {
  std::string message;
  template <class T>
  operator boost::system::result<T, std::string>() && {
    return {boost::system::in_place_error, std::move(message)};
  }
};

class fd_guard {
 public:
  explicit fd_guard(int fd) : fd_(fd) {}
  ~fd_guard() {
    if (fd_ >= 0) ::close(fd_);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

file_result fsync_folder(const fs::path& file) {
  const fs::path folder = file.has_parent_path() ? file.parent_path() : fs::path(".");
  fd_guard dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0 || ::fsync(dir.get()) != 0) return os_error("cannot fsync the folder", folder);
  return {};
}

// Writes a temporary file beside `path` and returns its name; the caller renames it.
boost::system::result<fs::path, std::string> write_temporary(const fs::path& path, std::string_view text, mode_t mode,
                                                             const struct stat* owner) {
  std::string pattern = (path.parent_path() / ("." + path.filename().string() + ".XXXXXX")).string();
  fd_guard fd(::mkstemp(pattern.data()));
  if (fd.get() < 0) return failed{os_error("cannot create a temporary file beside", path)};
  const fs::path temporary = pattern;
  auto fail = [&](const std::string& what) {
    std::string message = os_error(what, temporary);
    ::unlink(temporary.c_str());
    return message;
  };
  if (::fchmod(fd.get(), mode) != 0) return failed{fail("cannot set the mode of")};
  // Keep the owner when we may (root editing another user's file); otherwise
  // the file becomes ours, as any editor would make it.
  if (owner) [[maybe_unused]] auto ignored = ::fchown(fd.get(), owner->st_uid, owner->st_gid);
  if (!write_all(fd.get(), text)) return failed{fail("cannot write")};
  if (::fsync(fd.get()) != 0) return failed{fail("cannot fsync")};
  if (::close(fd.release()) != 0) return failed{fail("cannot close")};
  return {boost::system::in_place_value, temporary};
}

file_result rename_into_place(const fs::path& temporary, const fs::path& path) {
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string message = os_error("cannot rename a new file over", path);
    ::unlink(temporary.c_str());
    return message;
  }
  return fsync_folder(path);
}

}  // namespace

config_lock::config_lock(const fs::path& config) {
  const fs::path lock = config.string() + ".lock";
  fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) throw std::runtime_error(os_error("cannot open the lock file", lock));
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno == EINTR) continue;
    const std::string message = os_error("cannot lock", lock);
    ::close(fd_);
    throw std::runtime_error(message);
  }
}

config_lock::~config_lock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

boost::system::result<config_file_snapshot, std::string> read_config_file(const fs::path& path) {
  fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return failed{os_error("cannot read", path)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return failed{os_error("cannot stat", path)};
  if (!S_ISREG(st.st_mode)) return failed{"'" + path.string() + "' is not a regular file"};
  if (st.st_size > max_config_bytes) return failed{"'" + path.string() + "' is larger than 4 MiB; is it the config file?"};
  config_file_snapshot snap;
  snap.mode = st.st_mode & 07777;
  snap.owner = st.st_uid;
  snap.group = st.st_gid;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return failed{os_error("cannot read", path)};
    if (n == 0) break;
    snap.text.append(buf, static_cast<std::size_t>(n));
    if (snap.text.size() > static_cast<std::size_t>(max_config_bytes)) {
      return failed{"'" + path.string() + "' is larger than 4 MiB; is it the config file?"};
    }
  }
  return snap;
}

file_result replace_config_file(const fs::path& path, const config_file_snapshot& read, std::string_view text) {
  struct stat owner {};
  owner.st_uid = read.owner;
  owner.st_gid = read.group;
  auto temporary = write_temporary(path, text, read.mode, &owner);
  if (!temporary) return temporary.error();
  // Last look before the rename: an editor that saved meanwhile wins, and we say so.
  auto now = read_config_file(path);
  if (!now || now->text != read.text) {
    ::unlink(temporary->c_str());
    return "'" + path.string() +
           "' changed while it was being edited (another editor?); nothing was written: run the command again";
  }
  return rename_into_place(*temporary, path);
}

file_result write_file_atomically(const fs::path& path, std::string_view text, mode_t mode) {
  auto temporary = write_temporary(path, text, mode, nullptr);
  if (!temporary) return temporary.error();
  return rename_into_place(*temporary, path);
}

file_result create_new_file(const fs::path& path, std::string_view text, mode_t mode) {
  fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) return "'" + path.string() + "' exists already; nothing was overwritten";
    return os_error("cannot create", path);
  }
  if (::fchmod(fd.get(), mode) != 0) return os_error("cannot set the mode of", path);  // umask aside
  if (!write_all(fd.get(), text) || ::fsync(fd.get()) != 0) {
    const std::string message = os_error("cannot write", path);
    ::unlink(path.c_str());
    return message;
  }
  return fsync_folder(path);
}

}  // namespace capchan::config
