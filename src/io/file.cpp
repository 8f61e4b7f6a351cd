#include "io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"

namespace conv1d {

void io_fail(const std::string& path, const std::string& what, int err) {
  fail(CONV1D_ERROR_IO, "cannot " + what + " '" + path + "': " + std::strerror(err));
}

InputFile::InputFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) io_fail(path, "open", errno);
  struct stat st;
  if (::fstat(fd_, &st) != 0) {
    const int err = errno;
    ::close(fd_);
    io_fail(path, "stat", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    io_fail(path, "read", EISDIR);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    fail(CONV1D_ERROR_IO, "cannot read '" + path + "': not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_at(uint64_t offset, void* out, size_t n, const char* what) const {
  if (offset > size_ || n > size_ - offset) {
    fail(CONV1D_ERROR_PARSE, "'" + path_ + "' is truncated or corrupt: " + what + " needs bytes " +
                                 std::to_string(offset) + ".." + std::to_string(offset + n) + " but the file has " +
                                 std::to_string(size_));
  }
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    const ssize_t got = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      io_fail(path_, "read", errno);
    }
    if (got == 0) fail(CONV1D_ERROR_IO, "cannot read '" + path_ + "': it became shorter while being read");
    p += got;
    n -= static_cast<size_t>(got);
    offset += static_cast<uint64_t>(got);
  }
}

std::vector<unsigned char> InputFile::read_all() const {
  if (size_ > SIZE_MAX) fail(CONV1D_ERROR_SIZE_OVERFLOW, "'" + path_ + "' is too large to read into memory");
  std::vector<unsigned char> bytes(static_cast<size_t>(size_));
  read_at(0, bytes.data(), bytes.size(), "the file");
  return bytes;
}

void write_file(const std::string& path, const std::vector<unsigned char>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) io_fail(path, "create", errno);
  const unsigned char* p = bytes.data();
  size_t n = bytes.size();
  while (n > 0) {
    const ssize_t put = ::write(fd, p, n);
    if (put < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      io_fail(path, "write", err);
    }
    p += put;
    n -= static_cast<size_t>(put);
  }
  if (::close(fd) != 0) io_fail(path, "write", errno);
}

}  // namespace conv1d
