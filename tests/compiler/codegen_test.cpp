// The code generator on a hand-counted layer and on the bundled models: every core has a
// program ending in halt, the programs verify (messages pair up, no deadlock), they
// round-trip through the text, and the mvm / ACAM / ALU work matches the mapping and the
// cost model.
#include "aimc/compiler/codegen.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "aimc/compiler/mapping.h"
#include "aimc/compiler/mapping_report.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/isa/assembly.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::compiler {

using namespace isa;  // NOLINT: the instruction set under test

// Failures print instructions as assembly text.
inline void PrintTo(const Instruction& instruction, std::ostream* os) {
  Program program;
  program.instructions = {instruction};
  *os << write_assembly(program);
}

namespace {

const std::string kSource = AIMC_SOURCE_DIR;

// 128x128 arrays of 2-bit cells, 8-bit inputs (7 steps per phase), 8-bit weights (4 slices x
// 2 polarities = 8 arrays per group), cores of 16 arrays and one ACAM unit each.
const char* kArch = R"(
name: hand
array: {rows: 128, cols: 128, cell_bits: 2}
input: {in_bits: 8, dac_bits: 1}
weights: {w_bits: 8}
chip: {tiles: 1, cores_per_tile: 3, arrays_per_core: 16, acam_units_per_core: 1}
mapping: {linear: crossbar, gelu: acam}
)";

ir::Value* activation(ir::Graph& graph, const std::string& name, ir::SymShape shape) {
  ir::Value* value = graph.add_value(name);
  value->shape = std::move(shape);
  value->dtype_known = true;
  return value;
}

// z[batch, 4, 200] = gelu(linear(x[batch, 4, 256], W[256, 200])).
std::unique_ptr<ir::Graph> linear_gelu() {
  auto graph = std::make_unique<ir::Graph>();
  ir::Value* x =
      activation(*graph, "x", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(256)});
  graph->inputs.push_back(x);
  ir::Value* w = graph->add_constant("w", Tensor(DType::kF32, Shape{256, 200}));
  ir::Value* y =
      activation(*graph, "y", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(200)});
  graph->add_node("linear", "fc", {x, w}, {y});
  ir::Value* z =
      activation(*graph, "z", {ir::Dim::symbolic("batch"), ir::Dim::of(4), ir::Dim::of(200)});
  graph->add_node("gelu", "act", {y}, {z});
  graph->outputs = {z};
  return graph;
}

Instruction in_layer_fc(Instruction instruction) {
  instruction.layer = "fc";
  return instruction;
}

std::vector<Instruction> of_opcode(const Program& program, Opcode opcode) {
  std::vector<Instruction> found;
  for (const Instruction& instruction : program.instructions)
    if (instruction.opcode == opcode) found.push_back(instruction);
  return found;
}

TEST(Codegen, OneLinearAndGeluByHand) {
  auto graph = linear_gelu();
  arch::Architecture arch = arch::parse_architecture(kArch, "hand.yaml");
  compiler::Mapping mapping = compiler::map_graph(*graph, arch);
  ASSERT_EQ(mapping.cores_used, 3);  // 32 arrays on cores 0-1, the gelu unit on core 2
  ProgramSet set = generate_programs(*graph, mapping, arch);
  ASSERT_EQ(verify(set), "");
  ASSERT_EQ(set.programs.size(), 3u);

  // K = 256, N = 200: 2 row blocks x 2 column blocks, 8 arrays each; blocks 0, 1 (row block
  // 0) on core 0, blocks 2, 3 (row block 1) on core 1. 4 vectors: 8 mvm per core.
  const std::vector<Instruction> mvm0 = of_opcode(set.programs[0], Opcode::kMvm);
  const std::vector<Instruction> mvm1 = of_opcode(set.programs[1], Opcode::kMvm);
  ASSERT_EQ(mvm0.size(), 8u);
  ASSERT_EQ(mvm1.size(), 8u);
  // The input x (4 x 256 one-byte elements) at 0, the partial sums after it.
  EXPECT_EQ(mvm0[0], in_layer_fc(mvm(0, 128, 128, 7, 0, 1024)));
  // Vector 0, block (row 0, col 1): 72 columns; partial sums at column 128 (x4 bytes).
  EXPECT_EQ(mvm0[1], in_layer_fc(mvm(1, 128, 72, 7, 0, 1024 + 128 * 4)));
  // Vector 1 starts at input row 256; its partial sums after vector 0's 2 x 200.
  EXPECT_EQ(mvm0[2], in_layer_fc(mvm(0, 128, 128, 7, 256, 1024 + 2 * 200 * 4)));
  // Vector 1, row block 1 on core 1: input row 256 + 128, partial row block 1 of vector 1.
  EXPECT_EQ(mvm1[2].src, (256 + 128) * 1);
  EXPECT_EQ(mvm1[2].rows, 128);
  EXPECT_EQ(mvm1[2].group, 0);

  // Both cores load x (4 x 256 bytes); core 1 sends its 4 x 200 partial sums to core 0.
  EXPECT_EQ(of_opcode(set.programs[0], Opcode::kLoad).at(0).bytes, 1024);
  EXPECT_EQ(of_opcode(set.programs[1], Opcode::kLoad).at(0).bytes, 1024);
  const std::vector<Instruction> sends1 = of_opcode(set.programs[1], Opcode::kSend);
  ASSERT_EQ(sends1.size(), 1u);
  EXPECT_EQ(sends1[0].peer, 0);
  EXPECT_EQ(sends1[0].bytes, 4 * 200 * 4);
  // Core 0: one add over the second row block, one dequantise, then y (800 bytes) to core 2.
  const std::vector<Instruction> alus = of_opcode(set.programs[0], Opcode::kAlu);
  ASSERT_EQ(alus.size(), 2u);
  EXPECT_EQ(alus[0].alu_op, AluOp::kAdd);
  EXPECT_EQ(alus[0].len, 800);
  EXPECT_EQ(alus[1].alu_op, AluOp::kScale);
  EXPECT_EQ(alus[1].len, 800);
  const std::vector<Instruction> sends0 = of_opcode(set.programs[0], Opcode::kSend);
  ASSERT_EQ(sends0.size(), 1u);
  EXPECT_EQ(sends0[0].peer, 2);
  EXPECT_EQ(sends0[0].bytes, 800);
  // Core 2: 800 gelu searches on its unit 0, the result stored to memory.
  const std::vector<Instruction> searches = of_opcode(set.programs[2], Opcode::kAcam);
  ASSERT_EQ(searches.size(), 1u);
  EXPECT_EQ(searches[0].unit, 0);
  EXPECT_EQ(searches[0].len, 800);
  EXPECT_EQ(searches[0].layer, "act");
  const std::vector<Instruction> stores = of_opcode(set.programs[2], Opcode::kStore);
  ASSERT_EQ(stores.size(), 1u);
  EXPECT_EQ(stores[0].bytes, 800);
  EXPECT_EQ(count(set, Opcode::kMvm), 16);
  EXPECT_EQ(mvm_count(mapping), 16);
}

std::unique_ptr<ir::Graph> load_bundled(const std::string& name) {
  auto graph = frontend::load_onnx(kSource + "/models/" + name);
  ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  return graph;
}

class BundledModel : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(BundledModel, ProgramsMatchTheMappingAndRoundTrip) {
  const auto& [model, preset_and_override] = GetParam();
  auto graph = load_bundled(model);
  // "preset.yaml" or "preset.yaml:key.path=value" (one --set override).
  const size_t colon = preset_and_override.find(':');
  const std::string preset = preset_and_override.substr(0, colon);
  std::vector<std::string> overrides;
  if (colon != std::string::npos) overrides.push_back(preset_and_override.substr(colon + 1));
  arch::Architecture arch = arch::load_architecture(kSource + "/presets/" + preset, overrides);
  compiler::Mapping mapping = compiler::map_graph(*graph, arch);
  ProgramSet set = generate_programs(*graph, mapping, arch);

  // Every core of the mapping has a program, ending in its only halt; they run to the end
  // with every send received (same byte count) and every barrier met.
  ASSERT_EQ(static_cast<int64_t>(set.programs.size()), std::max<int64_t>(1, mapping.cores_used));
  for (const Program& program : set.programs) {
    ASSERT_FALSE(program.instructions.empty());
    EXPECT_EQ(program.instructions.back().opcode, Opcode::kHalt) << "core " << program.core;
    EXPECT_EQ(program.tile, program.core / arch.chip.cores_per_tile);
  }
  EXPECT_EQ(verify(set), "");
  // Sends and recvs pair up: the same (from, to, bytes) multiset.
  std::map<std::tuple<int64_t, int64_t, int64_t>, int64_t> messages;
  for (const Program& program : set.programs)
    for (const Instruction& instruction : program.instructions) {
      if (instruction.opcode == Opcode::kSend)
        ++messages[{program.core, instruction.peer, instruction.bytes}];
      if (instruction.opcode == Opcode::kRecv)
        --messages[{instruction.peer, program.core, instruction.bytes}];
    }
  for (const auto& [message, balance] : messages)
    EXPECT_EQ(balance, 0) << std::get<0>(message) << " -> " << std::get<1>(message) << ", "
                          << std::get<2>(message) << " bytes";

  // Round trip through the text, program by program.
  for (const Program& program : set.programs)
    EXPECT_EQ(parse_assembly(write_assembly(program, "header"), "gen.s"), program)
        << "core " << program.core;

  // Per layer: mvm = vectors x groups x row blocks x column blocks; ACAM searches and ALU
  // element operations as the mapping counts them.
  std::map<std::string, int64_t> mvm_of, searches_of, alu_of, scale_of;
  int64_t array_reads = 0;
  const int64_t steps = arch.input_steps();
  for (const Program& program : set.programs)
    for (const Instruction& instruction : program.instructions) {
      if (instruction.opcode == Opcode::kMvm) {
        ++mvm_of[instruction.layer];
        EXPECT_EQ(instruction.steps, steps);
        EXPECT_LE(instruction.rows, arch.array.rows);
        EXPECT_LE(instruction.cols, arch.array.cols);
        EXPECT_GT(instruction.rows, 0);
        EXPECT_GT(instruction.cols, 0);
        // 2 input phases x steps, through slices x 2 polarities arrays.
        array_reads += 2 * instruction.steps * arch.weight_slices() * 2;
      }
      if (instruction.opcode == Opcode::kAcam) {
        searches_of[instruction.layer] += instruction.len;
        EXPECT_LT(instruction.unit, arch.chip.acam_units_per_core);
      }
      if (instruction.opcode == Opcode::kAlu) {
        alu_of[instruction.layer] += instruction.len;
        if (instruction.alu_op == AluOp::kScale) scale_of[instruction.layer] += instruction.len;
      }
    }
  int64_t expected_mvm = 0;
  for (const compiler::LayerMapping& layer : mapping.layers) {
    int64_t blocks_times_vectors = 0;
    if (layer.kind == compiler::LayerKind::kCrossbar)
      blocks_times_vectors =
          layer.vectors_per_inference * layer.groups * layer.row_blocks * layer.col_blocks;
    expected_mvm += blocks_times_vectors;
    EXPECT_EQ(mvm_of[layer.node], blocks_times_vectors) << layer.node;
    EXPECT_EQ(searches_of[layer.node],
              layer.kind == compiler::LayerKind::kAcam ? layer.searches_per_inference : 0)
        << layer.node;
    if (layer.kind == compiler::LayerKind::kCrossbar)
      EXPECT_EQ(scale_of[layer.node], layer.output_elements) << layer.node;
    else
      EXPECT_EQ(alu_of[layer.node], layer.digital_ops_per_inference) << layer.node;
  }
  EXPECT_GT(expected_mvm, 0);
  EXPECT_EQ(count(set, Opcode::kMvm), expected_mvm);
  EXPECT_EQ(mvm_count(mapping), expected_mvm);

  // The cost model's crossbar reads for one inference are the programs' mvm x reads each.
  cost::NnCost c = cost::estimate_nn(mapping, arch, 1);
  double cost_reads = 0;
  for (const cost::LayerCost& layer : c.by_layer) cost_reads += layer.actions.at("crossbar");
  EXPECT_DOUBLE_EQ(static_cast<double>(array_reads), cost_reads);

  // mapping.json: per-layer arrays add up, utilisation within (0, 1].
  nlohmann::json json = mapping_json(mapping, arch, set);
  int64_t arrays = 0;
  for (const nlohmann::json& layer : json["layers"]) {
    arrays += layer["arrays"].get<int64_t>();
    if (layer["kind"] == "crossbar") {
      EXPECT_GT(layer["utilisation"].get<double>(), 0.0);
      EXPECT_LE(layer["utilisation"].get<double>(), 1.0);
    }
  }
  EXPECT_EQ(arrays, mapping.arrays_used);
  EXPECT_EQ(json["used"]["arrays"], mapping.arrays_used);
  EXPECT_EQ(json["mvm"], expected_mvm);
}

INSTANTIATE_TEST_SUITE_P(
    Isa, BundledModel,
    ::testing::Values(std::make_tuple("vit-fmnist.onnx", "race.yaml"),
                      std::make_tuple("cnn-fmnist.onnx", "puma.yaml"),
                      std::make_tuple("vit-fmnist.onnx", "puma.yaml"),
                      std::make_tuple("cnn-fmnist.onnx", "race.yaml"),
                      // 16 arrays per group on 8-array cores: each group spans two cores.
                      std::make_tuple("cnn-fmnist.onnx", "isaac.yaml"),
                      std::make_tuple("gpt-fortunes.onnx", "race.yaml"),
                      // Q·Kᵀ and A·V on arrays written per inference.
                      std::make_tuple("vit-fmnist.onnx", "race.yaml:dmmul.mode=crossbar")),
    [](const auto& info) {
      std::string name = std::get<0>(info.param) + "_" + std::get<1>(info.param);
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(Codegen, ReplicasShareTheVectors) {
  auto graph = linear_gelu();
  arch::Architecture arch = arch::parse_architecture(kArch, "hand.yaml", {"chip.cores_per_tile=5"});
  compiler::Mapping mapping =
      compiler::map_graph(*graph, arch::parse_architecture(kArch, "hand.yaml"));
  // Two copies of fc on cores 0-1 and 2-3 (replica r takes vectors r, r + 2), gelu on core 4.
  compiler::LayerMapping& fc = mapping.layers[0];
  fc.replicas = 2;
  fc.arrays = 64;
  fc.cores = 4;
  mapping.layers[1].first_core = 4;
  mapping.cores_used = 5;
  mapping.arrays_used = 64;
  ProgramSet set = generate_programs(*graph, mapping, arch);
  ASSERT_EQ(verify(set), "");
  ASSERT_EQ(set.programs.size(), 5u);
  for (int core = 0; core < 4; ++core)
    EXPECT_EQ(count(set.programs[core], Opcode::kMvm), 4) << core;  // 2 vectors x 2 blocks
  EXPECT_EQ(count(set, Opcode::kMvm), 16);
  EXPECT_EQ(mvm_count(mapping), 16);
  // Replica 1's first mvm reads vector 1.
  EXPECT_EQ(of_opcode(set.programs[2], Opcode::kMvm).at(0).src, 256);
  // Each replica leader dequantises its 2 x 200 outputs and sends them to the gelu core.
  for (int leader : {0, 2}) {
    const std::vector<Instruction> alus = of_opcode(set.programs[leader], Opcode::kAlu);
    ASSERT_EQ(alus.size(), 2u);
    EXPECT_EQ(alus[1].alu_op, AluOp::kScale);
    EXPECT_EQ(alus[1].len, 400);
  }
  const std::vector<Instruction> recvs = of_opcode(set.programs[4], Opcode::kRecv);
  ASSERT_EQ(recvs.size(), 2u);
  EXPECT_EQ(recvs[0].peer, 0);
  EXPECT_EQ(recvs[1].peer, 2);
  EXPECT_EQ(recvs[0].bytes + recvs[1].bytes, 800);
}

TEST(Codegen, UtilisationByHand) {
  auto graph = linear_gelu();
  arch::Architecture arch = arch::parse_architecture(kArch, "hand.yaml");
  compiler::Mapping mapping = compiler::map_graph(*graph, arch);
  // 256 x 200 weights on 2 x 2 blocks of 128 x 128 cells.
  EXPECT_DOUBLE_EQ(layer_utilisation(mapping.layers[0], arch), 256.0 * 200 / (4 * 128 * 128));
  EXPECT_EQ(layer_utilisation(mapping.layers[1], arch), 0.0);
  EXPECT_EQ(acam_unit_functions(mapping.layers[1]), std::vector<std::string>{"gelu"});
}

}  // namespace
}  // namespace aimc::compiler
