// Plain POSIX file access for the readers and writers in src/io/. Every
// failure throws conv1d::Error with CONV1D_ERROR_IO, the path and strerror.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace conv1d {

[[noreturn]] void io_fail(const std::string& path, const std::string& what, int err);

// A regular file opened read-only, read at explicit offsets.
class InputFile {
 public:
  explicit InputFile(const std::string& path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Reads exactly n bytes at offset; fails with CONV1D_ERROR_PARSE (naming
  // `what`) if the file ends first: a file shorter than its own structure
  // says is malformed, not an I/O failure.
  void read_at(uint64_t offset, void* out, size_t n, const char* what) const;
  std::vector<unsigned char> read_all() const;

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

// Writes bytes to path (created or truncated), checking every step.
void write_file(const std::string& path, const std::vector<unsigned char>& bytes);

}  // namespace conv1d
