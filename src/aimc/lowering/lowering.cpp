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
  return text;
}

// Why no lowering took the node, when none is selected by the architecture.
std::string why_digital(const ir::Node& node, const arch::Architecture& arch) {
  for (const Lowering& lowering : lowerings()) {
    if (lowering.op != node.op) continue;
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
    auto same = [&](const auto& entry) { return entry.first == lowering.kind; };
    if (std::find_if(kinds.begin(), kinds.end(), same) == kinds.end())
      kinds.push_back({lowering.kind, lowering.selected_by});
  }
  return kinds;
}

Decision decide(const ir::Node& node, const arch::Architecture& arch) {
  for (const Lowering& lowering : lowerings()) {
    if (lowering.op != node.op || arch.placement(lowering.kind) != lowering.selected_by) continue;
    if (lowering.dmmul && *lowering.dmmul != arch.dmmul) continue;
    const std::string rejected = lowering.reject ? lowering.reject(node) : "";
    if (!rejected.empty())
      return {nullptr, arch::Placement::kDigital,
              fmt::format("{}, but {}", selection(lowering, arch), rejected)};
    if (lowering.needs_constant_weight && !(node.input(1) && node.input(1)->is_constant()))
      throw_bad_input("{}: mapped to crossbars but its weight is not a constant", node.describe());
    return {&lowering, lowering.placement, selection(lowering, arch)};
  }
  return {nullptr, arch::Placement::kDigital, why_digital(node, arch)};
}

std::vector<NodePlacement> place_graph(const ir::Graph& graph, const arch::Architecture& arch) {
  std::vector<NodePlacement> table;
  for (const auto& node : graph.nodes()) {
    Decision decision = decide(*node, arch);
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
