// The mapping and the analytical cost model on single layers computed by hand, the invariants
// (totals are the sums of their breakdowns, more ADCs never slow a layer down) and the
// bundled ViT on the RACE preset.
#include "aimc/cost/nn_cost.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

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

// A chain of linear layers over 4 tokens: widths[0] -> widths[1] -> ...
std::unique_ptr<ir::Graph> linear_chain(const std::vector<int64_t>& widths) {
  auto graph = std::make_unique<ir::Graph>();
  ir::Value* x =
      activation(*graph, "x", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(widths[0])});
  graph->inputs.push_back(x);
  for (size_t i = 1; i < widths.size(); ++i) {
    const std::string id = std::to_string(i);
    ir::Value* w =
        graph->add_constant("w" + id, Tensor(DType::kF32, Shape{widths[i - 1], widths[i]}));
    ir::Value* y = activation(*graph, "y" + id,
                              {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(widths[i])});
    graph->add_node("linear", "fc" + id, {x, w}, {y});
    x = y;
  }
  graph->outputs.push_back(x);
  return graph;
}

compiler::MappingOptions no_replication() {
  compiler::MappingOptions options;
  options.replicate = false;
  return options;
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
  compiler::MappingOptions two_chips;
  two_chips.chips = 2;
  compiler::Mapping two = compiler::map_graph(*graph, small, two_chips);
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
    const double steps = 4 * b * 2 * 7;              // vectors x phases x DAC steps
    const double reads = steps * 32;                 // every array, every step
    const double dacs = steps * 256 * 2 * 4 * 2;     // K rows x col blocks x slices x 2
    const double conversions = steps * 2 * 4 * 200;  // row blocks x slices x N columns
    const double alu_ops = 4 * 200 * b;              // dequantise + bias per output
    // 8-bit activations in and out, in accesses of 256 bits (the default chip.buffer.width_bits)
    // of 32 x 1e-13 J: 4 x 256 x 8 bits = 32 accesses per inference, 4 x 200 x 8 = 25.
    const double accesses = std::ceil(4 * 256 * 8 * b / 256) + std::ceil(4 * 200 * 8 * b / 256);
    // The output leaves the chip (a graph output): no on-chip transfer, no router bit-hops.
    const double bits = 0;
    const double dynamic = reads * 1e-12 + dacs * 1e-15 + conversions * 2e-12 +
                           conversions * 1e-14 + alu_ops * 1e-12 + accesses * 32 * 1e-13 +
                           bits * 1e-15;
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
    EXPECT_EQ(actions.at("buffer"), accesses);
    EXPECT_EQ(actions.at("router"), bits);
    // One vector: 256 B in + 200 B out fits the default 2048 B buffer.
    EXPECT_DOUBLE_EQ(c.by_layer.at(0).vector_bytes, 456.0);
    EXPECT_TRUE(c.warnings.empty());
  }
}

// Buffer accesses round up to whole accesses of chip.buffer.width_bits, each costing
// energy x width_bits / 8; a vector larger than a core's buffer is a warning, not an error.
TEST(NnCost, BufferAccessesAndFitByHand) {
  auto graph = one_linear(false);
  arch::Architecture arch =
      hand_arch({"chip.buffer.width_bits=48", "chip.buffer.bytes_per_core=400"});
  cost::NnCost c = cost::estimate_nn(compiler::map_graph(*graph, arch), arch, 1);
  // Input 4 x 256 x 8 = 8192 bits -> ceil(170.67) = 171 accesses; output 4 x 200 x 8 = 6400
  // bits -> ceil(133.33) = 134.
  EXPECT_EQ(c.by_layer.at(0).actions.at("buffer"), 171.0 + 134.0);
  EXPECT_NEAR(c.by_layer.at(0).energy_by_component_j.at("buffer"), 305 * 6 * 1e-13, 1e-25);
  EXPECT_DOUBLE_EQ(cost::energy_per_action(arch, "buffer"), 6e-13);
  EXPECT_DOUBLE_EQ(cost::buffer_accesses(arch, 48), 1.0);
  EXPECT_DOUBLE_EQ(cost::buffer_accesses(arch, 49), 2.0);
  // 256 B + 200 B = 456 B > 400 B.
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("456 B"), std::string::npos) << c.warnings[0];
  EXPECT_NE(c.warnings[0].find("chip.buffer.bytes_per_core"), std::string::npos);
  // Exactly full fits.
  arch::Architecture exact = hand_arch({"chip.buffer.bytes_per_core=456"});
  EXPECT_TRUE(cost::estimate_nn(compiler::map_graph(*graph, exact), exact, 1).warnings.empty());
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
  ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  arch::Architecture race = arch::load_architecture(kSource + "/presets/race.yaml");
  compiler::MappingOptions options;
  options.chips = 64;
  compiler::Mapping mapping = compiler::map_graph(*graph, race, options);
  int64_t linear_nodes = 0, crossbar_layers = 0, acam_layers = 0;
  for (const auto& node : graph->nodes()) linear_nodes += node->op == "linear";
  for (const compiler::LayerMapping& layer : mapping.layers) {
    crossbar_layers += layer.kind == compiler::LayerKind::kCrossbar;
    acam_layers += layer.kind == compiler::LayerKind::kAcam;
    if (layer.kind == compiler::LayerKind::kCrossbar) {
      EXPECT_EQ(layer.arrays,
                layer.replicas * layer.groups * layer.row_blocks * layer.col_blocks * 4 * 2);
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

// One linear layer of 32 arrays (2 cores) reading 4 vectors, on a tile of 4 cores: the first
// extra copy reads ceil(4 / 3) = 2 vectors each and takes the 2 spare cores; the next one
// (4 copies of 1 vector) would need 4 more cores.
TEST(Replication, SpareCoresHoldCopiesOfTheBottleneckByHand) {
  auto graph = one_linear(false);
  arch::Architecture arch = hand_arch({"chip.cores_per_tile=4"});
  for (bool cost_model_time : {false, true}) {
    compiler::MappingOptions options =
        cost_model_time ? cost::mapping_options(arch, 1, 1) : compiler::MappingOptions{};
    compiler::Mapping mapping = compiler::map_graph(*graph, arch, options);
    const compiler::LayerMapping& layer = mapping.layers.at(0);
    EXPECT_EQ(layer.replicas, 2);
    EXPECT_EQ(layer.arrays, 64);
    EXPECT_EQ(layer.cores, 4);
    EXPECT_EQ(compiler::vectors_per_replica(layer, 1), 2);
    EXPECT_EQ(mapping.replicas_added, 1);
    EXPECT_EQ(mapping.cores_used, 4);
    EXPECT_EQ(mapping.arrays_used, 64);
    cost::NnCost c = cost::estimate_nn(mapping, arch, 1);
    // 2 vectors x 2 phases x 7 DAC steps of 100 ns; the reads are those of one copy (32
    // arrays) for every one of the 4 vectors.
    EXPECT_NEAR(c.latency_s, 2 * 2 * 7 * 1e-7, 1e-18);
    EXPECT_EQ(c.by_layer.at(0).actions.at("crossbar"), 4 * 2 * 7 * 32.0);
    EXPECT_EQ(c.by_layer.at(0).replicas, 2);
  }
  // Off: the layer as mapped, the spare cores idle.
  compiler::Mapping single = compiler::map_graph(*graph, arch, no_replication());
  EXPECT_EQ(single.layers.at(0).replicas, 1);
  EXPECT_EQ(single.cores_used, 2);
  EXPECT_NEAR(cost::estimate_nn(single, arch, 1).latency_s, 4 * 2 * 7 * 1e-7, 1e-18);
  // A batch of 3 has 12 vectors: 2 copies read 6 each, 4 copies would need 8 cores.
  compiler::Mapping batch3 = compiler::map_graph(*graph, arch, cost::mapping_options(arch, 3, 1));
  EXPECT_EQ(batch3.layers.at(0).replicas, 2);
  EXPECT_NEAR(cost::estimate_nn(batch3, arch, 3).latency_s, 6 * 2 * 7 * 1e-7, 1e-18);
}

// The slower of two layers gets the copies: fc1 (256 -> 200, 32 arrays) and fc2 (200 -> 64,
// 2 row blocks x 1 column block x 4 slices x 2 = 16 arrays) read the same 4 vectors, so their
// times tie and the earlier one (fc1) goes first; then fc2 is the slowest.
TEST(Replication, TheBottleneckGoesFirstAndTiesGoToTheEarlierLayer) {
  auto graph = linear_chain({256, 200, 64});
  arch::Architecture arch = hand_arch({"chip.cores_per_tile=6"});  // 3 cores used, 3 spare
  compiler::Mapping mapping = compiler::map_graph(*graph, arch, cost::mapping_options(arch, 1, 1));
  ASSERT_EQ(mapping.layers.size(), 2u);
  // fc1: 2 copies (2 more cores, 1 left); fc2: 2 copies need ceil(32 / 16) = 2 cores, 1 more.
  EXPECT_EQ(mapping.layers[0].replicas, 2);
  EXPECT_EQ(mapping.layers[1].replicas, 2);
  EXPECT_EQ(mapping.cores_used, 6);
  EXPECT_EQ(mapping.layers[1].first_core, 4);  // placed right after fc1's 4 cores
}

// The issue's invariant: each added copy trades area for throughput monotonically.
TEST(Replication, MoreReplicasNeverLowerThroughputNorArraysNorArea) {
  auto graph = frontend::load_onnx(kSource + "/models/vit-fmnist.onnx");
  ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  for (const char* preset : {"race", "isaac"}) {
    arch::Architecture arch = arch::load_architecture(kSource + "/presets/" + preset + ".yaml");
    for (int64_t batch : {1, 4}) {
      compiler::MappingOptions options = cost::mapping_options(arch, batch, 4);
      double throughput = 0, latency = std::numeric_limits<double>::infinity(), area = 0;
      int64_t arrays = 0, added = -1;
      for (int64_t cap = 0; cap <= 64; ++cap) {
        options.max_added_replicas = cap;
        compiler::Mapping mapping = compiler::map_graph(*graph, arch, options);
        cost::NnCost c = cost::estimate_nn(mapping, arch, batch);
        EXPECT_LE(mapping.replicas_added, cap);
        EXPECT_GE(mapping.replicas_added, added) << preset << " cap " << cap;
        EXPECT_GE(c.throughput, throughput * (1 - 1e-12)) << preset << " cap " << cap;
        EXPECT_LE(c.latency_s, latency * (1 + 1e-12)) << preset << " cap " << cap;
        EXPECT_GE(mapping.arrays_used, arrays) << preset << " cap " << cap;
        EXPECT_GE(c.area_m2, area * (1 - 1e-12)) << preset << " cap " << cap;
        EXPECT_LE(mapping.cores_used,
                  mapping.chips_used * arch.chip.tiles * arch.chip.cores_per_tile);
        if (mapping.replicas_added > added && added >= 0) {
          EXPECT_GT(mapping.arrays_used, arrays);
          EXPECT_LT(c.latency_s, latency);
        }
        throughput = c.throughput, latency = c.latency_s, area = c.area_m2;
        arrays = mapping.arrays_used, added = mapping.replicas_added;
      }
      EXPECT_GT(added, 0) << preset << ": the spare cores held no copy";
    }
  }
}

TEST(Placement, SnakeOrderKeepsConsecutiveTilesAdjacent) {
  arch::ChipConfig chip;
  chip.tiles = 9;  // a 3 x 3 mesh
  EXPECT_EQ(compiler::tile_position(2, chip).x, 2);
  EXPECT_EQ(compiler::tile_position(3, chip).x, 2);  // row 1 runs right to left
  EXPECT_EQ(compiler::tile_position(3, chip).y, 1);
  EXPECT_EQ(compiler::tile_position(5, chip).x, 0);
  EXPECT_EQ(compiler::tile_position(6, chip).x, 0);
  EXPECT_EQ(compiler::tile_position(9, chip).x, 3);  // chip 1 to the right of chip 0
  EXPECT_EQ(compiler::tile_position(9, chip).y, 0);
  for (int64_t tiles : {1, 2, 5, 16, 168})
    for (int64_t tile = 0; tile + 1 < tiles; ++tile) {
      chip.tiles = tiles;
      EXPECT_EQ(compiler::mesh_hops(compiler::tile_position(tile, chip),
                                    compiler::tile_position(tile + 1, chip)),
                1)
          << tiles << " tiles, tile " << tile;
    }
}

// fc1 (2 cores) on tiles 0 and 1 of a 2 x 2 mesh, fc2 (1 core) on tile 2 at (1, 1): its
// output travels 2 hops from (0, 0) and 1 hop from (1, 0), 1.5 on average.
TEST(Placement, TwoLayersHopsEnergyAndLatencyByHand) {
  auto graph = linear_chain({256, 200, 100});
  arch::Architecture arch =
      hand_arch({"chip.tiles=4", "chip.cores_per_tile=1", "components.router.latency=1e-8",
                 "chip.clock_hz=1e8", "chip.network.link_width=8"});
  compiler::Mapping mapping = compiler::map_graph(*graph, arch, no_replication());
  ASSERT_EQ(mapping.layers.size(), 2u);
  const compiler::LayerMapping& fc1 = mapping.layers[0];
  const compiler::LayerMapping& fc2 = mapping.layers[1];
  EXPECT_EQ(fc1.cores, 2);
  EXPECT_EQ(fc2.cores, 1);
  EXPECT_EQ(fc2.first_core, 2);
  EXPECT_EQ(fc2.producers, std::vector<int64_t>{0});
  EXPECT_EQ(fc1.output_transfers, 1);
  EXPECT_DOUBLE_EQ(fc1.hops_per_transfer, 1.5);
  EXPECT_EQ(fc2.output_transfers, 0);
  EXPECT_DOUBLE_EQ(compiler::element_hops(mapping), 4 * 200 * 1.5);
  cost::NnCost c = cost::estimate_nn(mapping, arch, 1);
  const double bit_hops = 4 * 200 * 8 * 1.5;
  EXPECT_DOUBLE_EQ(c.by_layer[0].actions.at("router"), bit_hops);
  EXPECT_NEAR(c.by_layer[0].energy_by_component_j.at("router"), bit_hops * 1e-15, 1e-27);
  // Store-and-forward over fc1's 2 tile links of 8 bits per 10 ns cycle: 6400 bits take
  // ceil(6400 / 16) = 400 cycles = 4 us per hop, plus the 10 ns router delay, over 1.5 hops:
  // 6.015 us, longer than its 56 reads of 100 ns (5.6 us).
  const double network_s = 1.5 * (400 * 1e-8 + 1e-8);
  EXPECT_NEAR(c.by_layer[0].network_s, network_s, 1e-15);
  EXPECT_NEAR(c.by_layer[0].latency_s, network_s, 1e-15);
  EXPECT_NEAR(c.by_layer[1].latency_s, 4 * 2 * 7 * 1e-7, 1e-15);
}

// Ring: hops = min(|a - b|, tiles - |a - b|); mesh: Manhattan distance on the snake grid.
TEST(Placement, RingAndMeshHopsByHand) {
  arch::ChipConfig mesh;
  mesh.tiles = 9;  // 3 x 3: tile 5 at (0, 1), tile 8 at (2, 2)
  arch::ChipConfig ring = mesh;
  ring.network.topology = arch::NetworkTopology::kRing;
  EXPECT_EQ(compiler::tile_hops(0, 8, mesh), 4);
  EXPECT_EQ(compiler::tile_hops(0, 8, ring), 1);
  EXPECT_EQ(compiler::tile_hops(0, 5, mesh), 1);
  EXPECT_EQ(compiler::tile_hops(0, 5, ring), 4);
  EXPECT_EQ(compiler::tile_hops(2, 6, ring), 4);
  EXPECT_EQ(compiler::tile_hops(6, 2, ring), 4);
  EXPECT_EQ(compiler::tile_hops(3, 3, ring), 0);
  // Chip 0's tile 1 to chip 1's tile 8: one chip boundary + min(7, 2) = 3.
  EXPECT_EQ(compiler::tile_hops(1, 17, ring), 3);
  for (int64_t tiles : {1, 2, 5, 16})
    for (int64_t a = 0; a < tiles; ++a)
      for (int64_t b = 0; b < tiles; ++b) {
        ring.tiles = tiles;
        const int64_t apart = std::abs(a - b);
        EXPECT_EQ(compiler::tile_hops(a, b, ring), std::min(apart, tiles - apart));
      }
}

// fc1 (2 cores) on tiles 0 and 1 of 5, fc3 (1 core) on tile 2, fc2 (1 core) on tile 3.
// fc1 -> fc2: ring 0->3 = min(3, 2) = 2 and 1->3 = 2, mean 2; mesh (3 columns; tile 3 at
// (2, 1)): 3 and 2, mean 2.5. fc2 -> fc3: 1 hop on both.
TEST(Placement, RingVersusMeshNetworkLatencyByHand) {
  auto graph = linear_chain({256, 200, 100, 50});
  for (const char* topology : {"mesh", "ring"}) {
    SCOPED_TRACE(topology);
    const bool is_ring = std::string(topology) == "ring";
    arch::Architecture arch = hand_arch({"chip.tiles=5", "chip.cores_per_tile=1",
                                         std::string("chip.network.topology=") + topology});
    compiler::Mapping mapping = compiler::map_graph(*graph, arch, no_replication());
    ASSERT_EQ(mapping.layers.size(), 3u);
    ASSERT_EQ(mapping.layers[0].cores, 2);
    ASSERT_EQ(mapping.layers[1].cores, 1);
    ASSERT_EQ(mapping.layers[2].cores, 1);
    compiler::place_layers(mapping, arch.chip, {0, 2, 1});
    EXPECT_EQ(mapping.layers[1].first_core, 3);
    const double fc1_hops = is_ring ? 2.0 : 2.5;
    EXPECT_DOUBLE_EQ(mapping.layers[0].hops_per_transfer, fc1_hops);
    EXPECT_DOUBLE_EQ(mapping.layers[1].hops_per_transfer, 1.0);
    cost::NnCost c = cost::estimate_nn(mapping, arch, 1);
    // fc1: 4 x 200 x 8 = 6400 bits over its 2 tile links of 32 bits per 1 ns cycle:
    // ceil(6400 / 64) = 100 cycles = 100 ns per hop (router latency 0).
    EXPECT_NEAR(c.by_layer[0].network_s, fc1_hops * 100e-9, 1e-18);
    EXPECT_DOUBLE_EQ(c.by_layer[0].actions.at("router"), 6400 * fc1_hops);
    // fc2: 4 x 100 x 8 = 3200 bits, one link: 100 cycles, 1 hop.
    EXPECT_NEAR(c.by_layer[1].network_s, 100e-9, 1e-18);
    EXPECT_DOUBLE_EQ(c.by_layer[2].network_s, 0.0);  // a graph output
  }
}

// Graph order along the snake never moves more data than shuffled layer orders.
TEST(Placement, GraphOrderBeatsRandomPlacementsOnTheBundledVit) {
  auto graph = frontend::load_onnx(kSource + "/models/vit-fmnist.onnx");
  ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  for (const char* preset : {"race", "isaac", "puma"}) {
    arch::Architecture arch = arch::load_architecture(kSource + "/presets/" + preset + ".yaml");
    for (bool replicate : {false, true}) {
      compiler::MappingOptions options = cost::mapping_options(arch, 1, 8, replicate);
      compiler::Mapping mapping = compiler::map_graph(*graph, arch, options);
      const double placed = compiler::element_hops(mapping);
      EXPECT_GT(placed, 0) << preset;
      std::vector<int64_t> order(mapping.layers.size());
      std::iota(order.begin(), order.end(), 0);
      std::mt19937_64 shuffle_rng(12345);
      for (int trial = 0; trial < 20; ++trial) {
        std::shuffle(order.begin(), order.end(), shuffle_rng);
        compiler::Mapping shuffled = mapping;
        compiler::place_layers(shuffled, arch.chip, order);
        EXPECT_LE(placed, compiler::element_hops(shuffled)) << preset << " trial " << trial;
      }
    }
  }
}

}  // namespace
}  // namespace aimc
