// Results never depend on the thread count: the executor's outputs for a real model are
// bit-identical with 1 and 2 threads.
#include <gtest/gtest.h>

#include <cstring>

#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/threads.h"

namespace aimc {
namespace {

class Determinism : public testing::TestWithParam<std::string> {};

TEST_P(Determinism, SameOutputsWithOneAndTwoThreads) {
  const std::string base = std::string(AIMC_SOURCE_DIR) + "/tests/data/models/" + GetParam();
  auto graph = frontend::load_onnx(base + ".onnx");
  passes::canonicalize(*graph, runtime::evaluate_node);
  Tensor input = read_npy(base + ".input.npy");
  // A bigger batch so that the kernels really split work between threads.
  Shape big = input.shape();
  big[0] *= 32;
  Tensor batch(input.dtype(), big);
  for (int64_t r = 0; r < 32; ++r)
    std::memcpy(batch.raw() + r * input.nbytes(), input.raw(), input.nbytes());
  runtime::Executor executor(*graph);
  const std::string in = graph->inputs[0]->name, out = graph->outputs[0]->name;
  // Every node's outputs are recorded, so that a failure names the first node that differs.
  auto run_with = [&](int threads, std::vector<std::pair<std::string, Tensor>>& trace) {
    runtime::set_threads(threads);
    return executor
        .run({{in, batch}},
             [&](const ir::Node& node, const std::vector<Tensor>& outputs) {
               for (const Tensor& t : outputs)
                 trace.emplace_back(node.name + " (" + node.op + ")", t.clone());
             })
        .at(out);
  };
  std::vector<std::pair<std::string, Tensor>> trace_one, trace_two;
  Tensor one = run_with(1, trace_one);
  Tensor two = run_with(2, trace_two);
  runtime::set_threads(0);
  ASSERT_EQ(trace_one.size(), trace_two.size());
  for (size_t i = 0; i < trace_one.size(); ++i) {
    const Tensor& a = trace_one[i].second;
    const Tensor& b = trace_two[i].second;
    ASSERT_EQ(a.shape(), b.shape()) << trace_one[i].first;
    ASSERT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0)
        << "first difference at node " << trace_one[i].first;
  }
  ASSERT_EQ(one.shape(), two.shape());
  EXPECT_EQ(std::memcmp(one.raw(), two.raw(), one.nbytes()), 0);
}

INSTANTIATE_TEST_SUITE_P(Models, Determinism,
                         testing::Values("vit_tiny_op17", "gpt_tiny_op17", "cnn_tiny_op17"));

}  // namespace
}  // namespace aimc
