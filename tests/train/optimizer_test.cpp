// Optimisers and schedules against their formulas, computed by hand here.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "aimc/train/optimizer.h"

namespace aimc::train {
namespace {

struct OneWeight {
  ir::Graph graph;
  ir::Value* w;
  explicit OneWeight(std::vector<float> values, Shape shape) {
    w = graph.add_constant("w", Tensor::from_vector<float>(std::move(shape), values));
  }
  Parameter parameter(bool decay) { return Parameter{w, ir::ConstantOrigin{"w"}, decay}; }
  float at(int64_t i) const { return w->constant.data<float>()[i]; }
};

Tensor grad_of(std::vector<float> values, Shape shape) {
  return Tensor::from_vector<float>(std::move(shape), values);
}

TEST(Optimizer, AdamWTwoStepsFollowTheFormula) {
  OneWeight m({1.0f, -2.0f}, {2, 1});
  OptimizerOptions options;
  options.weight_decay = 0.1;
  Optimizer adam(options, {m.parameter(true)});
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double w[2] = {1.0, -2.0}, mom[2] = {0, 0}, vel[2] = {0, 0};
  const std::vector<std::vector<float>> steps = {{0.5f, -1.0f}, {-0.25f, 2.0f}};
  for (size_t t = 0; t < steps.size(); ++t) {
    adam.step({{m.w, grad_of(steps[t], {2, 1})}}, lr);
    for (int i = 0; i < 2; ++i) {
      double g = steps[t][static_cast<size_t>(i)];
      mom[i] = b1 * mom[i] + (1 - b1) * g;
      vel[i] = b2 * vel[i] + (1 - b2) * g * g;
      double mhat = mom[i] / (1 - std::pow(b1, double(t + 1)));
      double vhat = vel[i] / (1 - std::pow(b2, double(t + 1)));
      w[i] = w[i] * (1 - lr * 0.1) - lr * mhat / (std::sqrt(vhat) + eps);
      EXPECT_NEAR(m.at(i), w[i], 1e-6) << "step " << t << " element " << i;
    }
  }
}

TEST(Optimizer, SgdMomentumAndNoDecayOnExcludedTensors) {
  OneWeight m({1.0f, 3.0f}, {2});
  OptimizerOptions options;
  options.kind = OptimizerKind::kSgd;
  options.momentum = 0.5;
  options.weight_decay = 0.3;  // not applied: decay = false
  Optimizer sgd(options, {m.parameter(false)});
  sgd.step({{m.w, grad_of({1.0f, 2.0f}, {2})}}, 0.1);  // v = g; w -= 0.1 g
  EXPECT_NEAR(m.at(0), 0.9, 1e-6);
  EXPECT_NEAR(m.at(1), 2.8, 1e-6);
  sgd.step({{m.w, grad_of({1.0f, 2.0f}, {2})}}, 0.1);  // v = 0.5 v + g = 1.5 g
  EXPECT_NEAR(m.at(0), 0.9 - 0.15, 1e-6);
  EXPECT_NEAR(m.at(1), 2.8 - 0.3, 1e-6);
}

TEST(Optimizer, GradientClippingScalesToTheGlobalNorm) {
  OneWeight m({0.0f, 0.0f}, {2});
  OptimizerOptions options;
  options.kind = OptimizerKind::kSgd;
  options.momentum = 0.0;
  options.clip_grad_norm = 1.0;
  Optimizer sgd(options, {m.parameter(false)});
  double norm = sgd.step({{m.w, grad_of({3.0f, 4.0f}, {2})}}, 1.0);
  EXPECT_DOUBLE_EQ(norm, 5.0);
  EXPECT_NEAR(m.at(0), -0.6, 1e-6);  // the gradient scaled to norm 1
  EXPECT_NEAR(m.at(1), -0.8, 1e-6);
}

TEST(Optimizer, LayerGaussianWeightClipping) {
  // The outlier 10 is clamped to one standard deviation of the five values.
  std::vector<float> values = {1, -1, 1, -1, 10};
  OneWeight m(values, {5, 1});
  OptimizerOptions options;
  options.kind = OptimizerKind::kSgd;
  options.clip_weight_sigma = 1.0;
  Optimizer sgd(options, {m.parameter(true)});
  sgd.step({{m.w, Tensor(DType::kF32, {5, 1})}}, 0.1);
  double mean = 2.0, sq = 0;
  for (float v : values) sq += (v - mean) * (v - mean);
  const double bound = std::sqrt(sq / 5);
  EXPECT_NEAR(m.at(4), bound, 1e-5);
  EXPECT_NEAR(m.at(1), -1.0, 1e-6);
}

TEST(Schedule, CosineOneCycleAndWarmup) {
  EXPECT_DOUBLE_EQ(learning_rate(Schedule::kConstant, 0.1, 50, 100, 0), 0.1);
  EXPECT_DOUBLE_EQ(learning_rate(Schedule::kConstant, 0.1, 1, 100, 4), 0.05);
  EXPECT_NEAR(learning_rate(Schedule::kCosine, 0.1, 0, 101, 0), 0.1, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::kCosine, 0.1, 50, 101, 0),
              0.1 * 0.5 * (1 + std::cos(std::numbers::pi * 50 / 101)), 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::kCosine, 0.1, 10, 20, 10), 0.1, 1e-12);
  // One-cycle: starts at peak/25, peaks at 30 % of the steps, ends at peak/(25·10^4).
  EXPECT_NEAR(learning_rate(Schedule::kOneCycle, 1.0, 0, 1001, 0), 1.0 / 25, 1e-12);
  EXPECT_NEAR(learning_rate(Schedule::kOneCycle, 1.0, 299, 1001, 0), 1.0, 1e-3);
  EXPECT_NEAR(learning_rate(Schedule::kOneCycle, 1.0, 1000, 1001, 0), 1.0 / 25e4, 1e-12);
}

}  // namespace
}  // namespace aimc::train
