// Normalisations, Softmax / LogSoftmax and GELU against double-precision loops written here
// and hand-computed values.
#include <cmath>

#include "runtime/nn_test_util.h"

namespace aimc::nn_test {
namespace {

// Plain double-precision layer normalisation over the trailing `inner` values of each row.
Tensor layer_norm_reference(const Tensor& x, int64_t inner, const std::vector<float>& scale,
                            const std::vector<float>& bias, double epsilon) {
  Tensor y(DType::kF32, x.shape());
  for (int64_t row = 0; row < x.numel() / inner; ++row) {
    const float* in = x.data<float>() + row * inner;
    double mean = 0, var = 0;
    for (int64_t i = 0; i < inner; ++i) mean += in[i];
    mean /= static_cast<double>(inner);
    for (int64_t i = 0; i < inner; ++i) var += (in[i] - mean) * (in[i] - mean);
    var /= static_cast<double>(inner);
    for (int64_t i = 0; i < inner; ++i) {
      auto k = static_cast<size_t>(i);
      y.data<float>()[row * inner + i] =
          static_cast<float>((in[i] - mean) / std::sqrt(var + epsilon) * scale[k] + bias[k]);
    }
  }
  return y;
}

std::vector<float> values_of(const Tensor& t) {
  return {t.data<float>(), t.data<float>() + t.numel()};
}

TEST(NnLayerNormTest, MatchesDoubleReferenceOnEveryAxis) {
  Tensor x = random_tensor({2, 3, 4, 5}, 21, -3.0f, 3.0f);
  for (int64_t axis : {-1, 1, 2, -4}) {
    int64_t first = axis < 0 ? axis + 4 : axis;
    Shape normalized(x.shape().begin() + first, x.shape().end());
    Tensor scale = random_tensor(normalized, 22);
    Tensor bias = random_tensor(normalized, 23);
    Tensor y =
        TestNode("LayerNormalization", {{"axis", axis}, {"epsilon", 1e-3}}).run1({x, scale, bias});
    EXPECT_TRUE(tensors_close(y, layer_norm_reference(x, shape_numel(normalized), values_of(scale),
                                                      values_of(bias), 1e-3)))
        << "axis " << axis;
  }
}

TEST(NnLayerNormTest, StatsOutputsAndOptionalBias) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 3, 2, 2});
  Tensor scale = Tensor::from_vector<float>({2}, {1, 1});
  TestNode node("LayerNormalization", {{"epsilon", 1e-12}}, 3);
  std::vector<Tensor> out = node.run({x, scale});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_TRUE(tensors_close(out[0], Tensor::from_vector<float>({2, 2}, {-1, 1, 0, 0}), 1e-6, 1e-3));
  EXPECT_TRUE(tensors_close(out[1], Tensor::from_vector<float>({2, 1}, {2, 2})));
  EXPECT_EQ(out[2].shape(), (Shape{2, 1}));
  EXPECT_FLOAT_EQ(out[2].data<float>()[0], 1.0f);  // variance 1
  // The canonical op gives one output, identical to output 0.
  std::vector<Tensor> canonical = TestNode("layer_norm", {{"epsilon", 1e-12}}).run({x, scale});
  ASSERT_EQ(canonical.size(), 1u);
  EXPECT_TRUE(tensors_close(canonical[0], out[0], 0, 0));
}

TEST(NnLayerNormTest, ScaleBroadcastsToNormalisedShape) {
  Tensor x = random_tensor({3, 4, 6}, 24);
  Tensor scale = random_tensor({6}, 25);  // broadcast over [4, 6]
  Tensor y = TestNode("layer_norm", {{"axis", int64_t{1}}}).run1({x, scale, Tensor::scalar(0.5f)});
  std::vector<float> expanded;
  for (int i = 0; i < 4; ++i) {
    for (float s : values_of(scale)) expanded.push_back(s);
  }
  EXPECT_TRUE(
      tensors_close(y, layer_norm_reference(x, 24, expanded, std::vector<float>(24, 0.5f), 1e-5)));
  expect_bad_input([&] { TestNode("layer_norm").run1({x, random_tensor({5}, 1)}); });
}

TEST(NnLayerNormTest, LargeOffsetDoesNotLosePrecision) {
  // Mean 1e4 and spread 1e-2: a one-pass float variance would cancel catastrophically.
  Tensor x = random_tensor({4, 256}, 26, -0.01f, 0.01f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] += 1e4f;
  Tensor y = TestNode("layer_norm", {{"epsilon", 1e-12}})
                 .run1({x, Tensor::from_vector<float>({256}, std::vector<float>(256, 1.0f))});
  Tensor expected = layer_norm_reference(x, 256, std::vector<float>(256, 1.0f),
                                         std::vector<float>(256, 0.0f), 1e-12);
  EXPECT_TRUE(tensors_close(y, expected, 1e-4, 1e-4));
}

TEST(NnBatchNormTest, HandComputed) {
  // Channel 0: (x - 1) / sqrt(4) * 3 + 1; channel 1: (x - 1) / sqrt(1) * 1 + 0.5 (epsilon 0).
  Tensor x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 5, -5});
  auto vec = [](std::vector<float> v) { return Tensor::from_vector<float>({2}, v); };
  std::vector<Tensor> params = {vec({3, 1}), vec({1, 0.5f}), vec({1, 1}), vec({4, 1})};
  auto with_params = [&](const Tensor& input) {
    std::vector<Tensor> inputs = {input};
    inputs.insert(inputs.end(), params.begin(), params.end());
    return inputs;
  };
  Tensor y = TestNode("BatchNormalization", {{"epsilon", 0.0}}).run1(with_params(x));
  EXPECT_TRUE(tensors_close(y, Tensor::from_vector<float>({1, 2, 2}, {1, 4, 4.5f, -5.5f})));
  Tensor x2 = Tensor::from_vector<float>({2, 2}, {3, 1, 5, 2});  // rank 2: [N, C]
  Tensor y2 = TestNode("BatchNormalization", {{"epsilon", 0.0}}).run1(with_params(x2));
  EXPECT_TRUE(tensors_close(y2, Tensor::from_vector<float>({2, 2}, {4, 0.5f, 7, 1.5f})));
  expect_bad_input([&] {
    TestNode("BatchNormalization", {{"training_mode", int64_t{1}}}).run1(with_params(x));
  });
  expect_bad_input([&] {
    TestNode("BatchNormalization")
        .run1({x, random_tensor({3}, 1), vec({1, 0}), vec({1, 0}), vec({4, 1})});
  });
}

TEST(NnInstanceNormTest, NormalisesEachPlane) {
  Tensor x = Tensor::from_vector<float>({1, 2, 2}, {1, 3, 10, 10});
  Tensor scale = Tensor::from_vector<float>({2}, {2, 1});
  Tensor bias = Tensor::from_vector<float>({2}, {0, 7});
  // A constant plane (variance 0) normalises to 0 thanks to epsilon.
  Tensor y = TestNode("InstanceNormalization", {{"epsilon", 1e-10}}).run1({x, scale, bias});
  EXPECT_TRUE(tensors_close(y, Tensor::from_vector<float>({1, 2, 2}, {-2, 2, 7, 7}), 1e-6, 1e-5));
}

// Softmax along `axis` in double.
Tensor softmax_reference(const Tensor& x, int64_t axis, bool log) {
  Tensor y(DType::kF32, x.shape());
  int64_t n = x.dim(axis);
  int64_t inner = 1;
  for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  int64_t outer = x.numel() / (n * inner);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (int64_t j = 0; j < n; ++j)
        sum += std::exp(double(x.data<float>()[(o * n + j) * inner + i]));
      for (int64_t j = 0; j < n; ++j) {
        double v = x.data<float>()[(o * n + j) * inner + i];
        y.data<float>()[(o * n + j) * inner + i] =
            static_cast<float>(log ? v - std::log(sum) : std::exp(v) / sum);
      }
    }
  }
  return y;
}

TEST(NnSoftmaxTest, MatchesReferenceOnEveryAxis) {
  Tensor x = random_tensor({3, 4, 5}, 31, -4.0f, 4.0f);
  for (int64_t axis : {0, 1, 2, -1, -2}) {
    int64_t positive = axis < 0 ? axis + 3 : axis;
    std::map<std::string, ir::AttrValue> attrs = {{"axis", axis}};
    EXPECT_TRUE(
        tensors_close(TestNode("Softmax", attrs).run1({x}), softmax_reference(x, positive, false)))
        << axis;
    EXPECT_TRUE(tensors_close(TestNode("LogSoftmax", attrs).run1({x}),
                              softmax_reference(x, positive, true)))
        << axis;
  }
  // Default axis is the last one.
  EXPECT_TRUE(tensors_close(TestNode("Softmax").run1({x}), softmax_reference(x, 2, false)));
}

TEST(NnSoftmaxTest, LargeValuesStayFinite) {
  Tensor x = Tensor::from_vector<float>({1, 3}, {1000, 1001, 1002});
  Tensor y = TestNode("Softmax").run1({x});
  // exp(-2), exp(-1), 1 normalised.
  double z = std::exp(-2.0) + std::exp(-1.0) + 1.0;
  EXPECT_TRUE(tensors_close(
      y, Tensor::from_vector<float>(
             {1, 3}, {float(std::exp(-2.0) / z), float(std::exp(-1.0) / z), float(1.0 / z)})));
  Tensor log_y = TestNode("LogSoftmax").run1({x});
  EXPECT_NEAR(log_y.data<float>()[2], -std::log(z), 1e-6);
  expect_bad_input([&] { TestNode("Softmax", {{"axis", int64_t{2}}}).run1({x}); });
}

TEST(NnGeluTest, ErfAndTanhForms) {
  Tensor x = Tensor::from_vector<float>({4}, {-2, 0, 1, 3});
  Tensor erf_form = TestNode("gelu").run1({x});
  std::vector<float> expected_erf;
  for (double v : {-2.0, 0.0, 1.0, 3.0})
    expected_erf.push_back(float(0.5 * v * (1 + std::erf(v / std::sqrt(2.0)))));
  EXPECT_TRUE(tensors_close(erf_form, Tensor::from_vector<float>({4}, expected_erf), 1e-6, 1e-7));
  EXPECT_NEAR(erf_form.data<float>()[2], 0.8413447, 1e-6);
  Tensor tanh_form = TestNode("gelu", {{"approximate", std::string("tanh")}}).run1({x});
  EXPECT_NEAR(tanh_form.data<float>()[2], 0.8411920, 1e-6);
  expect_bad_input([&] { TestNode("gelu", {{"approximate", std::string("exact")}}).run1({x}); });
}

TEST(NnGeluTest, LargeTensorUsesEveryChunk) {
  Tensor x = random_tensor({10000}, 41, -5.0f, 5.0f);
  Tensor y = TestNode("gelu").run1({x});
  for (int64_t i = 0; i < x.numel(); i += 997) {
    double v = x.data<float>()[i];
    EXPECT_NEAR(y.data<float>()[i], 0.5 * v * (1 + std::erf(v / std::sqrt(2.0))), 1e-5) << i;
  }
  EXPECT_NEAR(y.data<float>()[9999],
              0.5 * x.data<float>()[9999] * (1 + std::erf(x.data<float>()[9999] / std::sqrt(2.0))),
              1e-5);
}

}  // namespace
}  // namespace aimc::nn_test
