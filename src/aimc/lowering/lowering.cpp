// The registry and the one placement decision (lowering.h).
#include "aimc/lowering/lowering.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "aimc/core/error.h"
#include "aimc/lowering/registry_parts.h"

namespace aimc::lowering {

namespace {

std::vector<Lowering> build_registry() {
  std::vector<Lowering> registry;
  detail::add_crossbar_lowerings(registry);
  detail::add_acam_unary_lowerings(registry);
  detail::add_acam_composite_lowerings(registry);
  detail::add_dmmul_lowerings(registry);
  detail::add_readout_lowerings(registry);
  std::set<std::string> names;
  for (const Lowering& lowering : registry) {
    AIMC_ASSERT(names.insert(lowering.name).second, "lowering {} registered twice", lowering.name);
    AIMC_ASSERT(
        lowering.placement != arch::Placement::kAcam ||
            (!lowering.acam_functions.empty() && lowering.schedule && lowering.default_range),
        "ACAM lowering {} needs functions, a schedule and default ranges", lowering.name);
  }
  return registry;
}

// "mapping.gelu = acam" / "mapping.matmul = acam, dmmul.mode = log_acam".
std::string selection(const Lowering& lowering, const arch::Architecture& arch) {
  std::string text = fmt::format("mapping.{} = {}", lowering.kind,
                                 arch::placement_name(arch.placement(lowering.kind)));
  if (lowering.dmmul) text += fmt::format(", dmmul.mode = {}", arch::dmmul_mode_name(arch.dmmul));
  if (lowering.readout == arch::ReadoutMode::kAcam) text += ", readout.mode = acam";
  return text;
}

// Why no lowering took the node, when none is selected by the architecture.
std::string why_digital(const ir::Node& node, const arch::Architecture& arch) {
  for (const Lowering& lowering : lowerings()) {
    if (lowering.op != node.op || lowering.fused_readout) continue;
    auto it = arch.mapping.find(lowering.kind);
    if (it == arch.mapping.end()) return fmt::format("mapping.{} is not set", lowering.kind);
    return fmt::format("mapping.{} = {}", lowering.kind, arch::placement_name(it->second));
  }
  return fmt::format("no analog lowering for {}", node.op);
}

}  // namespace

namespace detail {

Lowering make_lowering(std::string name, std::string op, std::string kind,
                       arch::Placement selected_by, arch::Placement placement, Engine engine,
                       std::string description) {
  Lowering lowering;
  lowering.name = std::move(name);
  lowering.op = std::move(op);
  lowering.kind = std::move(kind);
  lowering.selected_by = selected_by;
  lowering.placement = placement;
  lowering.engine = engine;
  lowering.description = std::move(description);
  return lowering;
}

}  // namespace detail

const std::vector<Lowering>& lowerings() {
  static const std::vector<Lowering> registry = build_registry();
  return registry;
}

const Lowering* find_lowering(const std::string& name) {
  for (const Lowering& lowering : lowerings())
    if (lowering.name == name) return &lowering;
  return nullptr;
}

std::vector<std::pair<std::string, arch::Placement>> mapping_kinds() {
  std::vector<std::pair<std::string, arch::Placement>> kinds;
  for (const Lowering& lowering : lowerings()) {
    if (lowering.fused_readout) continue;  // selected by readout.depth_*, not a mapping key
    auto same = [&](const auto& entry) { return entry.first == lowering.kind; };
    if (std::find_if(kinds.begin(), kinds.end(), same) == kinds.end())
      kinds.push_back({lowering.kind, lowering.selected_by});
  }
  return kinds;
}

namespace {

// The decision from the node alone: its op, the mapping and the lowerings' conditions.
Decision decide_alone(const ir::Node& node, const arch::Architecture& arch) {
  for (const Lowering& lowering : lowerings()) {
    if (lowering.fused_readout) continue;  // decided from the graph (decide)
    if (lowering.op != node.op || arch.placement(lowering.kind) != lowering.selected_by) continue;
    if (lowering.dmmul && *lowering.dmmul != arch.dmmul) continue;
    if (lowering.readout && *lowering.readout != arch.readout.mode) continue;
    const std::string rejected = lowering.reject ? lowering.reject(node) : "";
    if (!rejected.empty())
      return {nullptr, arch::Placement::kDigital,
              fmt::format("{}, but {}", selection(lowering, arch), rejected), "", nullptr};
    if (lowering.needs_constant_weight && !(node.input(1) && node.input(1)->is_constant()))
      throw_bad_input("{}: mapped to crossbars but its weight is not a constant", node.describe());
    Decision decision{&lowering, lowering.placement, selection(lowering, arch), "", nullptr};
    if (lowering.readout == arch::ReadoutMode::kAcam) decision.readout_function = "identity";
    return decision;
  }
  return {nullptr, arch::Placement::kDigital, why_digital(node, arch), "", nullptr};
}

// The activation whose function the readout trees of crossbar layer `node` (decided `d`)
// compute, or nullptr: its output's only use, not a graph output, a function with a depth,
// and the whole dot product in one array group (one row block), so that the tree sees it.
const ir::Node* fused_consumer(const ir::Node& node, const Decision& d,
                               const arch::Architecture& arch, const ir::Graph& graph,
                               std::string* why_not = nullptr) {
  if (!d.lowering || d.lowering->readout != arch::ReadoutMode::kAcam) return nullptr;
  const ir::Value* y = node.output(0);
  if (!y || graph.is_graph_output(y)) return nullptr;
  const std::vector<ir::Node*> users = graph.users(y);
  if (users.size() != 1) return nullptr;
  const ir::Node* user = users[0];
  const std::string function = fusable_function(user->op);
  if (function.empty() || arch.readout.depth(function) == 0) return nullptr;
  if (user->input(0) != y || user->num_present_inputs() != 1) return nullptr;
  const int64_t blocks = weight_row_blocks(node, arch);
  if (blocks != 1) {
    if (why_not)
      *why_not = fmt::format(
          "; its readout cannot fuse {} ({}): the weight needs {} row blocks of array.rows {}, "
          "so each output is summed digitally",
          function, user->name, blocks, arch.array.rows);
    return nullptr;
  }
  return user;
}

}  // namespace

std::string fusable_function(const std::string& op) {
  return detail::fused_function_of(op);
}

int64_t weight_row_blocks(const ir::Node& node, const arch::Architecture& arch) {
  if ((node.op != "linear" && node.op != "conv") || !node.input(1) || !node.input(1)->is_constant())
    return 0;
  const Shape& shape = node.input(1)->constant.shape();
  if (shape.empty()) return 0;
  int64_t k = 1;
  if (node.op == "linear")
    k = shape[0];
  else
    for (size_t i = 1; i < shape.size(); ++i) k *= shape[i];
  return (k + arch.array.rows - 1) / arch.array.rows;
}

Decision decide(const ir::Node& node, const arch::Architecture& arch, const ir::Graph* graph) {
  const bool readout = graph && arch.readout.mode == arch::ReadoutMode::kAcam;
  const std::string function = readout ? fusable_function(node.op) : "";
  if (!function.empty() && node.input(0) && node.input(0)->producer) {
    const ir::Node& producer = *node.input(0)->producer;
    if (fused_consumer(producer, decide_alone(producer, arch), arch, *graph) == &node) {
      const Lowering* fused = find_lowering("readout.fused_" + function);
      AIMC_ASSERT(fused, "no readout lowering for {}", function);
      Decision decision{fused, arch::Placement::kCrossbar,
                        fmt::format("readout.depth_{} = {}: computed by the readout trees of {}",
                                    function, arch.readout.depth(function), producer.name),
                        function, &producer};
      return decision;
    }
  }
  Decision decision = decide_alone(node, arch);
  if (readout) {
    std::string why_not;
    if (const ir::Node* user = fused_consumer(node, decision, arch, *graph, &why_not)) {
      decision.readout_function = fusable_function(user->op);
      decision.fused_with = user;
      decision.why += fmt::format("; its readout trees compute {} ({}, readout.depth_{} = {})",
                                  decision.readout_function, user->name, decision.readout_function,
                                  arch.readout.depth(decision.readout_function));
    }
    decision.why += why_not;
  }
  return decision;
}

std::vector<NodePlacement> place_graph(const ir::Graph& graph, const arch::Architecture& arch) {
  std::vector<NodePlacement> table;
  for (const auto& node : graph.nodes()) {
    Decision decision = decide(*node, arch, &graph);
    table.push_back({node->name, node->op, decision.placement,
                     decision.lowering ? decision.lowering->name : "", decision.why});
  }
  return table;
}

int64_t elements_per_inference(const ir::Value* value) {
  if (!value || !value->shape) return 0;
  int64_t count = 1;
  for (const ir::Dim& dim : *value->shape) count *= dim.known() ? dim.value : 1;
  return count;
}

int64_t last_dim(const ir::Value* value) {
  if (!value || !value->shape || value->shape->empty() || !value->shape->back().known()) return 1;
  return std::max<int64_t>(1, value->shape->back().value);
}

NodeSizes node_sizes(const ir::Node& node) {
  NodeSizes sizes;
  sizes.input = elements_per_inference(node.input(0));
  sizes.second_input = elements_per_inference(node.input(1));
  sizes.output = elements_per_inference(node.output(0));
  sizes.row = last_dim(node.input(0));
  sizes.macs = sizes.output * sizes.row;
  return sizes;
}

int64_t total_elements(const std::vector<AcamStep>& steps, AcamStep::Kind kind) {
  int64_t total = 0;
  for (const AcamStep& step : steps)
    if (step.kind == kind) total += step.elements;
  return total;
}

}  // namespace aimc::lowering
