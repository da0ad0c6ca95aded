#include <gtest/gtest.h>

#include <limits>

#include "aimc/core/tensor.h"

namespace aimc {
namespace {

TEST(Tensor, ShapesStridesAndReshapeShareStorage) {
  Tensor t(DType::kF32, {2, 3, 4});
  EXPECT_EQ(t.numel(), 24);
  EXPECT_EQ(t.nbytes(), 96u);
  EXPECT_EQ(shape_strides(t.shape()), (Shape{12, 4, 1}));
  EXPECT_EQ(t.dim(-1), 4);
  Tensor r = t.reshaped({6, 4});
  r.data<float>()[5] = 3.f;
  EXPECT_EQ(t.data<float>()[5], 3.f);  // shared
  Tensor c = t.clone();
  c.data<float>()[5] = 1.f;
  EXPECT_EQ(t.data<float>()[5], 3.f);  // independent
}

TEST(Tensor, WrongDtypeAccessAndBadShapesThrow) {
  Tensor t(DType::kI64, {2});
  EXPECT_THROW(t.data<float>(), Error);
  EXPECT_THROW(t.reshaped({3}), Error);
  EXPECT_THROW(Tensor(DType::kF32, {2, -1}), Error);
}

TEST(Tensor, CastFollowsOnnxRules) {
  Tensor f = Tensor::from_vector<float>({5}, {1.7f, -1.7f, 0.f, 3e10f, -0.2f});
  Tensor i = f.cast(DType::kI32);
  EXPECT_EQ(i.data<int32_t>()[0], 1);  // truncation toward zero
  EXPECT_EQ(i.data<int32_t>()[1], -1);
  EXPECT_EQ(i.data<int32_t>()[3], 2147483647);  // saturated instead of UB
  Tensor b = f.cast(DType::kBool);
  EXPECT_EQ(b.to_int_vector(), (std::vector<int64_t>{1, 1, 0, 1, 1}));
  Tensor back = Tensor::from_vector<int8_t>({2}, {-3, 5}).cast(DType::kF32);
  EXPECT_EQ(back.data<float>()[0], -3.f);
}

TEST(Tensor, DtypeNamesAndSizes) {
  struct Case {
    DType dtype;
    const char* name;
    size_t size;
  };
  const Case cases[] = {
      {DType::kF32, "f32", 4}, {DType::kF64, "f64", 8}, {DType::kF16, "f16", 2},
      {DType::kI64, "i64", 8}, {DType::kI32, "i32", 4}, {DType::kI16, "i16", 2},
      {DType::kI8, "i8", 1},   {DType::kU64, "u64", 8}, {DType::kU32, "u32", 4},
      {DType::kU16, "u16", 2}, {DType::kU8, "u8", 1},   {DType::kBool, "bool", 1}};
  for (const Case& c : cases) {
    EXPECT_STREQ(dtype_name(c.dtype), c.name);
    EXPECT_EQ(dtype_size(c.dtype), c.size) << c.name;
    EXPECT_EQ(Tensor(c.dtype, {3}).nbytes(), 3 * c.size) << c.name;
  }
  EXPECT_TRUE(dtype_is_floating(DType::kF16));
  EXPECT_FALSE(dtype_is_floating(DType::kU8));
  EXPECT_TRUE(dtype_is_integer(DType::kU64));
  EXPECT_FALSE(dtype_is_integer(DType::kBool));
}

const DType kAllDtypes[] = {DType::kF32, DType::kF64, DType::kF16, DType::kI64,
                            DType::kI32, DType::kI16, DType::kI8,  DType::kU64,
                            DType::kU32, DType::kU16, DType::kU8,  DType::kBool};

// Small non-negative integers survive every cast and its way back; bool keeps 0 and 1.
TEST(Tensor, CastRoundTripsBetweenEveryPair) {
  Tensor source = Tensor::from_vector<int64_t>({5}, {0, 1, 7, 100, 127});
  for (DType from : kAllDtypes) {
    Tensor x = source.cast(from);
    std::vector<int64_t> expected =
        from == DType::kBool ? std::vector<int64_t>{0, 1, 1, 1, 1} : source.to_int_vector();
    ASSERT_EQ(x.to_int_vector(), expected) << dtype_name(from);
    for (DType to : kAllDtypes) {
      Tensor there = x.cast(to);
      ASSERT_EQ(there.dtype(), to);
      ASSERT_EQ(there.shape(), x.shape());
      std::vector<int64_t> want =
          to == DType::kBool ? std::vector<int64_t>{0, 1, 1, 1, 1} : expected;
      EXPECT_EQ(there.to_int_vector(), want) << dtype_name(from) << " -> " << dtype_name(to);
      EXPECT_EQ(there.cast(from).to_int_vector(), from == DType::kBool ? expected : want)
          << dtype_name(from) << " -> " << dtype_name(to) << " -> back";
      for (int64_t i = 0; i < x.numel(); ++i) {
        EXPECT_EQ(there.item_as_double(i), static_cast<double>(want[static_cast<size_t>(i)]));
      }
    }
  }
}

TEST(Tensor, CastSaturatesFloatsWrapsIntegersAndRoundsHalves) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor f = Tensor::from_vector<double>({6}, {300.7, -5.5, nan, 1e300, -1e300, 254.9});
  EXPECT_EQ(f.cast(DType::kU8).to_int_vector(), (std::vector<int64_t>{255, 0, 0, 255, 0, 254}));
  EXPECT_EQ(f.cast(DType::kI16).to_int_vector(),
            (std::vector<int64_t>{300, -5, 0, 32767, -32768, 254}));
  Tensor u64 = f.cast(DType::kU64);
  EXPECT_EQ(u64.data<uint64_t>()[3], std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(u64.data<uint64_t>()[1], 0u);
  // Integer narrowing keeps the low bits (two's complement), like numpy's astype.
  Tensor i = Tensor::from_vector<int32_t>({4}, {257, -1, 65536 + 5, -32769});
  EXPECT_EQ(i.cast(DType::kU8).to_int_vector(), (std::vector<int64_t>{1, 255, 5, 255}));
  EXPECT_EQ(i.cast(DType::kU16).to_int_vector(), (std::vector<int64_t>{257, 65535, 5, 32767}));
  EXPECT_EQ(i.cast(DType::kI16).to_int_vector(), (std::vector<int64_t>{257, -1, 5, 32767}));
  EXPECT_EQ(Tensor::scalar<int64_t>(-1).cast(DType::kU64).data<uint64_t>()[0],
            std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(Tensor::scalar<uint64_t>(1ull << 63).cast(DType::kF64).item_as_double(),
            9223372036854775808.0);
  // To f16: round to nearest even, overflow to infinity; from f16: exact.
  Tensor h = Tensor::from_vector<double>({4}, {0.1, 65520.0, -1e-8, 2049.0}).cast(DType::kF16);
  EXPECT_EQ(h.data<Float16>()[0].bits, 0x2E66);
  EXPECT_EQ(h.data<Float16>()[1].bits, 0x7C00);
  EXPECT_EQ(h.data<Float16>()[2].bits, 0x8000);
  EXPECT_EQ(h.item_as_double(3), 2048.0);  // 2049 is a tie between 2048 and 2050
  Tensor back = h.cast(DType::kF32);
  EXPECT_EQ(back.data<float>()[0], 0.0999755859375f);
  EXPECT_EQ(back.data<float>()[1], std::numeric_limits<float>::infinity());
  EXPECT_EQ(h.cast(DType::kI32).to_int_vector(),
            (std::vector<int64_t>{0, 2147483647, 0, 2048}));  // inf saturates
  Tensor h_nan = Tensor::scalar<double>(nan).cast(DType::kF16);
  EXPECT_EQ(h_nan.cast(DType::kBool).to_int_vector(), (std::vector<int64_t>{1}));  // NaN != 0
  EXPECT_EQ(h_nan.cast(DType::kU8).to_int_vector(), (std::vector<int64_t>{0}));
  EXPECT_EQ(Tensor::scalar<uint8_t>(200).cast(DType::kF16).item_as_double(), 200.0);
  EXPECT_EQ(Tensor::scalar<uint64_t>(70000).cast(DType::kF16).item_as_double(),
            std::numeric_limits<double>::infinity());
}

TEST(Tensor, FromStorageWrapsWithoutCopyAndFreesThroughTheDeleter) {
  float values[6] = {1, 2, 3, 4, 5, 6};
  bool freed = false;
  {
    std::shared_ptr<std::byte[]> storage(reinterpret_cast<std::byte*>(values),
                                         [&](std::byte*) { freed = true; });
    Tensor t = Tensor::from_storage(DType::kF32, {2, 3}, std::move(storage));
    EXPECT_EQ(t.data<float>(), values);
    EXPECT_EQ(t.numel(), 6);
    Tensor r = t.reshaped({3, 2});
    EXPECT_EQ(r.data<float>()[5], 6.0f);
    EXPECT_FALSE(freed);
  }
  EXPECT_TRUE(freed);
  EXPECT_THROW(Tensor::from_storage(DType::kF32, {-1}, nullptr), Error);
}

}  // namespace
}  // namespace aimc
