// NL-DPE's readout trees (readout.mode acam, docs/analog-model.md §8) against plain loops: the
// calibrated column ranges, each tree's output as the quantised function of the column's analog
// value, and whole layers (one row block fused with its activation; several row blocks read
// through identity trees and added) against the exact crossbar reference followed by that
// quantisation. Then reproducibility of the noisy trees, and the CAM-row limit.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "aimc/analog/crossbar.h"
#include "aimc/analog/executor.h"
#include "aimc/analog/readout.h"
#include "aimc/arch/architecture.h"
#include "aimc/core/error.h"
#include "aimc/core/parallel.h"
#include "aimc/runtime/threads.h"

namespace aimc::analog {
namespace {

// Noise-free crossbars, readout trees of depth 6 (identity 7), 8 output bits.
const char* kReadoutArch = R"(
name: readout-test
array: {rows: 64, cols: 64, cell_bits: 2}
input: {in_bits: 8, dac_bits: 1}
weights: {w_bits: 8}
readout: {mode: acam, depth_identity: 7, depth_relu: 6, depth_gelu: 6, depth_tanh: 6,
          out_bits: 8, percentile: 100}
mapping: {linear: crossbar, conv: crossbar}
)";

arch::Architecture readout_arch(const std::vector<std::string>& overrides = {}) {
  return arch::parse_architecture(kReadoutArch, "readout-test.yaml", overrides);
}

Tensor random_tensor(Shape shape, uint32_t seed, float scale = 1.0f) {
  Tensor t(DType::kF32, std::move(shape));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = normal(rng);
  return t;
}

// The tree of f over [lo, hi] with `depth` input bits and `out_bits` output bits, as a plain
// formula (ANALOG_MODEL.md §3): the input code's centre, f there, rounded to the output codes
// spanning f's range over all centres.
double reference_tree(AcamFunction f, double lo, double hi, int depth, int out_bits, double x) {
  const int codes = 1 << depth;
  const double step = (hi - lo) / codes;
  double f_min = INFINITY, f_max = -INFINITY;
  for (int c = 0; c < codes; ++c) {
    const double v = acam_function_value(f, lo + (c + 0.5) * step);
    f_min = std::min(f_min, v);
    f_max = std::max(f_max, v);
  }
  const int code = std::clamp(static_cast<int>(std::floor((x - lo) / step)), 0, codes - 1);
  const double levels = (1 << out_bits) - 1;
  const double v = acam_function_value(f, lo + (code + 0.5) * step);
  const double level = f_max > f_min ? std::round((v - f_min) / (f_max - f_min) * levels) : 0;
  return f_min + level * (f_max - f_min) / levels;
}

// x [M, K] · w [K, N] + b in double.
Tensor digital(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t m = x.dim(0), k = x.dim(1), n = w.dim(1);
  Tensor y(DType::kF32, {m, n});
  for (int64_t r = 0; r < m; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double s = b.is_valid() ? b.data<float>()[j] : 0.0;
      for (int64_t i = 0; i < k; ++i)
        s += static_cast<double>(x.data<float>()[r * k + i]) * w.data<float>()[i * n + j];
      y.data<float>()[r * n + j] = static_cast<float>(s);
    }
  return y;
}

TEST(ReadoutRanges, CentralShareOfEachColumnAndOneLeafBelowZeroForRelu) {
  Tensor y(DType::kF32, {1000, 2});
  for (int r = 0; r < 1000; ++r) {
    y.data<float>()[r * 2] = static_cast<float>(999 - r);  // 0 .. 999, reversed
    y.data<float>()[r * 2 + 1] = static_cast<float>(r - 500);
  }
  arch::ReadoutConfig config = readout_arch().readout;
  auto all = readout_ranges(y, AcamFunction::kIdentity, config);
  EXPECT_EQ(all[0], std::make_pair(0.0, 999.0));
  EXPECT_EQ(all[1], std::make_pair(-500.0, 499.0));
  // 99 %: floor(0.005 x 999) = 4 values cut at each end.
  config.percentile = 99.0;
  auto central = readout_ranges(y, AcamFunction::kIdentity, config);
  EXPECT_EQ(central[0], std::make_pair(4.0, 995.0));
  EXPECT_EQ(central[1], std::make_pair(-496.0, 495.0));
  // relu (depth 6): one code of width hi / 63 below 0, whose centre reads relu = 0.
  auto relu = readout_ranges(y, AcamFunction::kRelu, config);
  EXPECT_DOUBLE_EQ(relu[1].first, -495.0 / 63.0);
  EXPECT_EQ(relu[1].second, 495.0);
  EXPECT_EQ(relu[0], central[0]);  // never negative: nothing to change
  // NaN and infinities are ignored; a constant column gets a small non-empty range.
  Tensor odd(DType::kF32, {3, 1});
  odd.data<float>()[0] = NAN;
  odd.data<float>()[1] = 2.0f;
  odd.data<float>()[2] = INFINITY;
  auto constant = readout_ranges(odd, AcamFunction::kIdentity, config);
  EXPECT_LT(constant[0].first, 2.0);
  EXPECT_GT(constant[0].second, 2.0);
}

TEST(ColumnReadout, EveryColumnIsThePlainQuantisedFunction) {
  const arch::Architecture arch = readout_arch();
  const Tensor calibration = random_tensor({200, 5}, 1, 2.0f);
  for (AcamFunction f :
       {AcamFunction::kIdentity, AcamFunction::kRelu, AcamFunction::kGelu, AcamFunction::kTanh}) {
    SCOPED_TRACE(acam_function_name(f));
    ColumnReadout readout(arch.readout, f, calibration, {3, 0, "layer"});
    const auto ranges = readout_ranges(calibration, f, arch.readout);
    const int depth = arch.readout.depth(acam_function_name(f));
    Tensor y = random_tensor({50, 5}, 2, 2.5f);  // some values outside the calibrated ranges
    const Tensor x = y;
    Tensor before(DType::kF32, y.shape());
    std::copy(x.data<float>(), x.data<float>() + x.numel(), before.data<float>());
    readout.apply(y, 0);
    for (int64_t r = 0; r < 50; ++r)
      for (int64_t j = 0; j < 5; ++j) {
        const double expected = reference_tree(f, ranges[j].first, ranges[j].second, depth, 8,
                                               before.data<float>()[r * 5 + j]);
        EXPECT_NEAR(y.data<float>()[r * 5 + j], expected, 1e-6 * (1 + std::abs(expected)))
            << "row " << r << " column " << j;
      }
    EXPECT_GT(readout.rows(), 0);
  }
}

// x [?, K] -> linear(w, b) -> Relu -> out.
struct LinearRelu {
  ir::Graph graph;
  LinearRelu(const Tensor& w, const Tensor& b) {
    const int64_t k = w.dim(0), n = w.dim(1);
    ir::Value* x = graph.add_value("x");
    x->shape = ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(k)};
    x->dtype_known = true;
    graph.inputs = {x};
    ir::Value* y = graph.add_value("y");
    y->shape = ir::SymShape{ir::Dim::symbolic("batch"), ir::Dim::of(n)};
    y->dtype_known = true;
    ir::Value* z = graph.add_value("z");
    z->shape = y->shape;
    z->dtype_known = true;
    graph.add_node("linear", "fc", {x, graph.add_constant("w", w), graph.add_constant("b", b)},
                   {y});
    graph.add_node("Relu", "relu", {y}, {z});
    graph.outputs = {z};
  }
};

Tensor run(const ir::Graph& graph, const arch::Architecture& arch, uint64_t trial,
           const Tensor& calibration, const Tensor& x, std::vector<AnalogLayer>* layers = nullptr) {
  AnalogModel model(graph, arch, 11, trial);
  model.calibrate({{"x", calibration}});
  if (layers) *layers = model.layers();
  return model.run({{"x", x}}, 0).at("z");
}

// The noise-free crossbar with an ideal ADC (readout layers add their reads in analog).
arch::Architecture summing(const arch::Architecture& arch) {
  arch::Architecture sum = arch;
  sum.adc.model.model = "ideal";
  sum.adc.model.params.clear();
  return sum;
}

TEST(ReadoutLayer, OneRowBlockComputesTheFusedReluOfTheExactDotProduct) {
  const arch::Architecture arch = readout_arch();
  const Tensor w = random_tensor({48, 6}, 3, 0.2f), b = random_tensor({6}, 4, 0.1f);
  const Tensor calibration = random_tensor({64, 48}, 5), x = random_tensor({20, 48}, 6);
  LinearRelu model(w, b);
  std::vector<AnalogLayer> layers;
  const Tensor z = run(model.graph, arch, 0, calibration, x, &layers);
  ASSERT_EQ(layers.size(), 2u);
  EXPECT_EQ(layers[0].lowering, "readout.linear");
  EXPECT_EQ(layers[1].lowering, "readout.fused_relu");
  // The reference: the exact integer dot product, then the column's relu tree, calibrated on
  // the digital pre-activations of the calibration set.
  const Tensor exact = crossbar_reference(summing(arch), w, b, x);
  const auto ranges = readout_ranges(digital(calibration, w, b), AcamFunction::kRelu, arch.readout);
  int negative = 0;
  for (int64_t r = 0; r < 20; ++r)
    for (int64_t j = 0; j < 6; ++j) {
      const double pre = exact.data<float>()[r * 6 + j];
      const double expected =
          reference_tree(AcamFunction::kRelu, ranges[j].first, ranges[j].second, 6, 8, pre);
      EXPECT_NEAR(z.data<float>()[r * 6 + j], expected, 1e-5 * (1 + std::abs(expected)));
      if (pre < 0) {
        ++negative;
        EXPECT_EQ(z.data<float>()[r * 6 + j], 0.0f);  // the leaf below 0 reads exactly 0
      }
    }
  EXPECT_GT(negative, 10);
}

TEST(ReadoutLayer, SeveralRowBlocksAddIdentityReadoutsAndLeaveTheActivationDigital) {
  const arch::Architecture arch = readout_arch();  // 64 rows: K = 100 needs 2 row blocks
  const Tensor w = random_tensor({100, 4}, 7, 0.2f), b = random_tensor({4}, 8, 0.1f);
  const Tensor calibration = random_tensor({64, 100}, 9), x = random_tensor({12, 100}, 10);
  LinearRelu model(w, b);
  std::vector<AnalogLayer> layers;
  const Tensor z = run(model.graph, arch, 0, calibration, x, &layers);
  ASSERT_EQ(layers.size(), 1u);  // the Relu runs digitally
  EXPECT_EQ(layers[0].lowering, "readout.linear");
  // Block b: rows [64 b, 64 b + 64) of w; the bias enters with block 0.
  Tensor expected(DType::kF32, {12, 4});
  for (int64_t block = 0; block < 2; ++block) {
    const int64_t first = block * 64, count = block == 0 ? 64 : 36;
    Tensor wb(DType::kF32, {count, 4}), xb(DType::kF32, {12, count}), cb(DType::kF32, {64, count});
    std::copy(w.data<float>() + first * 4, w.data<float>() + (first + count) * 4, wb.data<float>());
    for (int64_t r = 0; r < 12; ++r)
      for (int64_t i = 0; i < count; ++i)
        xb.data<float>()[r * count + i] = x.data<float>()[r * 100 + first + i];
    for (int64_t r = 0; r < 64; ++r)
      for (int64_t i = 0; i < count; ++i)
        cb.data<float>()[r * count + i] = calibration.data<float>()[r * 100 + first + i];
    const Tensor bias = block == 0 ? b : Tensor();
    const Tensor exact = crossbar_reference(summing(arch), wb, bias, xb);
    const auto ranges =
        readout_ranges(digital(cb, wb, bias), AcamFunction::kIdentity, arch.readout);
    for (int64_t r = 0; r < 12; ++r)
      for (int64_t j = 0; j < 4; ++j)
        expected.data<float>()[r * 4 + j] += static_cast<float>(
            reference_tree(AcamFunction::kIdentity, ranges[j].first, ranges[j].second, 7, 8,
                           exact.data<float>()[r * 4 + j]));
  }
  for (int64_t i = 0; i < 48; ++i) {
    const float relu = std::max(0.0f, expected.data<float>()[i]);
    EXPECT_NEAR(z.data<float>()[i], relu, 1e-5 * (1 + std::abs(relu))) << i;
  }
}

TEST(ReadoutLayer, NoisyTreesAreReproducibleAcrossThreadsAndChangeWithTheTrial) {
  const arch::Architecture arch =
      readout_arch({"readout.threshold_sigma=0.01", "readout.input_sigma=0.01"});
  const Tensor w = random_tensor({48, 6}, 3, 0.2f), b = random_tensor({6}, 4, 0.1f);
  const Tensor calibration = random_tensor({64, 48}, 5), x = random_tensor({40, 48}, 6);
  LinearRelu model(w, b);
  runtime::set_threads(1);
  const Tensor one = run(model.graph, arch, 0, calibration, x);
  runtime::set_threads(2);
  const Tensor two = run(model.graph, arch, 0, calibration, x);
  runtime::set_threads(0);
  const Tensor other = run(model.graph, arch, 1, calibration, x);
  const Tensor clean = run(model.graph, readout_arch(), 0, calibration, x);
  int differ_trial = 0, differ_clean = 0;
  for (int64_t i = 0; i < one.numel(); ++i) {
    EXPECT_EQ(one.data<float>()[i], two.data<float>()[i]) << i;
    differ_trial += one.data<float>()[i] != other.data<float>()[i];
    differ_clean += one.data<float>()[i] != clean.data<float>()[i];
  }
  EXPECT_GT(differ_trial, 0);
  EXPECT_GT(differ_clean, 0);
}

TEST(ReadoutLayer, ATreeNeedingMoreRowsThanAColumnHoldsIsBadInputNamingTheNode) {
  const arch::Architecture arch = readout_arch({"readout.rows_per_column=8"});
  const Tensor w = random_tensor({48, 6}, 3, 0.2f), b = random_tensor({6}, 4, 0.1f);
  LinearRelu model(w, b);
  try {
    run(model.graph, arch, 0, random_tensor({64, 48}, 5), random_tensor({4, 48}, 6));
    FAIL() << "expected bad input";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
    const std::string what = e.what();
    EXPECT_NE(what.find("'fc'"), std::string::npos) << what;
    EXPECT_NE(what.find("readout.rows_per_column"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace aimc::analog
