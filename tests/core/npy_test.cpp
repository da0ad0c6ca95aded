#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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
  for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(back.data<T>()[i], values[i]) << i;
  std::remove(path.c_str());
}

TEST(Npy, RoundTripsEveryDtype) {
  expect_round_trip<float>({2, 3}, {1.5f, -2.f, 0.f, 3.25f, 1e-20f, -7.f});
  expect_round_trip<int64_t>({3}, {-1, 1LL << 40, 7});
  expect_round_trip<int32_t>({1, 2, 2}, {-5, 6, 2147483647, 0});
  expect_round_trip<int8_t>({4}, {-128, 127, 0, 3});
  expect_round_trip<bool>({2, 1}, {true, false});
  expect_round_trip<float>({}, {42.f});     // scalar
  expect_round_trip<float>({0, 3}, {});     // empty
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
  std::string f8 = good;
  f8.replace(f8.find("<f4"), 3, "<f8");
  expect_bad(f8, "dtype");
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
