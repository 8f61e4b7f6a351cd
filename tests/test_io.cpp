// Unit tests of the file formats' pieces in src/io/: the .npy header parser
// and writer on hand-made bytes, CRC-32, the half and bfloat16 conversions.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "internal_errors.hpp"
#include "io/array.hpp"
#include "io/npy.hpp"
#include "io/zip.hpp"

namespace {

using test_util::message_of;
using test_util::status_of;

// A .npy file: preamble for `version`, the header text, then `data`.
std::vector<unsigned char> npy(const std::string& header, const std::vector<unsigned char>& data, int version = 1) {
  std::vector<unsigned char> out = {0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<unsigned char>(version), 0};
  const size_t n = header.size();
  out.push_back(static_cast<unsigned char>(n & 0xff));
  out.push_back(static_cast<unsigned char>(n >> 8));
  if (version >= 2) {
    out.push_back(static_cast<unsigned char>(n >> 16));
    out.push_back(static_cast<unsigned char>(n >> 24));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::vector<unsigned char> le_floats(std::initializer_list<float> v) {
  std::vector<unsigned char> out;
  for (float f : v) {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(b >> (8 * i)));
  }
  return out;
}

conv1d::WeightArray parse(const std::vector<unsigned char>& bytes) {
  return conv1d::parse_npy(bytes.data(), bytes.size(), "'t.npy'");
}

}  // namespace

TEST_CASE("npy headers: the Python literal forms numpy and others write", "[io][npy]") {
  const auto two = le_floats({1.5f, -2.0f});
  for (const std::string h : {
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
           "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}",
           "{'shape':(2,),'fortran_order':False,'descr':'<f4'}",
           "{ 'descr' : '<f4' , 'fortran_order' : False , 'shape' : ( 2 , ) , }   \n",
           "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
       }) {
    INFO(h);
    const conv1d::WeightArray a = parse(npy(h, two));
    CHECK(a.shape == std::vector<int64_t>{2});
    CHECK(a.data == std::vector<float>{1.5f, -2.0f});
  }
  const conv1d::WeightArray v2 = parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", two, 2));
  CHECK(v2.shape == std::vector<int64_t>{1, 2});
  const conv1d::WeightArray scalar =
      parse(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", le_floats({3})));
  CHECK(scalar.shape.empty());
  CHECK(scalar.data == std::vector<float>{3.0f});
  const conv1d::WeightArray empty = parse(npy("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4), }", {}));
  CHECK(empty.data.empty());
  // Big-endian float64 2.0 and a float16 -1.5.
  CHECK(parse(npy("{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }", {0x40, 0, 0, 0, 0, 0, 0, 0})).data ==
        std::vector<float>{2.0f});
  CHECK(parse(npy("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", {0x00, 0xBE})).data ==
        std::vector<float>{-1.5f});
}

TEST_CASE("npy headers: malformed and unsupported ones", "[io][npy]") {
  const auto two = le_floats({1, 2});
  auto status = [&](const std::string& h, int version = 1) { return status_of([&] { parse(npy(h, two, version)); }); };
  CHECK(status("{'descr': '<f4', 'shape': (2,), }") == CONV1D_ERROR_PARSE);  // no fortran_order
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4, 'fortran_order': False, 'shape': (2,)}") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}") == CONV1D_ERROR_PARSE);
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)}") == CONV1D_ERROR_PARSE);  // short data
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}") == CONV1D_ERROR_PARSE);  // extra data
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", 4) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(status("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,)}") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(status("{'descr': '|u1', 'fortran_order': False, 'shape': (8,)}") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(status("{'descr': '<f4', 'fortran_order': True, 'shape': (2,)}") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(status("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 4)}") ==
        CONV1D_ERROR_SIZE_OVERFLOW);
  // A header length that runs past the file.
  std::vector<unsigned char> cut = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", {});
  cut[8] = 0xff;
  CHECK(status_of([&] { parse(cut); }) == CONV1D_ERROR_PARSE);
  CHECK_THAT(message_of([&] { parse({0x93, 'N', 'U'}); }), Catch::Contains("not a .npy file"));
}

TEST_CASE("npy writer: version 1.0 '<f4', data on a 64-byte boundary, read back", "[io][npy]") {
  const std::vector<float> data{0.5f, -1.0f, 3.25f, 1e-30f, -0.0f, 7.0f};
  for (const std::vector<int64_t>& shape : std::vector<std::vector<int64_t>>{{6}, {2, 3}, {1, 2, 3}, {6, 1}}) {
    const std::vector<unsigned char> bytes = conv1d::format_npy(shape, data.data(), data.size());
    const size_t header_len = bytes[8] | bytes[9] << 8;
    CHECK((10 + header_len) % 64 == 0);
    CHECK(bytes[9 + header_len] == '\n');
    const conv1d::WeightArray a = conv1d::parse_npy(bytes.data(), bytes.size(), "x");
    CHECK(a.shape == shape);
    CHECK(std::memcmp(a.data.data(), data.data(), data.size() * 4) == 0);  // -0.0 too
  }
  CHECK(conv1d::shape_string({}) == "()");
  CHECK(conv1d::shape_string({4}) == "(4,)");
  CHECK(conv1d::shape_string({3, 2, 4}) == "(3, 2, 4)");
}

TEST_CASE("CRC-32, float16 and bfloat16 conversions", "[io]") {
  const char* check = "123456789";
  CHECK(conv1d::crc32_of(reinterpret_cast<const unsigned char*>(check), 9) == 0xCBF43926u);
  CHECK(conv1d::crc32_of(nullptr, 0) == 0u);
  CHECK(conv1d::half_to_float(0x3C00) == 1.0f);
  CHECK(conv1d::half_to_float(0xC000) == -2.0f);
  CHECK(conv1d::half_to_float(0x7BFF) == 65504.0f);
  CHECK(conv1d::half_to_float(0x0001) == std::ldexp(1.0f, -24));
  CHECK(std::isinf(conv1d::half_to_float(0x7C00)));
  CHECK(std::isnan(conv1d::half_to_float(0x7E00)));
  CHECK(std::signbit(conv1d::half_to_float(0x8000)));
  CHECK(conv1d::bfloat16_to_float(0x3F80) == 1.0f);
  CHECK(conv1d::bfloat16_to_float(0xC0A0) == -5.0f);
  CHECK(status_of([] { conv1d::element_count({-1}, "x"); }) == CONV1D_ERROR_PARSE);
  CHECK(status_of([] { conv1d::element_count({1LL << 40, 1LL << 40}, "x"); }) == CONV1D_ERROR_SIZE_OVERFLOW);
}
