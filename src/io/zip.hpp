// A minimal reader of ZIP archives (a .keras file is one): the central
// directory, zip64 records, and entries that are stored or, when zlib is
// built in, deflated. Every entry read is checked against its CRC-32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "io/file.hpp"

namespace conv1d {

struct ZipEntry {
  std::string name;
  uint16_t flags = 0;
  uint16_t method = 0;  // 0 stored, 8 deflated, ...
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;
  uint64_t local_header_offset = 0;
};

// True if the bytes start like a ZIP archive (a local file header, or the
// end record of an empty archive).
bool looks_like_zip(const unsigned char* bytes, size_t n);

class ZipArchive {
 public:
  // Reads the central directory; a malformed one gives CONV1D_ERROR_PARSE.
  explicit ZipArchive(const InputFile& file);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  // The entry's uncompressed bytes. Compression methods other than stored
  // (and deflated with zlib), and encrypted entries, give
  // CONV1D_ERROR_UNSUPPORTED; a CRC mismatch CONV1D_ERROR_PARSE.
  std::vector<unsigned char> read(const ZipEntry& entry) const;

 private:
  const InputFile& file_;
  uint64_t shift_ = 0;  // bytes prepended to the archive (self-extractors)
  std::vector<ZipEntry> entries_;
};

uint32_t crc32_of(const unsigned char* data, size_t n);

// Whether this build can read deflated entries (zlib was found).
bool zip_has_deflate();

}  // namespace conv1d
