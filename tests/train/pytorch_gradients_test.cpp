// Gradients of the bundled models against PyTorch's: tools/export_grad_fixtures.py loaded each
// model's weights into its PyTorch definition, ran 8 test images through it and recorded the
// mean cross-entropy and d(loss)/d(initializer) for every initializer, and d(loss)/d(input).
// aimc's canonical graph holds some weights transposed or scaled (Gemm, BatchNorm folding);
// initializer_gradient() maps its gradients back through the recorded constant origins.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "aimc/api/model.h"
#include "aimc/core/npy.h"
#include "aimc/frontend/onnx_writeback.h"
#include "aimc/train/autodiff.h"
#include "aimc/train/loss.h"
#include "aimc/train/parameters.h"

namespace aimc::train {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

double max_abs(const Tensor& t) {
  double m = 0.0;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(double{t.data<float>()[i]}));
  return m;
}

// Element-wise agreement relative to the reference tensor's largest magnitude.
void expect_close(const Tensor& ours, const Tensor& reference, double tolerance,
                  const std::string& what) {
  ASSERT_EQ(ours.numel(), reference.numel()) << what;
  const double scale = std::max(max_abs(reference), 1e-12);
  double worst = 0.0;
  for (int64_t i = 0; i < ours.numel(); ++i)
    worst = std::max(worst, std::abs(double{ours.data<float>()[i]} - reference.data<float>()[i]));
  EXPECT_LE(worst / scale, tolerance)
      << what << ": max |ours - torch| " << worst << ", max |torch| " << scale;
}

class PytorchGradients : public ::testing::TestWithParam<std::string> {};

TEST_P(PytorchGradients, LossAndEveryInitializerGradientMatch) {
  const std::string dir = kSource + "/tests/data/train/" + GetParam();
  nlohmann::json index;
  std::ifstream(dir + "/index.json") >> index;
  const std::string model = kSource + "/" + index.at("model").get<std::string>();
  std::unique_ptr<ir::Graph> graph = api::load_model(model);
  ParameterSet set = find_parameters(*graph, frontend::onnx_weight_names(model));

  Tensor input = read_npy(dir + "/input.npy");
  ForwardRecord record;
  Tensor logits = forward_recorded(*graph, {{graph->inputs[0]->name, input}}, record)
                      .at(graph->outputs[0]->name);
  LossValue loss = cross_entropy(logits, read_npy(dir + "/labels.npy"));
  const double torch_loss = read_npy(dir + "/loss.npy").data<double>()[0];
  EXPECT_NEAR(loss.loss, torch_loss, 1e-5 * std::max(1.0, torch_loss));

  std::set<const ir::Value*> wanted = {graph->inputs[0]};
  for (const Parameter& p : set.trained) wanted.insert(p.value);
  auto grads = backward(*graph, record, {{graph->outputs[0], loss.grad}}, wanted);

  const auto& expected = index.at("grads");
  int64_t compared = 0;
  for (const Parameter& p : set.trained) {
    ASSERT_TRUE(expected.contains(p.origin.source)) << p.origin.source;
    Tensor reference = read_npy(dir + "/" + expected.at(p.origin.source).get<std::string>());
    expect_close(initializer_gradient(p, grads.at(p.value)), reference, 1e-4, p.origin.source);
    ++compared;
  }
  // Every initializer PyTorch has a gradient for is trained here, bar single numbers.
  EXPECT_EQ(compared, static_cast<int64_t>(expected.size()));
  expect_close(grads.at(graph->inputs[0]), read_npy(dir + "/grad_input.npy"), 1e-4, "input");
}

INSTANTIATE_TEST_SUITE_P(BundledModels, PytorchGradients,
                         ::testing::Values("vit-fmnist", "cnn-fmnist", "mlp-fmnist"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

}  // namespace
}  // namespace aimc::train
