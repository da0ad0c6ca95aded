// Conv / conv and the pooling kernels: the im2col + sgemm and depthwise paths against a direct
// reference loop, and hand-computed pooling windows.
#include <limits>

#include "aimc/ir/conv_geometry.h"
#include "aimc/runtime/reference_kernels.h"
#include "runtime/nn_test_util.h"

namespace aimc::nn_test {
namespace {

struct ConvCase {
  std::string name;
  Shape x, w;
  std::map<std::string, ir::AttrValue> attrs;
  bool bias;
  Shape expected;
};

void PrintTo(const ConvCase& c, std::ostream* os) {
  *os << c.name;
}

class NnConv : public testing::TestWithParam<ConvCase> {};

TEST_P(NnConv, MatchesDirectReference) {
  const ConvCase& c = GetParam();
  Tensor x = random_tensor(c.x, 11);
  Tensor w = random_tensor(c.w, 12);
  Tensor b = c.bias ? random_tensor({c.w[0]}, 13) : Tensor();
  TestNode node("Conv", c.attrs);
  Tensor y = node.run1(c.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w});
  EXPECT_EQ(y.shape(), c.expected);
  ir::WindowGeometry window = ir::resolve_window(node.node, Shape(c.x.begin() + 2, c.x.end()),
                                                 Shape(c.w.begin() + 2, c.w.end()));
  Tensor expected = runtime::reference::conv(x, w, b, window, node.node.attr_int("group", 1));
  EXPECT_TRUE(tensors_close(y, expected, 1e-5, 1e-5));

  // The canonical conv with the resolved pads gives the same result.
  std::map<std::string, ir::AttrValue> canonical = c.attrs;
  canonical.erase("auto_pad");
  canonical["pads"] = window.pads;
  canonical["kernel_shape"] = window.kernel;
  Tensor y_canonical = TestNode("conv", canonical)
                           .run1(c.bias ? std::vector<Tensor>{x, w, b} : std::vector<Tensor>{x, w});
  EXPECT_TRUE(tensors_close(y_canonical, y, 0, 0));
}

INSTANTIATE_TEST_SUITE_P(
    Windows, NnConv,
    testing::Values(
        ConvCase{"basic2d", {2, 3, 8, 8}, {4, 3, 3, 3}, {}, true, {2, 4, 6, 6}},
        ConvCase{"pads_strides",
                 {1, 2, 9, 7},
                 {5, 2, 3, 2},
                 {{"pads", Ints{1, 0, 2, 1}}, {"strides", Ints{2, 3}}},
                 true,
                 {1, 5, 5, 3}},
        ConvCase{"dilations",
                 {1, 2, 10, 10},
                 {3, 2, 3, 3},
                 {{"dilations", Ints{2, 3}}, {"pads", Ints{1, 1, 1, 1}}},
                 false,
                 {1, 3, 8, 6}},
        ConvCase{"groups", {2, 4, 6, 6}, {6, 2, 3, 3}, {{"group", int64_t{2}}}, true, {2, 6, 4, 4}},
        ConvCase{"depthwise",
                 {2, 4, 7, 7},
                 {4, 1, 3, 3},
                 {{"group", int64_t{4}}, {"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}},
                 true,
                 {2, 4, 4, 4}},
        ConvCase{"depthwise_multiplier",
                 {1, 3, 5, 5},
                 {6, 1, 3, 3},
                 {{"group", int64_t{3}}},
                 true,
                 {1, 6, 3, 3}},
        ConvCase{"pointwise", {2, 8, 5, 5}, {4, 8, 1, 1}, {}, true, {2, 4, 5, 5}},
        ConvCase{"pointwise_strided",
                 {1, 8, 5, 5},
                 {4, 8, 1, 1},
                 {{"strides", Ints{2, 2}}},
                 false,
                 {1, 4, 3, 3}},
        ConvCase{"one_d",
                 {2, 3, 20},
                 {4, 3, 5},
                 {{"pads", Ints{2, 2}}, {"strides", Ints{2}}, {"dilations", Ints{1}}},
                 true,
                 {2, 4, 10}},
        ConvCase{"three_d",
                 {1, 2, 4, 5, 6},
                 {3, 2, 2, 3, 3},
                 {{"pads", Ints{0, 1, 1, 1, 1, 0}}},
                 true,
                 {1, 3, 4, 5, 5}},
        ConvCase{"same_upper",
                 {1, 2, 7, 6},
                 {3, 2, 4, 3},
                 {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2, 2}}},
                 true,
                 {1, 3, 4, 3}},
        ConvCase{"same_lower",
                 {1, 2, 7, 6},
                 {3, 2, 4, 4},
                 {{"auto_pad", std::string("SAME_LOWER")}},
                 false,
                 {1, 3, 7, 6}},
        ConvCase{"valid",
                 {1, 2, 7, 6},
                 {3, 2, 3, 3},
                 {{"auto_pad", std::string("VALID")}, {"pads", Ints{5, 5, 5, 5}}},
                 false,
                 {1, 3, 5, 4}},
        ConvCase{"kernel_larger_than_blas_block",
                 {1, 16, 12, 12},
                 {32, 16, 3, 3},
                 {{"pads", Ints{1, 1, 1, 1}}},
                 true,
                 {1, 32, 12, 12}}),
    [](const testing::TestParamInfo<ConvCase>& info) { return info.param.name; });

TEST(NnConvTest, HandComputedOnnxExample) {
  // ONNX's Conv example: x = 0..24 as 5x5, 3x3 kernel of ones, pads 1.
  std::vector<float> values(25);
  for (int i = 0; i < 25; ++i) values[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor x = Tensor::from_vector<float>({1, 1, 5, 5}, values);
  Tensor w = Tensor::from_vector<float>({1, 1, 3, 3}, std::vector<float>(9, 1.0f));
  Tensor y =
      TestNode("Conv", {{"pads", Ints{1, 1, 1, 1}}, {"kernel_shape", Ints{3, 3}}}).run1({x, w});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 5, 5}));
  std::vector<float> first_row(y.data<float>(), y.data<float>() + 5);
  EXPECT_EQ(first_row, (std::vector<float>{12, 21, 27, 33, 24}));
  EXPECT_EQ(y.data<float>()[12], 108.0f);  // centre: 6+7+8+11+12+13+16+17+18
}

TEST(NnConvTest, BatchGoesThroughTheColumnBufferInChunks) {
  // 401k column floats per sample: the 1M-float buffer holds two samples, so a batch of 3 runs
  // as chunks of 2 and 1. Each sample alone must give the same planes.
  Tensor x = random_tensor({3, 8, 32, 32}, 14);
  Tensor w = random_tensor({2, 8, 7, 7}, 15);
  TestNode node("Conv", {{"pads", Ints{3, 3, 3, 3}}});
  Tensor y = node.run1({x, w});
  int64_t sample_size = 8 * 32 * 32, out_size = 2 * 32 * 32;
  for (int64_t n = 0; n < 3; ++n) {
    Tensor sample(DType::kF32, {1, 8, 32, 32});
    std::copy(x.data<float>() + n * sample_size, x.data<float>() + (n + 1) * sample_size,
              sample.data<float>());
    Tensor alone = node.run1({sample, w});
    Tensor from_batch(DType::kF32, {1, 2, 32, 32});
    std::copy(y.data<float>() + n * out_size, y.data<float>() + (n + 1) * out_size,
              from_batch.data<float>());
    EXPECT_TRUE(tensors_close(from_batch, alone, 1e-5, 1e-5)) << "sample " << n;
  }
}

TEST(NnConvTest, EmptyBatchGivesEmptyOutput) {
  Tensor y =
      TestNode("Conv").run1({random_tensor({0, 2, 5, 5}, 1), random_tensor({3, 2, 3, 3}, 2)});
  EXPECT_EQ(y.shape(), (Shape{0, 3, 3, 3}));
}

TEST(NnConvTest, RejectsInconsistentInputs) {
  Tensor x = random_tensor({1, 4, 5, 5}, 1);
  expect_bad_input([&] { TestNode("Conv").run1({x, random_tensor({2, 3, 3, 3}, 2)}); });
  expect_bad_input([&] {
    TestNode("Conv", {{"group", int64_t{3}}}).run1({x, random_tensor({3, 1, 3, 3}, 2)});
  });
  expect_bad_input([&] {
    TestNode("Conv").run1({x, random_tensor({2, 4, 3, 3}, 2), random_tensor({3}, 3)});
  });
  expect_bad_input([&] { TestNode("Conv").run1({x, random_tensor({2, 4, 7, 7}, 2)}); });
  expect_bad_input([&] {
    TestNode("Conv").run1(
        {random_tensor({1, 1, 2, 2, 2, 2}, 1), random_tensor({1, 1, 1, 1, 1, 1}, 2)});
  });
}

Tensor arange(Shape shape, float start = 1.0f) {
  Tensor t(DType::kF32, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = start + static_cast<float>(i);
  return t;
}

TEST(NnPoolTest, MaxPoolCeilModeAndIndices) {
  // ONNX's maxpool_2d_ceil: 4x4 of 1..16, kernel 3, stride 2, ceil_mode.
  TestNode node("MaxPool",
                {{"kernel_shape", Ints{3, 3}}, {"strides", Ints{2, 2}}, {"ceil_mode", int64_t{1}}},
                2);
  std::vector<Tensor> out = node.run({arange({1, 1, 4, 4})});
  EXPECT_TRUE(tensors_close(out[0], Tensor::from_vector<float>({1, 1, 2, 2}, {11, 12, 15, 16})));
  EXPECT_EQ(out[1].to_int_vector(), (std::vector<int64_t>{10, 11, 14, 15}));
}

TEST(NnPoolTest, MaxPoolIndicesCountSamplesAndChannelsAndStorageOrder) {
  // Two channels of 2x3; kernel covers everything, so each max is the channel's last element.
  Tensor x = arange({1, 2, 2, 3});
  TestNode row_major("MaxPool", {{"kernel_shape", Ints{2, 3}}}, 2);
  std::vector<Tensor> out = row_major.run({x});
  EXPECT_EQ(out[1].to_int_vector(), (std::vector<int64_t>{5, 11}));
  TestNode column_major("MaxPool", {{"kernel_shape", Ints{2, 3}}, {"storage_order", int64_t{1}}},
                        2);
  // Element (h=1, w=2) column-major is 1 + 2 * 2 = 5; the channel offset stays 6.
  EXPECT_EQ(column_major.run({x})[1].to_int_vector(), (std::vector<int64_t>{5, 11}));
  Tensor x2 = Tensor::from_vector<float>({1, 1, 2, 3}, {0, 9, 0, 0, 0, 0});  // max at (0, 1)
  EXPECT_EQ(column_major.run({x2})[1].to_int_vector(), (std::vector<int64_t>{2}));
  EXPECT_EQ(row_major.run({x2})[1].to_int_vector(), (std::vector<int64_t>{1}));
}

TEST(NnPoolTest, MaxPoolOnBytes) {
  Tensor x = Tensor::from_vector<uint8_t>({1, 1, 2, 2}, {7, 200, 3, 255});
  TestNode node("MaxPool", {{"kernel_shape", Ints{1, 2}}}, 2);
  std::vector<Tensor> out = node.run({x});
  EXPECT_EQ(out[0].dtype(), DType::kU8);
  EXPECT_EQ(out[0].to_int_vector(), (std::vector<int64_t>{200, 255}));
  EXPECT_EQ(out[1].to_int_vector(), (std::vector<int64_t>{1, 3}));
  // The lowest value must still be found (and its index reported).
  Tensor low = Tensor::from_vector<int8_t>({1, 1, 1, 3}, {5, -128, -128});
  out = node.run({low});
  EXPECT_EQ(out[0].to_int_vector(), (std::vector<int64_t>{5, -128}));
  EXPECT_EQ(out[1].to_int_vector(), (std::vector<int64_t>{0, 1}));
}

TEST(NnPoolTest, MaxPoolPadsDilationsOneAndThreeD) {
  // 1-D: [1, 5, 2, 4, 3], kernel 2, pads 1, stride 2 -> windows {pad,1} {5,2} {4,3}.
  Tensor x = Tensor::from_vector<float>({1, 1, 5}, {1, 5, 2, 4, 3});
  Tensor y =
      TestNode("MaxPool", {{"kernel_shape", Ints{2}}, {"pads", Ints{1, 1}}, {"strides", Ints{2}}})
          .run1({x});
  EXPECT_TRUE(tensors_close(y, Tensor::from_vector<float>({1, 1, 3}, {1, 5, 4})));
  // Dilation 2: taps (0, 2), (1, 3), (2, 4).
  Tensor dilated =
      TestNode("MaxPool", {{"kernel_shape", Ints{2}}, {"dilations", Ints{2}}}).run1({x});
  EXPECT_TRUE(tensors_close(dilated, Tensor::from_vector<float>({1, 1, 3}, {2, 5, 3})));
  // 3-D: the whole 2x2x2 cube.
  Tensor cube =
      TestNode("MaxPool", {{"kernel_shape", Ints{2, 2, 2}}}).run1({arange({1, 1, 2, 2, 2})});
  EXPECT_TRUE(tensors_close(cube, Tensor::from_vector<float>({1, 1, 1, 1, 1}, {8})));
}

TEST(NnPoolTest, AveragePoolCountIncludePad) {
  // 3x3 of 1..9, kernel 3, pads 1: corner window holds {1, 2, 4, 5}.
  Tensor x = arange({1, 1, 3, 3});
  std::map<std::string, ir::AttrValue> attrs = {{"kernel_shape", Ints{3, 3}},
                                                {"pads", Ints{1, 1, 1, 1}}};
  Tensor excluded = TestNode("AveragePool", attrs).run1({x});
  EXPECT_FLOAT_EQ(excluded.data<float>()[0], 3.0f);
  EXPECT_FLOAT_EQ(excluded.data<float>()[4], 5.0f);
  attrs["count_include_pad"] = int64_t{1};
  Tensor included = TestNode("AveragePool", attrs).run1({x});
  EXPECT_FLOAT_EQ(included.data<float>()[0], 12.0f / 9.0f);
  EXPECT_FLOAT_EQ(included.data<float>()[1], 21.0f / 9.0f);
  EXPECT_FLOAT_EQ(included.data<float>()[4], 5.0f);
}

TEST(NnPoolTest, AveragePoolCeilModeAndSameUpper) {
  // 1-D of 1..5, kernel 2, stride 2, ceil: windows {1,2} {3,4} {5}.
  Tensor x = arange({1, 1, 5});
  Tensor ceil =
      TestNode("AveragePool",
               {{"kernel_shape", Ints{2}}, {"strides", Ints{2}}, {"ceil_mode", int64_t{1}}})
          .run1({x});
  EXPECT_TRUE(tensors_close(ceil, Tensor::from_vector<float>({1, 1, 3}, {1.5f, 3.5f, 5.0f})));
  // SAME_UPPER, kernel 2, stride 1: the extra pad goes at the end, excluded from the count.
  Tensor same =
      TestNode("AveragePool", {{"kernel_shape", Ints{2}}, {"auto_pad", std::string("SAME_UPPER")}})
          .run1({x});
  EXPECT_TRUE(
      tensors_close(same, Tensor::from_vector<float>({1, 1, 5}, {1.5f, 2.5f, 3.5f, 4.5f, 5})));
}

TEST(NnPoolTest, GlobalPools) {
  Tensor x = arange({2, 2, 2, 2});
  Tensor avg = TestNode("GlobalAveragePool").run1({x});
  EXPECT_TRUE(
      tensors_close(avg, Tensor::from_vector<float>({2, 2, 1, 1}, {2.5f, 6.5f, 10.5f, 14.5f})));
  Tensor max = TestNode("GlobalMaxPool").run1({x});
  EXPECT_TRUE(tensors_close(max, Tensor::from_vector<float>({2, 2, 1, 1}, {4, 8, 12, 16})));
}

TEST(NnPoolTest, RejectsBadWindows) {
  Tensor x = arange({1, 1, 4, 4});
  expect_bad_input([&] { TestNode("MaxPool").run1({x}); });  // no kernel_shape
  expect_bad_input([&] { TestNode("MaxPool", {{"kernel_shape", Ints{5, 5}}}).run1({x}); });
  expect_bad_input([&] {
    TestNode("AveragePool", {{"kernel_shape", Ints{2, 2}}, {"pads", Ints{-1, 0, 0, 0}}}).run1({x});
  });
  expect_bad_input([&] { TestNode("GlobalAveragePool").run1({arange({4, 4})}); });
}

}  // namespace
}  // namespace aimc::nn_test
