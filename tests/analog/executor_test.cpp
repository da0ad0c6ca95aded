// The analog executor on the bundled models: reproducible chip instances (same seed → same
// outputs whatever the thread count or batch size), noise that changes with the trial, an
// ideal architecture that keeps the digital accuracy, and clear errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "aimc/analog/executor.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/npy.h"
#include "aimc/core/parallel.h"
#include "aimc/data/dataset.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"
#include "aimc/runtime/threads.h"
#include "common/bundled_models.h"

namespace aimc::analog {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

std::unique_ptr<ir::Graph> load(const std::string& model) {
  auto graph = frontend::load_onnx(kSource + "/models/" + model + ".onnx");
  passes::canonicalize(*graph, runtime::evaluate_node);
  return graph;
}

// Every noise source on, ACAM units for every function, log-domain attention.
const char* kNoisy = R"(
name: noisy
array: {rows: 64, cols: 64, cell_bits: 2}
input: {in_bits: 8, dac_bits: 2}
weights: {w_bits: 8}
adc: {model: uniform, bits: 8}
device:
  programming: {model: constant, sigma: 0.02}
  read: {model: proportional, sigma: 0.01}
  output: {model: gaussian, sigma: 0.001}
  stuck: {model: random, p_off: 0.001, p_on: 0.001}
acam: {in_bits: 8, out_bits: 8, threshold_sigma: 0.002, input_sigma: 0.002}
dmmul: {mode: log_acam}
mapping: {linear: crossbar, conv: crossbar, matmul: acam, gelu: acam, softmax: acam,
          layer_norm: acam}
)";

Tensor rows_of(const Tensor& t, int64_t begin, int64_t end) {
  Shape shape = t.shape();
  const int64_t per = t.numel() / shape[0];
  shape[0] = end - begin;
  Tensor out(t.dtype(), shape);
  std::memcpy(out.raw(), t.raw() + begin * per * dtype_size(t.dtype()), out.nbytes());
  return out;
}

Tensor run_model(const ir::Graph& graph, const arch::Architecture& arch, uint64_t trial,
                 const Tensor& calibration, const Tensor& x, int64_t batch) {
  AnalogModel model(graph, arch, 7, trial);
  const std::string in = graph.inputs[0]->name, out = graph.outputs[0]->name;
  model.calibrate({{in, calibration}});
  std::vector<Tensor> parts;
  for (int64_t b = 0; b < x.dim(0); b += batch) {
    int64_t e = std::min(x.dim(0), b + batch);
    parts.push_back(model.run({{in, rows_of(x, b, e)}}, b).at(out));
  }
  Shape shape = parts[0].shape();
  shape[0] = x.dim(0);
  Tensor all(DType::kF32, shape);
  size_t at = 0;
  for (const Tensor& p : parts) {
    std::memcpy(all.raw() + at, p.raw(), p.nbytes());
    at += p.nbytes();
  }
  return all;
}

class Reproducible : public testing::TestWithParam<std::string> {};

TEST_P(Reproducible, SameSeedSameOutputsAcrossThreadsAndBatchSizes) {
  auto graph = load(GetParam());
  arch::Architecture arch = arch::parse_architecture(kNoisy, "noisy.yaml");
  Tensor x = read_npy(kSource + "/models/" + GetParam() + ".ref-input.npy");
  // A few samples keep the test short: the text model's windows are 128 tokens each.
  const int64_t samples = GetParam() == "gpt-fortunes" ? 2 : 8;
  x = rows_of(x, 0, samples);
  Tensor calibration = rows_of(x, 0, 1);

  runtime::set_threads(2);
  Tensor two = run_model(*graph, arch, 0, calibration, x, x.dim(0));
  runtime::set_threads(1);
  Tensor one = run_model(*graph, arch, 0, calibration, x, x.dim(0));
  Tensor single = run_model(*graph, arch, 0, calibration, x, 1);
  runtime::set_threads(0);
  ASSERT_EQ(one.shape(), two.shape());
  EXPECT_EQ(std::memcmp(one.raw(), two.raw(), one.nbytes()), 0) << "1 vs 2 threads";
  EXPECT_EQ(std::memcmp(one.raw(), single.raw(), one.nbytes()), 0) << "batch 8 vs 1";

  // Another chip instance differs; the digital model differs from both but not by much.
  Tensor other = run_model(*graph, arch, 1, calibration, x, x.dim(0));
  EXPECT_NE(std::memcmp(one.raw(), other.raw(), one.nbytes()), 0);
  runtime::Executor digital(*graph);
  Tensor d = digital.run({{graph->inputs[0]->name, x}}).at(graph->outputs[0]->name);
  double signal = 0, noise = 0;
  for (int64_t i = 0; i < d.numel(); ++i) {
    signal += double(d.data<float>()[i]) * d.data<float>()[i];
    noise += std::pow(double(one.data<float>()[i]) - d.data<float>()[i], 2);
  }
  EXPECT_GT(noise, 0.0);
  // Every noise source is on and the calibration set is one sample: noisy, but the signal
  // must still dominate.
  EXPECT_GT(10 * std::log10(signal / noise), 0.0) << "analog output unrelated to digital";
}

INSTANTIATE_TEST_SUITE_P(Models, Reproducible,
                         testing::Values("vit-fmnist", "cnn-fmnist", "gpt-fortunes"),
                         test::BundledModelName());

// ideal.yaml: no noise, lossless conversions: the ViT keeps its digital accuracy within
// 0.1 percentage points on the whole test split.
TEST(AnalogEval, IdealArchitectureKeepsTheDigitalAccuracy) {
  auto graph = load("vit-fmnist");
  arch::Architecture arch = arch::load_architecture(kSource + "/presets/ideal.yaml");
  std::unique_ptr<data::Dataset> ds = data::open_dataset("fashion-mnist", {});
  runtime::Executor executor(*graph);
  const std::string in = graph->inputs[0]->name, out = graph->outputs[0]->name;
  data::Score digital = data::evaluate(*ds, -1, 500, [&](const Tensor& x, int64_t) {
    return executor.run({{in, x}}).at(out);
  });
  AnalogModel model(*graph, arch, 0, 0);
  model.calibrate({{in, ds->calibration_inputs(arch.calibration_samples)}});
  data::Score analog = data::evaluate(*ds, -1, 500, [&](const Tensor& x, int64_t first) {
    return model.run({{in, x}}, first).at(out);
  });
  EXPECT_EQ(analog.samples, 10000);
  EXPECT_NEAR(100.0 * analog.accuracy(), 100.0 * digital.accuracy(), 0.1);
  // Every linear and the patch convolution are on crossbars.
  int crossbar_layers = 0;
  for (const AnalogLayer& l : model.layers())
    crossbar_layers += l.placement == arch::Placement::kCrossbar && l.arrays > 0;
  EXPECT_EQ(crossbar_layers, 18);
}

TEST(AnalogModelErrors, CalibrateBeforeRun) {
  auto graph = load("mlp-fmnist");
  arch::Architecture arch = arch::parse_architecture(kNoisy, "noisy.yaml");
  AnalogModel model(*graph, arch, 0, 0);
  Tensor x = read_npy(kSource + "/models/mlp-fmnist.ref-input.npy");
  EXPECT_THROW(model.run({{graph->inputs[0]->name, x}}, 0), Error);
}

}  // namespace
}  // namespace aimc::analog
