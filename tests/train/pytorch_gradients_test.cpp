// Gradients of the bundled models against PyTorch's: tools/export_grad_fixtures.py loaded each
// model's weights into its PyTorch definition, ran 8 test images through it and recorded the
// mean cross-entropy and d(loss)/d(initializer) for every initializer, and d(loss)/d(input).
// aimc's canonical graph holds some weights transposed or scaled (Gemm, BatchNorm folding);
// initializer_gradient() maps its gradients back through the recorded constant origins.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

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
  int64_t at = 0;
  for (int64_t i = 0; i < ours.numel(); ++i) {
    const double error = std::abs(double{ours.data<float>()[i]} - reference.data<float>()[i]);
    if (error > worst) worst = error, at = i;
  }
  EXPECT_LE(worst / scale, tolerance) << what << ": max |ours - torch| " << worst << " at element "
                                      << at << " (ours " << ours.data<float>()[at] << ", torch "
                                      << reference.data<float>()[at] << "), max |torch| " << scale;
}

// Images (batch rows) in which some MaxPool window holds two positive values within 1e-6 of
// each other (relative): which of them is the maximum, and so where the gradient goes, is
// decided by float summation order, which differs between BLAS kernels and CPUs. Handles the
// bundled models' pools (kernel = stride, no padding, NCHW).
std::set<int64_t> images_with_pool_near_ties(const ir::Graph& graph, const ForwardRecord& record) {
  std::set<int64_t> images;
  for (const auto& node : graph.nodes()) {
    if (node->op != "MaxPool") continue;
    const std::vector<int64_t> kernel = node->require_ints("kernel_shape");
    EXPECT_EQ(kernel, node->attr_ints("strides", kernel)) << node->describe();
    const Tensor& x = record.get(node->input(0));
    const std::vector<int64_t>& shape = x.shape();
    if (shape.size() != 4 || kernel.size() != 2) continue;
    const float* v = x.data<float>();
    const int64_t H = shape[2], W = shape[3];
    for (int64_t plane = 0; plane < shape[0] * shape[1]; ++plane)
      for (int64_t h0 = 0; h0 + kernel[0] <= H; h0 += kernel[0])
        for (int64_t w0 = 0; w0 + kernel[1] <= W; w0 += kernel[1]) {
          float first = -INFINITY, second = -INFINITY;
          for (int64_t h = h0; h < h0 + kernel[0]; ++h)
            for (int64_t w = w0; w < w0 + kernel[1]; ++w) {
              const float value = v[(plane * H + h) * W + w];
              if (value > first)
                second = first, first = value;
              else if (value > second)
                second = value;
            }
          if (first > 0.0f && first > second && first - second <= 1e-6f * first)
            images.insert(plane / shape[1]);
        }
  }
  return images;
}

// The input gradient image by image: an image without pooling near-ties must match within
// 1e-4 of the largest element of the whole gradient; of those with near-ties, at most half may
// differ (their gradient reaches other pixels when a tie resolves the other way).
void expect_input_gradient_close(const Tensor& ours, const Tensor& reference,
                                 const std::set<int64_t>& near_ties) {
  const int64_t images = ours.shape()[0], per_image = ours.numel() / images;
  const double scale = std::max(max_abs(reference), 1e-12);
  int64_t differing_with_ties = 0;
  for (int64_t i = 0; i < images; ++i) {
    const float* a = ours.data<float>() + i * per_image;
    const float* b = reference.data<float>() + i * per_image;
    double worst = 0.0;
    for (int64_t j = 0; j < per_image; ++j) worst = std::max(worst, std::abs(double{a[j]} - b[j]));
    if (near_ties.count(i)) {
      differing_with_ties += worst > 1e-4 * scale;
      continue;
    }
    EXPECT_LE(worst / scale, 1e-4) << "input gradient of image " << i << ": max |ours - torch| "
                                   << worst << ", max |torch| " << scale;
  }
  EXPECT_LE(2 * differing_with_ties, static_cast<int64_t>(near_ties.size()))
      << differing_with_ties << " of the " << near_ties.size()
      << " images with pooling near-ties differ";
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
  expect_input_gradient_close(grads.at(graph->inputs[0]), read_npy(dir + "/grad_input.npy"),
                              images_with_pool_near_ties(*graph, record));
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
