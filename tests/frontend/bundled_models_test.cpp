// The bundled, trained models (models/): our canonicalised graph, run on the 64 stored inputs,
// gives PyTorch's logits (max |difference| <= 1e-4 x max |logit|), with 1 and 2 threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/threads.h"
#include "common/bundled_models.h"

namespace aimc {
namespace {

const std::string kModels = std::string(AIMC_SOURCE_DIR) + "/models/";

class BundledModel : public ::testing::TestWithParam<std::string> {};

TEST_P(BundledModel, MatchesPyTorchOnTheStoredSamples) {
  const std::string name = GetParam();
  auto graph = frontend::load_onnx(kModels + name + ".onnx");
  passes::canonicalize(*graph, runtime::evaluate_node);
  Tensor input = read_npy(kModels + name + ".ref-input.npy");
  Tensor expected = read_npy(kModels + name + ".ref-logits.npy");
  ASSERT_EQ(graph->inputs.size(), 1u);
  runtime::Executor executor(*graph);
  for (int threads : {1, 2}) {
    runtime::set_threads(threads);
    Tensor got = executor.run({{graph->inputs[0]->name, input}}).at(graph->outputs[0]->name);
    ASSERT_EQ(got.shape(), expected.shape());
    float max_abs = 0, max_diff = 0;
    for (int64_t i = 0; i < got.numel(); ++i) {
      max_abs = std::max(max_abs, std::abs(expected.data<float>()[i]));
      max_diff = std::max(max_diff, std::abs(got.data<float>()[i] - expected.data<float>()[i]));
    }
    EXPECT_GT(max_abs, 0.0f);
    EXPECT_LE(max_diff, 1e-4f * max_abs) << name << " with " << threads << " threads";
  }
  runtime::set_threads(0);
}

INSTANTIATE_TEST_SUITE_P(Models, BundledModel,
                         ::testing::Values("vit-fmnist", "cnn-fmnist", "mlp-fmnist",
                                           "gpt-fortunes"),
                         test::BundledModelName());

}  // namespace
}  // namespace aimc
