// The mapping and the analytical cost model on single layers computed by hand, the invariants
// (totals are the sums of their breakdowns, more ADCs never slow a layer down) and the
// bundled ViT on the RACE preset.
#include "aimc/cost/nn_cost.h"

#include <gtest/gtest.h>

#include <cmath>

#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// 128x128 arrays of 2-bit cells, 8-bit inputs (1-bit DAC: 7 steps x 2 phases), 8-bit weights
// (4 slices x 2 polarities), one tile of two cores of 16 arrays.
const char* kArch = R"(
name: hand
array: {rows: 128, cols: 128, cell_bits: 2}
input: {in_bits: 8, dac_bits: 1}
weights: {w_bits: 8}
chip: {tiles: 1, cores_per_tile: 2, arrays_per_core: 16, acam_units_per_core: 1,
       adcs_per_array: 1, clock_hz: 1e9}
components:
  crossbar: {energy: 1e-12, leakage: 1e-3, area: 1e-11, latency: 1e-7}
  dac: {energy: 1e-15, area: 1e-13}
  adc: {energy: 2e-12, area: 1e-9, latency: 1e-9}
  shift_add: {energy: 1e-14, area: 5e-11}
  acam: {energy: 3e-12, area: 2e-10, latency: 4e-9}
  buffer: {energy: 1e-13, area: 1e-7}
  alu: {energy: 1e-12, area: 4e-9, latency: 1e-9}
  router: {energy: 1e-15, area: 3e-8}
mapping: {linear: crossbar, gelu: acam}
)";

arch::Architecture hand_arch(const std::vector<std::string>& overrides = {}) {
  return arch::parse_architecture(kArch, "hand.yaml", overrides);
}

ir::Value* activation(ir::Graph& graph, const std::string& name, ir::SymShape shape) {
  ir::Value* value = graph.add_value(name);
  value->shape = std::move(shape);
  value->dtype_known = true;
  return value;
}

// y[batch, 4, 200] = linear(x[batch, 4, 256], W[256, 200]), then optionally gelu(y).
std::unique_ptr<ir::Graph> one_linear(bool with_gelu) {
  auto graph = std::make_unique<ir::Graph>();
  ir::Value* x =
      activation(*graph, "x", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(256)});
  graph->inputs.push_back(x);
  ir::Value* w = graph->add_constant("w", Tensor(DType::kF32, Shape{256, 200}));
  ir::Value* y =
      activation(*graph, "y", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(200)});
  graph->add_node("linear", "fc", {x, w}, {y});
  graph->outputs.push_back(y);
  if (with_gelu) {
    ir::Value* z =
        activation(*graph, "z", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(200)});
    graph->add_node("gelu", "act", {y}, {z});
    graph->outputs = {z};
  }
  return graph;
}

TEST(Mapping, LinearLayerCountsByHand) {
  auto graph = one_linear(false);
  compiler::Mapping mapping = compiler::map_graph(*graph, hand_arch());
  ASSERT_EQ(mapping.layers.size(), 1u);
  const compiler::LayerMapping& layer = mapping.layers[0];
  EXPECT_EQ(layer.kind, compiler::LayerKind::kCrossbar);
  EXPECT_EQ(layer.k, 256);
  EXPECT_EQ(layer.n, 200);
  EXPECT_EQ(layer.row_blocks, 2);  // ceil(256 / 128)
  EXPECT_EQ(layer.col_blocks, 2);  // ceil(200 / 128)
  EXPECT_EQ(layer.slices, 4);      // ceil((8 - 1) / 2)
  EXPECT_EQ(layer.arrays, 32);     // 2 x 2 x 4 x 2 polarities
  EXPECT_EQ(layer.cores, 2);       // 32 / 16 arrays per core
  EXPECT_EQ(layer.vectors_per_inference, 4);
  EXPECT_EQ(mapping.arrays_used, 32);
  EXPECT_EQ(mapping.tiles_used, 1);
  EXPECT_EQ(mapping.chips_used, 1);
}

TEST(Mapping, AModelThatDoesNotFitFailsWithTheCounts) {
  auto graph = one_linear(false);
  arch::Architecture small = hand_arch({"chip.cores_per_tile=1"});
  try {
    compiler::map_graph(*graph, small);
    FAIL() << "expected a bad-input error";
  } catch (const Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::kBadInput);
    std::string message = error.what();
    EXPECT_NE(message.find("needs 32 crossbar arrays"), std::string::npos) << message;
    EXPECT_NE(message.find("hold 16 arrays"), std::string::npos) << message;
    EXPECT_NE(message.find("--chips 2"), std::string::npos) << message;
  }
  compiler::Mapping two = compiler::map_graph(*graph, small, {2});
  EXPECT_EQ(two.chips_used, 2);
}

TEST(Mapping, AcamWithoutUnitsIsBadInput) {
  auto graph = one_linear(true);
  EXPECT_THROW(compiler::map_graph(*graph, hand_arch({"chip.acam_units_per_core=0"})), Error);
}

TEST(NnCost, LinearLayerEnergyLatencyAreaByHand) {
  auto graph = one_linear(false);
  arch::Architecture arch = hand_arch();
  compiler::Mapping mapping = compiler::map_graph(*graph, arch);
  for (int64_t batch : {1, 3}) {
    cost::NnCost c = cost::estimate_nn(mapping, arch, batch);
    const double b = static_cast<double>(batch);
    const double steps = 4 * b * 2 * 7;                  // vectors x phases x DAC steps
    const double reads = steps * 32;                     // every array, every step
    const double dacs = steps * 256 * 2 * 4 * 2;         // K rows x col blocks x slices x 2
    const double conversions = steps * 2 * 4 * 200;      // row blocks x slices x N columns
    const double alu_ops = 4 * 200 * b;                  // dequantise + bias per output
    const double bytes = (4 * 256 + 4 * 200) * b * 1.0;  // 8-bit activations in and out
    const double bits = 4 * 200 * b * 8;
    const double dynamic = reads * 1e-12 + dacs * 1e-15 + conversions * 2e-12 +
                           conversions * 1e-14 + alu_ops * 1e-12 + bytes * 1e-13 + bits * 1e-15;
    // Read step: max(100 ns crossbar, 128 columns / (2 polarities x 1 ADC) x 1 ns = 64 ns).
    const double latency = steps * 1e-7;
    EXPECT_NEAR(c.latency_s, latency, 1e-12 * latency);
    EXPECT_NEAR(c.interval_s, latency, 1e-12 * latency);
    EXPECT_NEAR(c.throughput, b / latency, 1e-9 * b / latency);
    EXPECT_NEAR(c.dynamic_j, dynamic / b, 1e-12 * dynamic);
    // Leakage: 32 arrays x 1 mW over one batch interval, per inference.
    const double leakage = 32 * 1e-3 * latency / b;
    EXPECT_NEAR(c.leakage_j, leakage, 1e-12 * leakage);
    EXPECT_NEAR(c.energy_j, dynamic / b + leakage, 1e-12 * dynamic);
    EXPECT_NEAR(c.power_w, (dynamic + leakage * b) / latency, 1e-9 * dynamic / latency);
    // Area of the chip: 32 arrays, 32 x 128 DACs, 32 ADCs and shift-adds, 2 ACAM units,
    // 1 buffer, 2 ALUs, 1 router.
    const double area =
        32 * 1e-11 + 32 * 128 * 1e-13 + 32 * 1e-9 + 32 * 5e-11 + 2 * 2e-10 + 1e-7 + 2 * 4e-9 + 3e-8;
    EXPECT_NEAR(c.area_m2, area, 1e-12 * area);
    const auto& actions = c.by_layer.at(0).actions;
    EXPECT_EQ(actions.at("crossbar"), reads);
    EXPECT_EQ(actions.at("dac"), dacs);
    EXPECT_EQ(actions.at("adc"), conversions);
    EXPECT_EQ(actions.at("shift_add"), conversions);
    EXPECT_EQ(actions.at("alu"), alu_ops);
    EXPECT_EQ(actions.at("buffer"), bytes);
    EXPECT_EQ(actions.at("router"), bits);
  }
}

TEST(NnCost, AcamLayerByHand) {
  auto graph = one_linear(true);
  // The linear layer takes 2 whole cores, the gelu unit a third.
  arch::Architecture arch = hand_arch({"chip.cores_per_tile=3"});
  cost::NnCost c = cost::estimate_nn(compiler::map_graph(*graph, arch), arch, 2);
  ASSERT_EQ(c.by_layer.size(), 2u);
  const cost::LayerCost& gelu = c.by_layer[1];
  EXPECT_EQ(gelu.kind, compiler::LayerKind::kAcam);
  EXPECT_EQ(gelu.actions.at("acam"), 2 * 800.0);  // one search per element
  EXPECT_NEAR(gelu.latency_s, 1600 * 4e-9, 1e-20);
  EXPECT_NEAR(gelu.energy_by_component_j.at("acam"), 800 * 3e-12, 1e-24);
}

TEST(NnCost, MoreAdcsNeverIncreaseLatency) {
  auto graph = one_linear(false);
  double previous = std::numeric_limits<double>::infinity();
  for (const char* adcs : {"0.0625", "0.125", "0.25", "0.5", "1", "2", "8"}) {
    arch::Architecture arch = hand_arch({std::string("chip.adcs_per_array=") + adcs});
    cost::NnCost c = cost::estimate_nn(compiler::map_graph(*graph, arch), arch, 1);
    EXPECT_LE(c.latency_s, previous) << adcs << " ADCs per array";
    previous = c.latency_s;
  }
  // ADC-bound at 1/8 ADC per array: 128 columns / (2 x 0.125) x 1 ns = 512 ns per step.
  arch::Architecture shared = hand_arch({"chip.adcs_per_array=0.125"});
  cost::NnCost c = cost::estimate_nn(compiler::map_graph(*graph, shared), shared, 1);
  EXPECT_NEAR(c.latency_s, 4 * 2 * 7 * 512e-9, 1e-15);
}

void expect_totals_are_sums(const cost::NnCost& c) {
  double by_component = 0, dynamic = 0, leakage = 0, area = 0, by_layer = 0, latency = 0;
  for (const cost::ComponentTotal& t : c.by_component) {
    by_component += t.energy_j;
    dynamic += t.dynamic_j;
    leakage += t.leakage_j;
    area += t.area_m2;
    EXPECT_NEAR(t.energy_j, t.dynamic_j + t.leakage_j, 1e-12 * std::abs(t.energy_j));
  }
  for (const cost::LayerCost& l : c.by_layer) {
    by_layer += l.energy_j;
    latency += l.latency_s;
    double sum = 0;
    for (const auto& [name, joules] : l.energy_by_component_j) sum += joules;
    EXPECT_NEAR(l.energy_j, sum, 1e-12 * std::abs(sum)) << l.node;
  }
  EXPECT_NEAR(c.energy_j, by_component, 1e-9 * c.energy_j);
  EXPECT_NEAR(c.dynamic_j, dynamic, 1e-9 * c.energy_j);
  EXPECT_NEAR(c.leakage_j, leakage, 1e-9 * c.energy_j);
  EXPECT_NEAR(c.energy_j, by_layer + c.leakage_j, 1e-9 * c.energy_j);
  EXPECT_NEAR(c.area_m2, area, 1e-9 * c.area_m2);
  EXPECT_NEAR(c.latency_s, latency, 1e-9 * c.latency_s);
}

TEST(NnCost, BundledVitOnRaceTotalsAreTheSumsOfTheirBreakdowns) {
  auto graph = frontend::load_onnx(kSource + "/models/vit-fmnist.onnx");
  // As `aimc estimate` does: the batch bound to 1, so that the attention reshapes fold.
  std::map<std::string, int64_t> bindings;
  for (const ir::Value* input : graph->inputs)
    for (const ir::Dim& dim : *input->shape)
      if (!dim.known() && !dim.symbol.empty()) bindings[dim.symbol] = 1;
  ir::infer_shapes(*graph, bindings);
  passes::canonicalize(*graph, runtime::evaluate_node);
  arch::Architecture race = arch::load_architecture(kSource + "/presets/race.yaml");
  compiler::Mapping mapping = compiler::map_graph(*graph, race, {64});
  int64_t linear_nodes = 0, crossbar_layers = 0, acam_layers = 0;
  for (const auto& node : graph->nodes()) linear_nodes += node->op == "linear";
  for (const compiler::LayerMapping& layer : mapping.layers) {
    crossbar_layers += layer.kind == compiler::LayerKind::kCrossbar;
    acam_layers += layer.kind == compiler::LayerKind::kAcam;
    if (layer.kind == compiler::LayerKind::kCrossbar) {
      EXPECT_EQ(layer.arrays, layer.groups * layer.row_blocks * layer.col_blocks * 4 * 2);
      // 16 patches + the class token in every block; the head reads the class token only.
      if (layer.node.find("/blocks/") == 0) {
        EXPECT_EQ(layer.vectors_per_inference, 17) << layer.node;
      }
    }
    if (layer.op == "Softmax") {
      EXPECT_GT(layer.searches_per_inference, 17 * 17) << layer.node;
    }
  }
  EXPECT_GT(linear_nodes, 0);
  EXPECT_GE(crossbar_layers, linear_nodes);
  EXPECT_GT(acam_layers, 0);
  for (int64_t batch : {1, 8}) {
    cost::NnCost c = cost::estimate_nn(mapping, race, batch);
    EXPECT_GT(c.energy_j, 0);
    EXPECT_GT(c.latency_s, 0);
    EXPECT_GT(c.area_m2, 0);
    expect_totals_are_sums(c);
  }
}

TEST(NnCost, PeakByHand) {
  arch::Architecture arch = hand_arch();
  cost::PeakPerformance peak = cost::estimate_peak(arch);
  // 32 arrays x 128 x 128 cells, one native MAC per 4 slices x 2 polarities x 2 phases x
  // 7 steps of 100 ns.
  const double macs_per_s = 32.0 * 128 * 128 / (4 * 2 * 2 * 7 * 1e-7);
  EXPECT_NEAR(peak.macs_per_s, macs_per_s, 1e-9 * macs_per_s);
  EXPECT_NEAR(peak.gops, 2 * macs_per_s / 1e9, 1e-9 * peak.gops);
  const double step_j = 32 * (1e-12 + 128 * 1e-15 + 64 * (2e-12 + 1e-14));
  const double power = step_j / 1e-7 + 32 * 1e-3;
  EXPECT_NEAR(peak.power_w, power, 1e-9 * power);
  EXPECT_NEAR(peak.gops_per_w, peak.gops / power, 1e-9 * peak.gops_per_w);
  EXPECT_NEAR(peak.gops_per_mm2, peak.gops / (peak.area_m2 * 1e6), 1e-9 * peak.gops_per_mm2);
}

}  // namespace
}  // namespace aimc
