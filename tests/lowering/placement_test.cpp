// The lowering registry is the one placement decision: for every bundled and test model on
// every preset (and the three dmmul modes), `aimc eval`'s analog executor, `aimc estimate`'s
// mapping and `aimc compile`'s programs put every node where lowering::decide says, and the
// decisions agree between the graph eval runs (symbolic batch) and the one estimate and
// compile run (batch bound to 1). Hand-built graphs check the conditions and their reasons.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "aimc/analog/executor.h"
#include "aimc/arch/architecture.h"
#include "aimc/compiler/codegen.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/frontend/onnx_import.h"
#include "aimc/ir/op_registry.h"
#include "aimc/lowering/lowering.h"
#include "aimc/passes/passes.h"
#include "aimc/runtime/kernel.h"

namespace aimc::lowering {
namespace {

namespace fs = std::filesystem;
using arch::Placement;

const std::string kSource = AIMC_SOURCE_DIR;

std::vector<std::string> model_paths() {
  std::vector<std::string> paths;
  for (const char* dir : {"/models", "/tests/data/models", "/tests/data/zoo"})
    for (const auto& entry : fs::directory_iterator(kSource + dir))
      if (entry.path().extension() == ".onnx") paths.push_back(entry.path().string());
  std::sort(paths.begin(), paths.end());
  return paths;
}

struct ArchCase {
  std::string preset;
  std::vector<std::string> overrides;
};

std::vector<ArchCase> arch_cases() {
  std::vector<ArchCase> cases;
  for (const char* preset : {"ideal", "isaac", "puma", "race", "xtime"})
    cases.push_back({preset, {}});
  cases.push_back({"race", {"dmmul.mode=crossbar"}});
  cases.push_back({"race", {"dmmul.mode=digital"}});
  cases.push_back({"race", {"mapping.sqrt=acam", "mapping.tanh=acam", "mapping.exp=acam"}});
  cases.push_back({"nldpe", {}});
  cases.push_back({"race", {"readout.mode=acam", "readout.depth_gelu=0"}});
  return cases;
}

std::unique_ptr<ir::Graph> load(const std::string& path, bool one_inference) {
  std::unique_ptr<ir::Graph> graph = frontend::load_onnx(path);
  if (one_inference) ir::infer_shapes_for_one_inference(*graph);
  passes::canonicalize(*graph, runtime::evaluate_node);
  return graph;
}

compiler::LayerKind kind_of(Placement placement) {
  switch (placement) {
    case Placement::kCrossbar:
      return compiler::LayerKind::kCrossbar;
    case Placement::kAcam:
      return compiler::LayerKind::kAcam;
    case Placement::kDigital:
      break;
  }
  return compiler::LayerKind::kDigital;
}

class EveryModelEveryPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryModelEveryPreset, EstimateCompileAndEvalPlaceEveryNodeIdentically) {
  const std::string path = GetParam();
  std::unique_ptr<ir::Graph> eval_graph = load(path, false);
  std::unique_ptr<ir::Graph> one_graph = load(path, true);
  for (const ArchCase& c : arch_cases()) {
    SCOPED_TRACE(path + " on " + c.preset + (c.overrides.empty() ? "" : " " + c.overrides[0]));
    const arch::Architecture arch =
        arch::load_architecture(kSource + "/presets/" + c.preset + ".yaml", c.overrides);
    // eval: the analog executor's layers are exactly the lowered nodes.
    std::map<std::string, Decision> eval_decisions;
    for (const auto& node : eval_graph->nodes())
      eval_decisions[node->name] = decide(*node, arch, eval_graph.get());
    analog::AnalogModel model(*eval_graph, arch, 0, 0);
    std::set<std::string> executor_layers;
    for (const analog::AnalogLayer& layer : model.layers()) {
      executor_layers.insert(layer.name);
      const Decision& d = eval_decisions.at(layer.name);
      ASSERT_NE(d.lowering, nullptr) << layer.name;
      EXPECT_EQ(layer.lowering, d.lowering->name) << layer.name;
      EXPECT_EQ(layer.placement, d.placement) << layer.name;
    }
    for (const auto& [name, d] : eval_decisions)
      EXPECT_EQ(executor_layers.count(name), d.lowering ? 1u : 0u) << name << ": " << d.why;

    // estimate / compile: the mapping's layers and the programs' instructions.
    compiler::MappingOptions options(1024);
    options.replicate = false;
    const compiler::Mapping mapping = compiler::map_graph(*one_graph, arch, options);
    std::map<std::string, compiler::LayerKind> mapped;
    for (const compiler::LayerMapping& layer : mapping.layers) {
      const ir::Node* node = one_graph->find_node(layer.node);
      ASSERT_NE(node, nullptr);
      const Decision d = decide(*node, arch, one_graph.get());
      EXPECT_EQ(layer.kind, kind_of(d.placement)) << layer.node << ": " << d.why;
      EXPECT_EQ(layer.readout_function, d.readout_function) << layer.node;
      EXPECT_EQ(layer.lowering, d.lowering ? d.lowering->name : "") << layer.node;
      mapped[layer.node] = layer.kind;
      // The same node in the eval graph is decided the same way.
      auto it = eval_decisions.find(layer.node);
      if (it != eval_decisions.end()) {
        EXPECT_EQ(it->second.placement, d.placement) << layer.node;
        EXPECT_EQ(it->second.lowering, d.lowering) << layer.node;
      }
    }
    // Every lowered node of the eval graph is a mapped layer of the same kind, but for an
    // activation fused into its producer's readout, which is no layer of its own.
    for (const auto& [name, d] : eval_decisions)
      if (d.lowering && d.lowering->fused_readout) {
        EXPECT_EQ(mapped.count(name), 0u) << name << " is fused but mapped";
      } else if (d.lowering && d.placement != Placement::kDigital) {
        ASSERT_EQ(mapped.count(name), 1u) << name << " is lowered in eval but not mapped";
        EXPECT_EQ(mapped.at(name), kind_of(d.placement)) << name;
      }
    const isa::ProgramSet programs = compiler::generate_programs(*one_graph, mapping, arch);
    for (const isa::Program& program : programs.programs)
      for (const isa::Instruction& instruction : program.instructions) {
        if (instruction.opcode == isa::Opcode::kMvm) {
          EXPECT_EQ(mapped.at(instruction.layer), compiler::LayerKind::kCrossbar);
        }
        if (instruction.opcode == isa::Opcode::kAcam) {
          EXPECT_EQ(mapped.at(instruction.layer), compiler::LayerKind::kAcam);
        }
      }
  }
}

INSTANTIATE_TEST_SUITE_P(Models, EveryModelEveryPreset, ::testing::ValuesIn(model_paths()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = fs::path(info.param).stem().string();
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

// ---- Hand-built nodes: the conditions and the reasons ----

struct HandGraph {
  ir::Graph graph;
  ir::Value* value(const std::string& name, ir::SymShape shape) {
    ir::Value* v = graph.add_value(name);
    v->shape = std::move(shape);
    v->dtype_known = true;
    return v;
  }
  ir::Node* node(const std::string& op, std::vector<ir::Value*> inputs, ir::SymShape out_shape) {
    const std::string name = op + std::to_string(graph.nodes().size());
    return graph.add_node(op, name, std::move(inputs), {value(name + "_out", out_shape)});
  }
};

ir::SymShape dims(std::initializer_list<int64_t> values) {
  ir::SymShape shape;
  for (int64_t v : values) shape.push_back(ir::Dim::of(v));
  return shape;
}

arch::Architecture race(std::vector<std::string> overrides = {}) {
  return arch::load_architecture(kSource + "/presets/race.yaml", overrides);
}

TEST(Decide, OneAndThreeDimensionalConvolutionsStayDigitalWithTheReason) {
  HandGraph h;
  ir::Value* x = h.value("x", dims({1, 4, 16}));
  ir::Value* w = h.graph.add_constant("w", Tensor(DType::kF32, Shape{8, 4, 3}));
  ir::Node* conv1d = h.node("conv", {x, w}, dims({1, 8, 14}));
  conv1d->attrs["kernel_shape"] = std::vector<int64_t>{3};
  ir::Value* x2 = h.value("x2", dims({1, 4, 16, 16}));
  ir::Value* w2 = h.graph.add_constant("w2", Tensor(DType::kF32, Shape{8, 4, 3, 3}));
  ir::Node* conv2d = h.node("conv", {x2, w2}, dims({1, 8, 14, 14}));
  conv2d->attrs["kernel_shape"] = std::vector<int64_t>{3, 3};

  const arch::Architecture arch = race();
  const Decision d1 = decide(*conv1d, arch);
  EXPECT_EQ(d1.placement, Placement::kDigital);
  EXPECT_EQ(d1.lowering, nullptr);
  EXPECT_NE(d1.why.find("1-D convolution"), std::string::npos) << d1.why;
  const Decision d2 = decide(*conv2d, arch);
  EXPECT_EQ(d2.placement, Placement::kCrossbar);
  EXPECT_EQ(d2.lowering->name, "crossbar.conv");
  EXPECT_EQ(d2.why, "mapping.conv = crossbar");
}

TEST(Decide, CrossbarLayerWithAComputedWeightIsBadInputNamingTheNode) {
  HandGraph h;
  ir::Value* x = h.value("x", dims({2, 8}));
  ir::Value* w = h.value("w", dims({8, 4}));
  ir::Node* linear = h.node("linear", {x, w}, dims({2, 4}));
  try {
    decide(*linear, race());
    FAIL() << "expected bad input";
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    EXPECT_NE(std::string(e.what()).find(linear->name), std::string::npos) << e.what();
  }
}

TEST(Decide, UnaryFunctionsFollowTheirMappingKey) {
  HandGraph h;
  ir::Node* sqrt = h.node("Sqrt", {h.value("x", dims({2, 8}))}, dims({2, 8}));
  const Decision off = decide(*sqrt, race());
  EXPECT_EQ(off.placement, Placement::kDigital);
  EXPECT_EQ(off.why, "mapping.sqrt is not set");
  const Decision digital = decide(*sqrt, race({"mapping.sqrt=digital"}));
  EXPECT_EQ(digital.why, "mapping.sqrt = digital");
  const Decision on = decide(*sqrt, race({"mapping.sqrt=acam"}));
  EXPECT_EQ(on.placement, Placement::kAcam);
  ASSERT_NE(on.lowering, nullptr);
  EXPECT_EQ(on.lowering->acam_functions, std::vector<std::string>{"sqrt"});
  ir::Node* relu = h.node("Relu", {h.value("y", dims({2, 8}))}, dims({2, 8}));
  EXPECT_EQ(decide(*relu, race()).why, "no analog lowering for Relu");
}

TEST(Decide, SoftmaxAndLayerNormOnAcamOnlyOverTheLastAxis) {
  HandGraph h;
  ir::Node* last = h.node("Softmax", {h.value("a", dims({2, 3, 8}))}, dims({2, 3, 8}));
  last->attrs["axis"] = int64_t{2};
  ir::Node* first = h.node("Softmax", {h.value("b", dims({2, 3, 8}))}, dims({2, 3, 8}));
  first->attrs["axis"] = int64_t{1};
  const arch::Architecture arch = race();
  EXPECT_EQ(decide(*last, arch).placement, Placement::kAcam);
  const Decision d = decide(*first, arch);
  EXPECT_EQ(d.placement, Placement::kDigital);
  EXPECT_EQ(d.why, "mapping.softmax = acam, but it does not work over the last axis");

  ir::Value* gamma = h.graph.add_constant("gamma", Tensor(DType::kF32, Shape{8}));
  ir::Value* computed_beta = h.value("beta", dims({8}));
  ir::Node* ln =
      h.node("layer_norm", {h.value("c", dims({2, 8})), gamma, computed_beta}, dims({2, 8}));
  EXPECT_EQ(decide(*ln, arch).why, "mapping.layer_norm = acam, but its bias is not a constant");
}

TEST(Decide, AttentionProductsPerDmmulModeAndOnlyForBatchedShapes) {
  HandGraph h;
  ir::Node* qk = h.node("matmul", {h.value("q", dims({4, 16, 8})), h.value("k", dims({4, 8, 16}))},
                        dims({4, 16, 16}));
  ir::Node* broadcast = h.node(
      "matmul", {h.value("p", dims({4, 16, 8})), h.value("r", dims({8, 16}))}, dims({4, 16, 16}));
  EXPECT_EQ(decide(*qk, race()).lowering->name, "acam.log_matmul");
  EXPECT_EQ(decide(*qk, race()).why, "mapping.matmul = acam, dmmul.mode = log_acam");
  EXPECT_EQ(decide(*qk, race({"dmmul.mode=crossbar"})).lowering->name, "crossbar.matmul");
  const Decision int8 = decide(*qk, race({"dmmul.mode=digital"}));
  EXPECT_EQ(int8.lowering->name, "digital.int8_matmul");
  EXPECT_EQ(int8.placement, Placement::kDigital);
  const Decision d = decide(*broadcast, race());
  EXPECT_EQ(d.lowering, nullptr);
  EXPECT_NE(d.why.find("ranks 3 and 2"), std::string::npos) << d.why;
}

TEST(Registry, SchedulesCountWhatTheMappingCharges) {
  // Softmax over rows of 8: exp per element, reciprocal per row, 4 ALU passes.
  const Lowering* softmax = find_lowering("acam.softmax");
  ASSERT_NE(softmax, nullptr);
  NodeSizes sizes;
  sizes.input = sizes.output = 48;
  sizes.row = 8;
  const std::vector<AcamStep> steps = softmax->schedule(sizes);
  EXPECT_EQ(total_elements(steps, AcamStep::Kind::kSearch), 48 + 6);
  EXPECT_EQ(total_elements(steps, AcamStep::Kind::kAlu), 4 * 48);
  auto [lo, hi] = softmax->default_range(1, sizes, arch::AcamConfig{});
  EXPECT_EQ(lo, 1.0);
  EXPECT_EQ(hi, 8.0);  // Σ exp(x - max) over a row of 8 is at most 8
}

TEST(Registry, NamesAreUniqueAndEveryAcamLoweringIsComplete) {
  std::set<std::string> names;
  for (const Lowering& lowering : lowerings()) {
    EXPECT_TRUE(names.insert(lowering.name).second) << lowering.name;
    if (lowering.placement == Placement::kAcam) {
      EXPECT_FALSE(lowering.acam_functions.empty()) << lowering.name;
      EXPECT_TRUE(lowering.schedule) << lowering.name;
    }
  }
  // The mapping kinds the architecture accepts are the registry's, and the other way round.
  std::set<std::string> registry_kinds, arch_kinds;
  for (const auto& [kind, placement] : mapping_kinds()) registry_kinds.insert(kind);
  for (const std::string& kind : arch::crossbar_mapping_kinds()) arch_kinds.insert(kind);
  for (const std::string& kind : arch::acam_mapping_kinds()) arch_kinds.insert(kind);
  arch_kinds.insert("matmul");
  EXPECT_EQ(registry_kinds, arch_kinds);
  for (const auto& [kind, placement] : mapping_kinds()) {
    const std::string value = placement == Placement::kCrossbar ? "crossbar" : "acam";
    EXPECT_NO_THROW(race({"mapping." + kind + "=" + value})) << kind;
    EXPECT_NO_THROW(race({"mapping." + kind + "=digital"})) << kind;
  }
}

// ---- readout.mode acam: which activations a readout fuses (docs/analog-model.md §8) ----

// x [1, k] -> linear -> y [1, 4] -> `activation` -> z; returns the two nodes.
std::pair<ir::Node*, ir::Node*> linear_then(HandGraph& h, const std::string& activation,
                                            int64_t k = 16) {
  ir::Value* x = h.value("x", dims({1, k}));
  ir::Value* w = h.graph.add_constant("w", Tensor(DType::kF32, Shape{k, 4}));
  ir::Node* linear = h.node("linear", {x, w}, dims({1, 4}));
  ir::Node* act = h.node(activation, {linear->output(0)}, dims({1, 4}));
  h.graph.inputs = {x};
  h.graph.outputs = {act->output(0)};
  return {linear, act};
}

TEST(Readout, ALinearFusesTheActivationThatIsItsOnlyUse) {
  const arch::Architecture arch = race({"readout.mode=acam"});
  for (const char* op : {"Relu", "gelu", "silu", "Sigmoid", "Tanh"}) {
    SCOPED_TRACE(op);
    HandGraph h;
    auto [linear, act] = linear_then(h, op);
    const Decision dl = decide(*linear, arch, &h.graph);
    const Decision da = decide(*act, arch, &h.graph);
    ASSERT_NE(dl.lowering, nullptr);
    EXPECT_EQ(dl.lowering->name, "readout.linear");
    EXPECT_EQ(dl.readout_function, fusable_function(op));
    EXPECT_EQ(dl.fused_with, act);
    ASSERT_NE(da.lowering, nullptr);
    EXPECT_EQ(da.lowering->name, "readout.fused_" + fusable_function(op));
    EXPECT_TRUE(da.lowering->fused_readout);
    EXPECT_EQ(da.fused_with, linear);
    EXPECT_NE(da.why.find("computed by the readout trees of " + linear->name), std::string::npos)
        << da.why;
    // Without the graph nothing is fused: the linear reads through identity trees.
    const Decision alone = decide(*linear, arch);
    EXPECT_EQ(alone.readout_function, "identity");
    EXPECT_EQ(alone.fused_with, nullptr);
  }
}

TEST(Readout, NothingIsFusedWhereTheTreeCannotSeeTheWholeActivationInput) {
  const arch::Architecture arch = race({"readout.mode=acam"});
  {  // the linear's output is also a graph output
    HandGraph h;
    auto [linear, act] = linear_then(h, "Relu");
    h.graph.outputs.push_back(linear->output(0));
    EXPECT_EQ(decide(*linear, arch, &h.graph).readout_function, "identity");
    EXPECT_EQ(decide(*act, arch, &h.graph).lowering, nullptr);
  }
  {  // a second use of the linear's output
    HandGraph h;
    auto [linear, act] = linear_then(h, "Relu");
    h.node("Neg", {linear->output(0)}, dims({1, 4}));
    EXPECT_EQ(decide(*linear, arch, &h.graph).fused_with, nullptr);
    EXPECT_EQ(decide(*act, arch, &h.graph).lowering, nullptr);
  }
  {  // readout.depth_relu 0: ReLU is not one of the readout's functions
    HandGraph h;
    auto [linear, act] = linear_then(h, "Relu");
    const arch::Architecture no_relu = race({"readout.mode=acam", "readout.depth_relu=0"});
    EXPECT_EQ(decide(*linear, no_relu, &h.graph).readout_function, "identity");
    EXPECT_EQ(decide(*act, no_relu, &h.graph).why, "no analog lowering for Relu");
  }
  {  // K = 200 > array.rows 128: two row blocks, summed digitally
    HandGraph h;
    auto [linear, act] = linear_then(h, "Relu", 200);
    EXPECT_EQ(weight_row_blocks(*linear, arch), 2);
    const Decision d = decide(*linear, arch, &h.graph);
    EXPECT_EQ(d.readout_function, "identity");
    EXPECT_NE(d.why.find("needs 2 row blocks"), std::string::npos) << d.why;
    EXPECT_EQ(decide(*act, arch, &h.graph).lowering, nullptr);
  }
  {  // ADC readout (race as it is): the crossbar lowering, no readout
    HandGraph h;
    auto [linear, act] = linear_then(h, "gelu");
    const Decision d = decide(*linear, race(), &h.graph);
    EXPECT_EQ(d.lowering->name, "crossbar.linear");
    EXPECT_EQ(d.readout_function, "");
    EXPECT_EQ(decide(*act, race(), &h.graph).lowering->name, "acam.gelu");
  }
}

}  // namespace
}  // namespace aimc::lowering
