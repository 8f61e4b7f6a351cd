#include "io/npy.hpp"

#include <cctype>
#include <cstring>

#include "error.hpp"
#include "io/file.hpp"

namespace conv1d {
namespace {

constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

// The header is the repr() of a Python dict with the keys 'descr',
// 'fortran_order' and 'shape', e.g. {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
// This parses exactly that subset of Python literals.
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void parse(std::string* descr, bool* fortran, std::vector<int64_t>* shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (true) {
      skip_space();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() == '[')
          fail(CONV1D_ERROR_UNSUPPORTED, name_ + " holds a structured dtype; only float arrays can be loaded");
        *descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        *fortran = boolean();
        have_fortran = true;
      } else if (key == "shape") {
        *shape = tuple();
        have_shape = true;
      } else {
        bad("unexpected key '" + key + "'");
      }
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != '}') bad("expected ',' or '}'");
    }
    ++pos_;
    skip_space();
    if (pos_ != s_.size()) bad("text after the closing '}'");
    if (!have_descr || !have_fortran || !have_shape) bad("it must have the keys 'descr', 'fortran_order' and 'shape'");
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail(CONV1D_ERROR_PARSE,
         name_ + " has a malformed .npy header (" + why + " at offset " + std::to_string(pos_) + "): " + trimmed());
  }
  // The header without its padding, and at most 200 characters of it.
  std::string trimmed() const {
    std::string t = s_.substr(0, 200);
    t.erase(t.find_last_not_of(" \n") + 1);
    return t;
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) bad(std::string("expected '") + c + "'");
    ++pos_;
  }
  std::string quoted() {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    const size_t end = s_.find(q, pos_ + 1);
    if (end == std::string::npos) bad("unterminated string");
    std::string out = s_.substr(pos_ + 1, end - pos_ - 1);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
    if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
    bad("expected True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> out;
    expect('(');
    while (true) {
      skip_space();
      if (peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(peek()))) bad("expected a dimension");
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, peek() - '0', &v))
          bad("dimension too large");
        ++pos_;
      }
      if (peek() == 'L') ++pos_;  // Python 2 long
      out.push_back(v);
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_space();
      if (peek() != ')') bad("expected ',' or ')'");
    }
    ++pos_;
    return out;
  }

  const std::string& s_;
  const std::string& name_;
  size_t pos_ = 0;
};

uint64_t load_le(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

uint64_t load_be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}

}  // namespace

WeightArray parse_npy(const unsigned char* bytes, size_t size, const std::string& name) {
  if (size < 10 || std::memcmp(bytes, kMagic, sizeof kMagic) != 0)
    fail(CONV1D_ERROR_PARSE, name + " is not a .npy file (it does not start with \\x93NUMPY)");
  const int major = bytes[6], minor = bytes[7];
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<size_t>(load_le(bytes + 8, 2));
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail(CONV1D_ERROR_PARSE, name + " is truncated inside its .npy preamble");
    header_len = static_cast<size_t>(load_le(bytes + 8, 4));
    offset = 12;
  } else {
    fail(CONV1D_ERROR_UNSUPPORTED, name + " is .npy format version " + std::to_string(major) + "." +
                                       std::to_string(minor) + "; versions 1.0, 2.0 and 3.0 are supported");
  }
  if (header_len > size - offset)
    fail(CONV1D_ERROR_PARSE, name + " is truncated: its .npy header says " + std::to_string(header_len) +
                                 " bytes but the file ends before");
  const std::string header(reinterpret_cast<const char*>(bytes) + offset, header_len);
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
  HeaderParser(header, name).parse(&descr, &fortran, &shape);

  // descr: byte order, kind, item size. '=' is the native order, which on the
  // platforms libconv1d builds for is little-endian.
  const bool ok_form = descr.size() == 3 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '=') &&
                       descr[1] == 'f' && (descr[2] == '2' || descr[2] == '4' || descr[2] == '8');
  if (!ok_form)
    fail(CONV1D_ERROR_UNSUPPORTED, name + " holds dtype '" + descr +
                                       "'; only float16, float32 and float64 arrays ('<f4', '>f4', '<f8', ...) can "
                                       "be loaded");
  if (fortran)
    fail(CONV1D_ERROR_UNSUPPORTED, name +
                                       " is stored in Fortran order (fortran_order: True); save it in C order, "
                                       "e.g. numpy.save(path, numpy.ascontiguousarray(a))");
  const bool big = descr[0] == '>';
  const int item = descr[2] - '0';
  const size_t count = element_count(shape, name);
  const size_t data_off = offset + header_len;
  const size_t have = size - data_off;
  if (have != count * static_cast<size_t>(item)) {
    fail(CONV1D_ERROR_PARSE, name + " has " + std::to_string(have) + " data bytes but its header " +
                                 shape_string(shape) + " '" + descr + "' needs " +
                                 std::to_string(count * static_cast<size_t>(item)) +
                                 (have < count * static_cast<size_t>(item) ? " (truncated)" : ""));
  }
  WeightArray out;
  out.shape = shape;
  out.origin = name;
  out.data.resize(count);
  if (item == 8) out.data64.resize(count);
  const unsigned char* p = bytes + data_off;
  for (size_t i = 0; i < count; ++i, p += item) {
    const uint64_t bits = big ? load_be(p, item) : load_le(p, item);
    if (item == 2) {
      out.data[i] = half_to_float(static_cast<uint16_t>(bits));
    } else if (item == 4) {
      const uint32_t b = static_cast<uint32_t>(bits);
      std::memcpy(&out.data[i], &b, 4);
    } else {
      double d;
      std::memcpy(&d, &bits, 8);
      out.data64[i] = d;
      out.data[i] = static_cast<float>(d);
    }
  }
  return out;
}

WeightArray read_npy(const std::string& path) {
  const InputFile file(path);
  const std::vector<unsigned char> bytes = file.read_all();
  return parse_npy(bytes.data(), bytes.size(), "'" + path + "'");
}

std::vector<unsigned char> format_npy(const std::vector<int64_t>& shape, const float* data, size_t count) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_string(shape) + ", }";
  // NumPy pads with spaces and ends with '\n' so that the data start on a
  // 64-byte boundary.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::vector<unsigned char> out(10 + header.size() + count * 4);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  out[6] = 1;
  out[7] = 0;
  out[8] = static_cast<unsigned char>(header.size() & 0xff);
  out[9] = static_cast<unsigned char>(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  unsigned char* p = out.data() + 10 + header.size();
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, data + i, 4);
    for (int b = 0; b < 4; ++b) *p++ = static_cast<unsigned char>(bits >> (8 * b));
  }
  return out;
}

void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data, size_t count) {
  write_file(path, format_npy(shape, data, count));
}

}  // namespace conv1d
