#include "net/secret_file.hpp"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace boxoffice::net {

namespace {

std::string errno_text(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

bool write_all(int fd, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

SecretResult load(const std::string& path, int fd) {
  SecretResult r;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    r.error = errno_text("cannot stat", path);
    return r;
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    r.error = path + " may be read by group or others (mode " + mode + "); chmod 600 it";
    return r;
  }
  if (st.st_size != static_cast<off_t>(token_secret_bytes)) {
    r.error = path + " is not a " + std::to_string(token_secret_bytes) + "-byte secret";
    return r;
  }
  size_t got = 0;
  while (got < token_secret_bytes) {
    const ssize_t n = ::read(fd, r.secret.data() + got, token_secret_bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.error = errno_text("cannot read", path);
      return r;
    }
    got += static_cast<size_t>(n);
  }
  return r;
}

SecretResult create(const std::string& dir, const std::string& path) {
  SecretResult r;
  if (RAND_bytes(r.secret.data(), static_cast<int>(r.secret.size())) != 1) {
    r.error = "the random number generator failed";
    return r;
  }
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    r.error = errno_text("cannot create", tmp);
    return r;
  }
  const bool written = write_all(fd, r.secret.data(), r.secret.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(tmp.c_str(), path.c_str()) != 0) {
    r.error = errno_text("cannot write", path);
    ::unlink(tmp.c_str());
    return r;
  }
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0 || ::fsync(dir_fd) != 0) {
    r.error = errno_text("cannot sync", dir);
    if (dir_fd >= 0) ::close(dir_fd);
    return r;
  }
  ::close(dir_fd);
  r.created = true;
  return r;
}

}  // namespace

SecretResult load_or_create_secret(const std::string& dir) {
  const std::string path = dir + "/" + secret_file_name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    SecretResult r = load(path, fd);
    ::close(fd);
    return r;
  }
  if (errno != ENOENT) {
    SecretResult r;
    r.error = errno_text("cannot open", path);
    return r;
  }
  return create(dir, path);
}

}  // namespace boxoffice::net
