// Data-dependent products (matmul: Q·Kᵀ, A·V) per dmmul.mode in the mapping and the cost
// model: `crossbar` writes the second operand into arrays for every inference and reads it
// like a weight (docs/cost-model.md §1-§3), `digital` stays on the ALUs, `log_acam` on ACAM.
#include <gtest/gtest.h>

#include <cmath>

#include "aimc/compiler/mapping.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/executor.h"
#include "aimc/runtime/kernel.h"

namespace aimc {
namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// 8x8 arrays of 2-bit cells, 8-bit inputs (7 DAC steps x 2 phases), 8-bit weights (4 slices x
// 2 polarities), 4 tiles of 8 cores of 16 arrays: spare cores for replication.
const char* kArch = R"(
name: hand
array: {rows: 8, cols: 8, cell_bits: 2}
input: {in_bits: 8, dac_bits: 1}
weights: {w_bits: 8}
chip: {tiles: 4, cores_per_tile: 8, arrays_per_core: 16, acam_units_per_core: 2,
       adcs_per_array: 1, clock_hz: 1e9}
components:
  crossbar: {energy: 1e-12, area: 1e-11, latency: 1e-7}
  crossbar_write: {energy: 2e-12, leakage: 1e-6, area: 3e-12, latency: 5e-8}
  dac: {energy: 1e-15, area: 1e-13}
  adc: {energy: 2e-12, area: 1e-9, latency: 1e-9}
  shift_add: {energy: 1e-14, area: 5e-11}
  acam: {energy: 3e-12, area: 2e-10, latency: 4e-9}
  buffer: {energy: 1e-13, area: 1e-7}
  alu: {energy: 1e-12, area: 4e-9, latency: 1e-9}
  router: {energy: 1e-15, area: 3e-8}
dmmul: {mode: crossbar}
mapping: {linear: crossbar, matmul: acam}
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

// y[batch, 2, 17, 17] = matmul(a[batch, 2, 17, 16], b[batch, 2, 16, 17]): two heads of 17
// tokens of width 16, both operands activations.
std::unique_ptr<ir::Graph> one_matmul() {
  auto graph = std::make_unique<ir::Graph>();
  auto batch = ir::Dim::symbolic("batch");
  ir::Value* a = activation(*graph, "a", {batch, ir::Dim::of(2), ir::Dim::of(17), ir::Dim::of(16)});
  ir::Value* b = activation(*graph, "b", {batch, ir::Dim::of(2), ir::Dim::of(16), ir::Dim::of(17)});
  ir::Value* y = activation(*graph, "y", {batch, ir::Dim::of(2), ir::Dim::of(17), ir::Dim::of(17)});
  graph->inputs = {a, b};
  graph->add_node("matmul", "scores", {a, b}, {y});
  graph->outputs.push_back(y);
  return graph;
}

void expect_totals_are_sums(const cost::NnCost& c) {
  double by_component = 0, area = 0, by_layer = 0, latency = 0;
  for (const cost::ComponentTotal& t : c.by_component) {
    by_component += t.energy_j;
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
  EXPECT_NEAR(c.energy_j, by_layer + c.leakage_j, 1e-9 * c.energy_j);
  EXPECT_NEAR(c.area_m2, area, 1e-9 * c.area_m2);
  EXPECT_NEAR(c.latency_s, latency, 1e-9 * c.latency_s);
}

TEST(Dmmul, CrossbarMatmulMapsTheSecondOperandOntoArraysByHand) {
  auto graph = one_matmul();
  arch::Architecture arch = hand_arch();
  // As `aimc estimate` maps: replication on, balancing the cost model's layer times.
  compiler::Mapping mapping = compiler::map_graph(*graph, arch, cost::mapping_options(arch, 1, 1));
  ASSERT_EQ(mapping.layers.size(), 1u);
  const compiler::LayerMapping& layer = mapping.layers[0];
  EXPECT_EQ(layer.kind, compiler::LayerKind::kCrossbar);
  EXPECT_EQ(layer.k, 16);
  EXPECT_EQ(layer.n, 17);
  EXPECT_EQ(layer.groups, 2);      // one [16, 17] matrix of b per head
  EXPECT_EQ(layer.row_blocks, 2);  // ceil(16 / 8)
  EXPECT_EQ(layer.col_blocks, 3);  // ceil(17 / 8)
  EXPECT_EQ(layer.slices, 4);
  EXPECT_EQ(layer.arrays, 96);                            // 2 x 2 x 3 x 4 x 2 polarities
  EXPECT_EQ(layer.cores, 6);                              // 96 / 16
  EXPECT_EQ(layer.vectors_per_inference, 17);             // rows of a per head
  EXPECT_EQ(layer.cells_written_per_inference, 4352);     // 2 x 16 x 17 x 4 x 2
  EXPECT_EQ(layer.rows_written_per_inference, 768);       // 2 x 16 x 3 col blocks x 4 x 2
  EXPECT_EQ(layer.macs_per_inference, 2 * 17 * 17 * 16);  // the GPU baseline's work
  EXPECT_EQ(layer.second_input_elements, 2 * 16 * 17);
  EXPECT_EQ(layer.acam_units, 0);
  // 26 spare cores, but an operand written per inference is never copied.
  EXPECT_EQ(layer.replicas, 1);
  EXPECT_EQ(mapping.replicas_added, 0);
  EXPECT_EQ(mapping.acam_units_used, 0);
  EXPECT_EQ(mapping.arrays_used, 96);
}

TEST(Dmmul, CrossbarMatmulWriteAndReadCostByHand) {
  auto graph = one_matmul();
  arch::Architecture arch = hand_arch();
  compiler::Mapping mapping = compiler::map_graph(*graph, arch, cost::mapping_options(arch, 1, 1));
  for (int64_t batch : {1, 3}) {
    cost::NnCost c = cost::estimate_nn(mapping, arch, batch);
    const double b = static_cast<double>(batch);
    const double steps = 17 * b * 2 * 7;                // rows of a per head x phases x DAC steps
    const double reads = steps * 96;                    // every array of both heads, every step
    const double dacs = steps * 2 * 16 * 3 * 4 * 2;     // heads x K rows x col blocks x S x 2
    const double conversions = steps * 2 * 2 * 4 * 17;  // heads x row blocks x S x N
    const double writes = 4352 * b;                     // cells, every inference
    const double alu_ops = 2 * 17 * 17 * b;             // dequantise every output
    // a in, y out, 8-bit, in 256-bit accesses (chip.buffer.width_bits' default) of 32 x 1e-13 J.
    const double accesses =
        std::ceil(2 * 17 * 16 * 8 * b / 256) + std::ceil(2 * 17 * 17 * 8 * b / 256);
    const auto& actions = c.by_layer.at(0).actions;
    EXPECT_EQ(actions.at("crossbar"), reads);
    EXPECT_EQ(actions.at("dac"), dacs);
    EXPECT_EQ(actions.at("adc"), conversions);
    EXPECT_EQ(actions.at("shift_add"), conversions);
    EXPECT_EQ(actions.at("crossbar_write"), writes);
    EXPECT_EQ(actions.at("alu"), alu_ops);
    EXPECT_EQ(actions.at("buffer"), accesses);
    const double dynamic = reads * 1e-12 + dacs * 1e-15 + conversions * (2e-12 + 1e-14) +
                           writes * 2e-12 + alu_ops * 1e-12 + accesses * 32 * 1e-13;
    EXPECT_NEAR(c.dynamic_j, dynamic / b, 1e-12 * dynamic);
    EXPECT_NEAR(c.by_layer.at(0).energy_by_component_j.at("crossbar_write"), 4352 * 2e-12, 1e-24);
    // Per inference: the arrays write in parallel, each min(16, 8) = 8 rows of 50 ns, then
    // 17 rows x 14 steps of max(100 ns, 8 columns / 2 x 1 ns).
    const double latency = b * (8 * 5e-8 + 17 * 14 * 1e-7);
    EXPECT_NEAR(c.latency_s, latency, 1e-12 * latency);
    // Write drivers: one per array on the chip (4 x 8 x 16 = 512), leaking and occupying.
    const cost::ComponentTotal& write = c.by_component.at(1);
    ASSERT_EQ(write.component, "crossbar_write");
    EXPECT_EQ(write.instances, 512);
    EXPECT_NEAR(write.area_m2, 512 * 3e-12, 1e-24);
    EXPECT_NEAR(write.leakage_j, 512 * 1e-6 * latency / b, 1e-9 * write.leakage_j);
    expect_totals_are_sums(c);
  }
}

TEST(Dmmul, DigitalAndLogAcamModesKeepTheirPlaces) {
  auto graph = one_matmul();
  compiler::Mapping digital = compiler::map_graph(*graph, hand_arch({"dmmul.mode=digital"}));
  ASSERT_EQ(digital.layers.size(), 1u);
  EXPECT_EQ(digital.layers[0].kind, compiler::LayerKind::kDigital);
  // One int8 MAC per ALU operation.
  EXPECT_EQ(digital.layers[0].digital_ops_per_inference, 2 * 17 * 17 * 16);
  EXPECT_EQ(digital.layers[0].cells_written_per_inference, 0);
  EXPECT_EQ(digital.arrays_used, 0);
  compiler::Mapping log = compiler::map_graph(*graph, hand_arch({"dmmul.mode=log_acam"}));
  EXPECT_EQ(log.layers[0].kind, compiler::LayerKind::kAcam);
  EXPECT_EQ(log.arrays_used, 0);
  EXPECT_EQ(log.acam_units_used, 2);
  // mapping.matmul: digital overrides the mode.
  compiler::Mapping off = compiler::map_graph(*graph, hand_arch({"mapping.matmul=digital"}));
  EXPECT_EQ(off.layers[0].kind, compiler::LayerKind::kDigital);
  cost::NnCost c = cost::estimate_nn(digital, hand_arch({"dmmul.mode=digital"}), 1);
  EXPECT_EQ(c.by_layer.at(0).actions.at("crossbar_write"), 0);
}

TEST(Dmmul, ConstantSecondOperandIsAResidentWeight) {
  auto graph = std::make_unique<ir::Graph>();
  ir::Value* a = activation(*graph, "a", {ir::Dim::of(2), ir::Dim::of(17), ir::Dim::of(16)});
  ir::Value* b = graph->add_constant("b", Tensor(DType::kF32, Shape{2, 16, 17}));
  ir::Value* y = activation(*graph, "y", {ir::Dim::of(2), ir::Dim::of(17), ir::Dim::of(17)});
  graph->inputs = {a};
  graph->add_node("matmul", "batched", {a, b}, {y});
  graph->outputs.push_back(y);
  compiler::Mapping mapping = compiler::map_graph(*graph, hand_arch());
  const compiler::LayerMapping& layer = mapping.layers.at(0);
  EXPECT_EQ(layer.kind, compiler::LayerKind::kCrossbar);
  // Programmed once, so the spare cores may hold copies of it, as of any weight.
  EXPECT_GT(layer.replicas, 1);
  EXPECT_EQ(layer.arrays, layer.replicas * 96);
  EXPECT_EQ(layer.cells_written_per_inference, 0);
  EXPECT_EQ(layer.weight_elements, 2 * 16 * 17);
}

std::unique_ptr<ir::Graph> bundled_vit() {
  auto graph = frontend::load_onnx(kSource + "/models/vit-fmnist.onnx");
  ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  return graph;
}

TEST(Dmmul, BundledVitOnRaceMapsItsMatmulsOntoArrays) {
  auto graph = bundled_vit();
  arch::Architecture race = arch::load_architecture(kSource + "/presets/race.yaml");
  arch::Architecture crossbar = race;
  crossbar.dmmul = arch::DmmulMode::kCrossbar;
  ASSERT_EQ(race.dmmul, arch::DmmulMode::kLogAcam);
  compiler::Mapping log = compiler::map_graph(*graph, race, cost::mapping_options(race, 1, 1));
  compiler::Mapping xbar =
      compiler::map_graph(*graph, crossbar, cost::mapping_options(crossbar, 1, 1));
  int64_t matmuls = 0, written_cells = 0;
  for (const compiler::LayerMapping& layer : xbar.layers) {
    if (layer.op != "matmul") continue;
    ++matmuls;
    EXPECT_EQ(layer.kind, compiler::LayerKind::kCrossbar) << layer.node;
    EXPECT_EQ(layer.acam_units, 0) << layer.node;
    EXPECT_GT(layer.arrays, 0) << layer.node;
    EXPECT_EQ(layer.replicas, 1) << layer.node;
    EXPECT_EQ(layer.arrays, layer.groups * layer.row_blocks * layer.col_blocks * 4 * 2);
    EXPECT_EQ(layer.cells_written_per_inference, layer.groups * layer.k * layer.n * 4 * 2);
    EXPECT_EQ(layer.vectors_per_inference * layer.groups * layer.k, layer.input_elements);
    written_cells += layer.cells_written_per_inference;
  }
  EXPECT_EQ(matmuls, 8);
  // log_acam took two ACAM units per matmul.
  EXPECT_EQ(log.acam_units_used - xbar.acam_units_used, 2 * matmuls);
  for (int64_t batch : {1, 4}) {
    cost::NnCost c = cost::estimate_nn(xbar, crossbar, batch);
    double write_j = 0;
    for (const cost::ComponentTotal& t : c.by_component)
      if (t.component == "crossbar_write") write_j = t.dynamic_j;
    EXPECT_NEAR(write_j, static_cast<double>(written_cells) * 1.38e-12, 1e-9 * write_j);
    EXPECT_GT(c.energy_j, 0);
    expect_totals_are_sums(c);
  }
}

}  // namespace
}  // namespace aimc
