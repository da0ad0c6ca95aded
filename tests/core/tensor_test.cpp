#include <gtest/gtest.h>

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
  EXPECT_EQ(i.data<int32_t>()[0], 1);   // truncation toward zero
  EXPECT_EQ(i.data<int32_t>()[1], -1);
  EXPECT_EQ(i.data<int32_t>()[3], 2147483647);  // saturated instead of UB
  Tensor b = f.cast(DType::kBool);
  EXPECT_EQ(b.to_int_vector(), (std::vector<int64_t>{1, 1, 0, 1, 1}));
  Tensor back = Tensor::from_vector<int8_t>({2}, {-3, 5}).cast(DType::kF32);
  EXPECT_EQ(back.data<float>()[0], -3.f);
}

}  // namespace
}  // namespace aimc
