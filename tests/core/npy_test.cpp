#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "aimc/core/npy.h"

namespace aimc {
namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("aimc_npy_test_" + name)).string();
}

template <typename T>
void expect_round_trip(Shape shape, std::vector<T> values) {
  Tensor t = Tensor::from_vector<T>(shape, values);
  std::string path = temp_path(std::string(dtype_name(t.dtype())) + ".npy");
  write_npy(path, t);
  Tensor back = read_npy(path);
  EXPECT_EQ(back.dtype(), t.dtype());
  EXPECT_EQ(back.shape(), t.shape());
  // Bytes, not values: f16 has no operator==, and NaN payloads must survive too.
  ASSERT_EQ(back.nbytes(), t.nbytes());
  EXPECT_EQ(std::memcmp(back.raw(), t.raw(), t.nbytes()), 0);
  std::remove(path.c_str());
}

TEST(Npy, RoundTripsEveryDtype) {
  expect_round_trip<float>({2, 3}, {1.5f, -2.f, 0.f, 3.25f, 1e-20f, -7.f});
  expect_round_trip<int64_t>({3}, {-1, 1LL << 40, 7});
  expect_round_trip<int32_t>({1, 2, 2}, {-5, 6, 2147483647, 0});
  expect_round_trip<int8_t>({4}, {-128, 127, 0, 3});
  expect_round_trip<bool>({2, 1}, {true, false});
  expect_round_trip<double>({3}, {1e300, -0.1, std::numeric_limits<double>::quiet_NaN()});
  expect_round_trip<Float16>({2, 2},
                             {Float16{0x3C00}, Float16{0x7BFF}, Float16{0x8001}, Float16{0x7E00}});
  expect_round_trip<uint8_t>({4}, {0, 1, 128, 255});
  expect_round_trip<int16_t>({3}, {-32768, 32767, -1});
  expect_round_trip<uint16_t>({2}, {65535, 7});
  expect_round_trip<uint32_t>({2}, {4294967295u, 0});
  expect_round_trip<uint64_t>({2}, {18446744073709551615ull, 1ull << 63});
  expect_round_trip<float>({}, {42.f});  // scalar
  expect_round_trip<float>({0, 3}, {});  // empty
}

// The descr numpy 1.24 writes for each dtype (np.dtype(x).str).
TEST(Npy, WritesNumpyDescrCodes) {
  const std::vector<std::pair<DType, std::string>> expected = {
      {DType::kF32, "<f4"}, {DType::kF64, "<f8"}, {DType::kF16, "<f2"}, {DType::kI64, "<i8"},
      {DType::kI32, "<i4"}, {DType::kI16, "<i2"}, {DType::kI8, "|i1"},  {DType::kU64, "<u8"},
      {DType::kU32, "<u4"}, {DType::kU16, "<u2"}, {DType::kU8, "|u1"},  {DType::kBool, "|b1"}};
  for (const auto& [dtype, descr] : expected) {
    std::string bytes = serialize_npy(Tensor(dtype, {1}));
    EXPECT_NE(bytes.find("'descr': '" + descr + "'"), std::string::npos) << dtype_name(dtype);
    EXPECT_EQ(parse_npy(bytes, "x.npy").dtype(), dtype) << descr;
  }
}

// Bytes written by numpy 1.24 for np.arange(6, dtype=np.float32).reshape(2, 3).
std::string numpy_reference_bytes() {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  std::string bytes = std::string("\x93NUMPY\x01\x00", 8);
  bytes += static_cast<char>(header.size());
  bytes += '\0';
  bytes += header;
  for (int i = 0; i < 6; ++i) {
    float f = static_cast<float>(i);
    bytes.append(reinterpret_cast<const char*>(&f), 4);
  }
  return bytes;
}

TEST(Npy, ParsesNumpyLayoutAndWritesTheSameBytes) {
  std::string bytes = numpy_reference_bytes();
  Tensor t = parse_npy(bytes, "ref.npy");
  ASSERT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.data<float>()[5], 5.f);
  EXPECT_EQ(serialize_npy(t), bytes);
}

TEST(Npy, RejectsMalformedFiles) {
  std::string good = numpy_reference_bytes();
  auto expect_bad = [](const std::string& bytes, const std::string& fragment) {
    try {
      parse_npy(bytes, "bad.npy");
      ADD_FAILURE() << "accepted: " << fragment;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
      EXPECT_NE(std::string(e.what()).find("bad.npy"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  expect_bad("", "magic");
  expect_bad("hello world, not npy", "magic");
  expect_bad(good.substr(0, 20), "truncated");
  expect_bad(good.substr(0, good.size() - 1), "needs");  // data truncated
  expect_bad(good + "x", "needs");                       // trailing bytes
  std::string complex = good;
  complex.replace(complex.find("<f4"), 3, "<c8");
  expect_bad(complex, "dtype");
  std::string big_endian = good;
  big_endian.replace(big_endian.find("<f4"), 3, ">f4");
  expect_bad(big_endian, "dtype");
  std::string fortran = good;
  fortran.replace(fortran.find("False"), 5, "True ");
  expect_bad(fortran, "Fortran");
  std::string bad_shape = good;
  bad_shape.replace(bad_shape.find("(2, 3)"), 6, "(2, x)");
  expect_bad(bad_shape, "shape");
  std::string huge = good;
  huge.replace(huge.find("(2, 3)"), 6, "(99999999999999999)");
  expect_bad(huge, "large");
}

TEST(Npy, MissingFileNamesThePath) {
  try {
    read_npy("/nonexistent/dir/x.npy");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.npy"), std::string::npos);
  }
}

TEST(Npy, FailedWriteLeavesNoFile) {
  std::string path = "/nonexistent_dir_aimc/out.npy";
  EXPECT_THROW(write_npy(path, Tensor(DType::kF32, {2})), Error);
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace aimc
