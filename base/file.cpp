#include "base/file.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vellum {
namespace {

status from_errno(int err, std::string_view what, const std::string& path) {
  return {boost::system::error_code(err, boost::system::generic_category()),
          std::string(what) + " " + path + ": " + std::strerror(err)};
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return from_errno(errno, "cannot read", path);
  std::string out;
  std::array<char, 8192> buf{};
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return from_errno(err, "cannot read", path);
    }
    if (n == 0) break;
    out.append(buf.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

result<void> fsync_directory(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return from_errno(errno, "cannot open directory", dir);
  const bool ok = ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok) return from_errno(err, "cannot fsync directory", dir);
  return {};
}

result<void> write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  const std::filesystem::path target(path);
  // (Built from a path, not assigned from a literal: GCC 12's -Wrestrict
  // misfires on `dir = "."` at -O3.)
  const std::string dir =
      target.has_parent_path() ? target.parent_path().string() : std::string(1, '.');
  std::string temp = path + ".tmp.XXXXXX";
  const int fd = ::mkstemp(temp.data());
  if (fd < 0) return from_errno(errno, "cannot create a file beside", path);
  const bool written = write_all(fd, data) && ::fsync(fd) == 0 &&
                       ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
  int err = errno;
  const bool closed = ::close(fd) == 0;
  if (written && !closed) err = errno;
  if (!written || !closed) {
    ::unlink(temp.c_str());
    return from_errno(err, "cannot write", path);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    err = errno;
    ::unlink(temp.c_str());
    return from_errno(err, "cannot rename a temporary file to", path);
  }
  return fsync_directory(dir);
}

}  // namespace vellum
