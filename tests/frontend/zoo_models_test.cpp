// The model zoo fixtures (tests/data/zoo, written by tools/export_zoo.py --small): torchvision's
// architectures at small widths and the standard Transformer and recurrent blocks, exported by
// PyTorch at opsets 13 and 17 with a dynamic batch. Each runs as imported and canonicalised,
// with 1 and 2 threads, at the exported batch of 2 and at batch 1, and gives PyTorch's output
// (max |difference| <= 1e-4 x max |output|).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/threads.h"

namespace aimc {
namespace {

const std::string kZoo = std::string(AIMC_SOURCE_DIR) + "/tests/data/zoo/";

// The first `rows` entries of the leading dimension.
Tensor leading(const Tensor& t, int64_t rows) {
  Shape shape = t.shape();
  int64_t per_row = t.numel() / shape[0];
  shape[0] = rows;
  Tensor out(t.dtype(), shape);
  std::memcpy(out.raw(), t.raw(), static_cast<size_t>(rows * per_row) * dtype_size(t.dtype()));
  return out;
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  float max_abs = 0, max_diff = 0;
  for (int64_t i = 0; i < got.numel(); ++i) {
    max_abs = std::max(max_abs, std::abs(want.data<float>()[i]));
    max_diff = std::max(max_diff, std::abs(got.data<float>()[i] - want.data<float>()[i]));
  }
  EXPECT_GT(max_abs, 0.0f) << what;
  EXPECT_LE(max_diff, 1e-4f * max_abs) << what;
}

class ZooModel : public ::testing::TestWithParam<std::string> {};

TEST_P(ZooModel, MatchesPyTorchImportedAndCanonicalAtBatchTwoAndOne) {
  const std::string name = GetParam();
  Tensor input = read_npy(kZoo + name + ".input.npy");
  Tensor expected = read_npy(kZoo + name + ".output.npy");
  ASSERT_EQ(input.shape()[0], 2);
  for (bool canonical : {false, true}) {
    auto graph = frontend::load_onnx(kZoo + name + ".onnx");
    if (canonical) passes::canonicalize(*graph, runtime::evaluate_node);
    ASSERT_EQ(graph->inputs.size(), 1u);
    runtime::Executor executor(*graph);
    for (int threads : {1, 2}) {
      runtime::set_threads(threads);
      std::string what = name + (canonical ? " canonical" : " imported") + ", " +
                         std::to_string(threads) + " threads";
      for (int64_t batch : {2, 1}) {
        Tensor got = executor.run({{graph->inputs[0]->name, leading(input, batch)}})
                         .at(graph->outputs[0]->name);
        expect_close(got, leading(expected, batch), what + ", batch " + std::to_string(batch));
      }
    }
  }
  runtime::set_threads(0);
}

std::vector<std::string> zoo_names() {
  std::vector<std::string> names;
  for (const char* model :
       {"resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0",
        "squeezenet1_1", "shufflenet_v2_x0_5", "regnet_x_400mf", "convnext_tiny", "vit_b_16",
        "swin_t", "transformer_encoder", "gpt_decoder", "lstm", "gru"})
    for (const char* opset : {"_op13", "_op17"}) names.push_back(std::string(model) + opset);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Zoo, ZooModel, ::testing::ValuesIn(zoo_names()));

}  // namespace
}  // namespace aimc
