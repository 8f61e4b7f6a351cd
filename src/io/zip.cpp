#include "io/zip.hpp"

#include <algorithm>
#include <cstring>

#include "error.hpp"

#if defined(CONV1D_HAVE_ZLIB)
#include <zlib.h>
#endif

namespace conv1d {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEnd = 0x06054b50;
constexpr uint32_t kEnd64 = 0x06064b50;
constexpr uint32_t kEnd64Locator = 0x07064b50;

uint64_t le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

const char* method_name(uint16_t m) {
  switch (m) {
    case 1:
      return "shrunk";
    case 6:
      return "imploded";
    case 8:
      return "deflate";
    case 9:
      return "deflate64";
    case 12:
      return "bzip2";
    case 14:
      return "lzma";
    case 93:
      return "zstd";
    case 95:
      return "xz";
    case 98:
      return "ppmd";
    default:
      return "unknown";
  }
}

}  // namespace

bool looks_like_zip(const unsigned char* bytes, size_t n) {
  if (n < 4) return false;
  const uint32_t sig = static_cast<uint32_t>(le(bytes, 4));
  return sig == kLocalHeader || sig == kEnd;
}

uint32_t crc32_of(const unsigned char* data, size_t n) {
  static const auto table = [] {
    std::vector<uint32_t> t(256);
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = table[(c ^ data[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool zip_has_deflate() {
#if defined(CONV1D_HAVE_ZLIB)
  return true;
#else
  return false;
#endif
}

ZipArchive::ZipArchive(const InputFile& file) : file_(file) {
  const std::string& path = file.path();
  auto bad = [&](const std::string& why) -> void {
    fail(CONV1D_ERROR_PARSE, "'" + path + "' is not a valid ZIP archive: " + why);
  };
  // The end-of-central-directory record is the last 22 bytes plus a comment
  // of at most 65535 bytes: search backwards for its signature.
  const uint64_t size = file.size();
  if (size < 22) bad("it is too short to hold an end-of-central-directory record");
  const uint64_t tail_len = std::min<uint64_t>(size, 22 + 65535);
  std::vector<unsigned char> tail(static_cast<size_t>(tail_len));
  file.read_at(size - tail_len, tail.data(), tail.size(), "the end-of-central-directory record");
  size_t at = tail.size();
  bool found = false;
  for (size_t i = tail.size() - 22 + 1; i-- > 0;) {
    if (le(&tail[i], 4) == kEnd && i + 22 + le(&tail[i + 20], 2) <= tail.size()) {
      at = i;
      found = true;
      break;
    }
  }
  if (!found) bad("no end-of-central-directory record (truncated or not a ZIP file)");
  const unsigned char* end = &tail[at];
  const uint64_t end_pos = size - tail_len + at;
  uint64_t disk = le(end + 4, 2), cd_disk = le(end + 6, 2);
  uint64_t count = le(end + 10, 2), cd_size = le(end + 12, 4), cd_offset = le(end + 16, 4);
  uint64_t cd_end = end_pos;  // where the central directory should end
  // Zip64: a locator just before the end record points at the zip64 end record.
  if (end_pos >= 20) {
    unsigned char loc[20];
    file.read_at(end_pos - 20, loc, sizeof loc, "the zip64 locator");
    if (le(loc, 4) == kEnd64Locator) {
      const uint64_t rec_pos = le(loc + 8, 8);
      unsigned char rec[56];
      file.read_at(rec_pos, rec, sizeof rec, "the zip64 end-of-central-directory record");
      if (le(rec, 4) != kEnd64) bad("the zip64 locator does not point at a zip64 end record");
      disk = le(rec + 16, 4);
      cd_disk = le(rec + 20, 4);
      count = le(rec + 32, 8);
      cd_size = le(rec + 40, 8);
      cd_offset = le(rec + 48, 8);
      cd_end = rec_pos;
    }
  }
  if (disk != 0 || cd_disk != 0)
    fail(CONV1D_ERROR_UNSUPPORTED, "'" + path + "' is a multi-volume ZIP archive, which is not supported");
  if (cd_offset > cd_end || cd_size > cd_end - cd_offset) bad("the central directory lies outside the file");
  shift_ = cd_end - cd_offset - cd_size;
  if (cd_size > SIZE_MAX) bad("the central directory is too large");
  std::vector<unsigned char> cd(static_cast<size_t>(cd_size));
  file.read_at(cd_offset + shift_, cd.data(), cd.size(), "the central directory");

  size_t p = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd.size() - p < 46 || le(&cd[p], 4) != kCentralHeader)
      bad("central directory entry " + std::to_string(i) + " is malformed");
    const unsigned char* h = &cd[p];
    ZipEntry e;
    e.flags = static_cast<uint16_t>(le(h + 8, 2));
    e.method = static_cast<uint16_t>(le(h + 10, 2));
    e.crc32 = static_cast<uint32_t>(le(h + 16, 4));
    e.compressed_size = le(h + 20, 4);
    e.size = le(h + 24, 4);
    const size_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    e.local_header_offset = le(h + 42, 4);
    if (cd.size() - p - 46 < name_len + extra_len + comment_len)
      bad("central directory entry " + std::to_string(i) + " runs past the directory");
    e.name.assign(reinterpret_cast<const char*>(h + 46), name_len);
    // The zip64 extra field holds, in this order, those of the sizes and the
    // offset whose 32-bit fields are saturated.
    const unsigned char* x = h + 46 + name_len;
    for (size_t q = 0; q + 4 <= extra_len;) {
      const uint64_t id = le(x + q, 2), len = le(x + q + 2, 2);
      if (q + 4 + len > extra_len) bad("an extra field of '" + e.name + "' is malformed");
      if (id == 0x0001) {
        const unsigned char* f = x + q + 4;
        uint64_t left = len;
        auto take = [&](uint64_t* v) {
          if (*v != 0xFFFFFFFFu) return;
          if (left < 8) bad("the zip64 field of '" + e.name + "' is too short");
          *v = le(f, 8);
          f += 8;
          left -= 8;
        };
        take(&e.size);
        take(&e.compressed_size);
        take(&e.local_header_offset);
      }
      q += 4 + len;
    }
    entries_.push_back(std::move(e));
    p += 46 + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::vector<unsigned char> ZipArchive::read(const ZipEntry& e) const {
  const std::string where = "'" + e.name + "' in '" + file_.path() + "'";
  if (e.flags & 1) fail(CONV1D_ERROR_UNSUPPORTED, where + " is encrypted");
  if (e.method != 0 && !(e.method == 8 && zip_has_deflate())) {
    fail(CONV1D_ERROR_UNSUPPORTED,
         where + " is compressed with method " + std::to_string(e.method) + " (" + method_name(e.method) +
             "); this build reads only stored" + (zip_has_deflate() ? " and deflated" : "") +
             " entries (Keras writes stored ones). Re-zip it with `zip -0` or Python's zipfile.ZIP_STORED");
  }
  unsigned char h[30];
  file_.read_at(e.local_header_offset + shift_, h, sizeof h, "a local file header");
  if (le(h, 4) != kLocalHeader) fail(CONV1D_ERROR_PARSE, where + ": the local file header is missing or corrupt");
  const uint64_t data_pos = e.local_header_offset + shift_ + 30 + le(h + 26, 2) + le(h + 28, 2);
  if (e.size > SIZE_MAX || e.compressed_size > SIZE_MAX)
    fail(CONV1D_ERROR_SIZE_OVERFLOW, where + " is too large to read into memory");
  std::vector<unsigned char> out;
  if (e.method == 0) {
    if (e.compressed_size != e.size)
      fail(CONV1D_ERROR_PARSE, where + " is stored but its sizes differ (" + std::to_string(e.compressed_size) +
                                   " vs " + std::to_string(e.size) + ")");
    out.resize(static_cast<size_t>(e.size));
    file_.read_at(data_pos, out.data(), out.size(), ("the data of " + e.name).c_str());
  } else {
#if defined(CONV1D_HAVE_ZLIB)
    std::vector<unsigned char> packed(static_cast<size_t>(e.compressed_size));
    file_.read_at(data_pos, packed.data(), packed.size(), ("the data of " + e.name).c_str());
    out.resize(static_cast<size_t>(e.size));
    z_stream z;
    std::memset(&z, 0, sizeof z);
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail(CONV1D_ERROR_OUT_OF_MEMORY, "zlib could not start inflating");
    int rc = Z_OK;
    size_t in_done = 0, out_done = 0;
    // zlib counts in uInt: feed and drain in chunks below 4 GiB.
    while (rc == Z_OK) {
      const size_t in_step = std::min<size_t>(packed.size() - in_done, 1u << 30);
      const size_t out_step = std::min<size_t>(out.size() - out_done, 1u << 30);
      z.next_in = packed.data() + in_done;
      z.avail_in = static_cast<uInt>(in_step);
      z.next_out = out.data() + out_done;
      z.avail_out = static_cast<uInt>(out_step);
      rc = inflate(&z, Z_NO_FLUSH);
      in_done += in_step - z.avail_in;
      out_done += out_step - z.avail_out;
      if (rc == Z_OK && in_step == z.avail_in && out_step == z.avail_out) rc = Z_BUF_ERROR;  // no progress
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || out_done != out.size())
      fail(CONV1D_ERROR_PARSE,
           where + " does not inflate to its recorded " + std::to_string(e.size) + " bytes (corrupt deflate data)");
#endif
  }
  const uint32_t crc = crc32_of(out.data(), out.size());
  if (crc != e.crc32) fail(CONV1D_ERROR_PARSE, where + " fails its CRC-32 check (corrupt archive)");
  return out;
}

}  // namespace conv1d
