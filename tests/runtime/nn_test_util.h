// Helpers for the neural-network kernel tests: nodes built without a graph, random tensors,
// element-wise comparison.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "aimc/core/tensor.h"
#include "aimc/ir/graph.h"
#include "aimc/runtime/kernel.h"

namespace aimc::nn_test {

// A node for evaluate_node; `outputs` placeholder values tell the kernel how many outputs
// the node asks for.
struct TestNode {
  ir::Node node;
  std::vector<std::unique_ptr<ir::Value>> output_values;

  TestNode(const std::string& op, std::map<std::string, ir::AttrValue> attrs = {},
           size_t outputs = 1) {
    node.op = op;
    node.name = "test_" + op;
    node.attrs = std::move(attrs);
    for (size_t i = 0; i < outputs; ++i) {
      output_values.push_back(std::make_unique<ir::Value>());
      node.outputs.push_back(output_values.back().get());
    }
  }
  std::vector<Tensor> run(const std::vector<Tensor>& inputs) const {
    return runtime::evaluate_node(node, inputs);
  }
  Tensor run1(const std::vector<Tensor>& inputs) const { return run(inputs).at(0); }
};

inline Tensor random_tensor(const Shape& shape, uint32_t seed, float low = -1.0f,
                            float high = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t(DType::kF32, shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = dist(gen);
  return t;
}

inline ::testing::AssertionResult tensors_close(const Tensor& actual, const Tensor& expected,
                                                double rtol = 1e-5, double atol = 1e-5) {
  if (actual.dtype() != expected.dtype())
    return ::testing::AssertionFailure()
           << "dtype " << dtype_name(actual.dtype()) << " vs " << dtype_name(expected.dtype());
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_str(actual.shape()) << " vs " << shape_str(expected.shape());
  for (int64_t i = 0; i < actual.numel(); ++i) {
    double a = actual.item_as_double(i), e = expected.item_as_double(i);
    if (!(std::abs(a - e) <= atol + rtol * std::abs(e)))
      return ::testing::AssertionFailure() << "element " << i << ": " << a << " vs " << e;
  }
  return ::testing::AssertionSuccess();
}

template <typename F>
void expect_bad_input(F&& f) {
  try {
    f();
    ADD_FAILURE() << "expected Error(kBadInput)";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
  }
}

using Ints = std::vector<int64_t>;

}  // namespace aimc::nn_test
