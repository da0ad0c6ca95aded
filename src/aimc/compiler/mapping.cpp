// Mapping of a canonical graph onto crossbar arrays, ACAM units and cores; the counts are the
// ones docs/cost-model.md §1 gives.
#include "aimc/compiler/mapping.h"

#include <algorithm>
#include <set>

#include "aimc/core/error.h"

namespace aimc::compiler {

namespace {

using arch::Placement;

int64_t ceil_div(int64_t a, int64_t b) {
  return (a + b - 1) / b;
}

// Elements of a value per inference: unknown dimensions (the batch) count as 1; 0 when even
// the rank is unknown.
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

// Ops that only relabel or move data: address arithmetic, no cost charged (ASSUMPTION).
const std::set<std::string> kLayoutOps = {"Reshape",  "Flatten", "Squeeze",  "Unsqueeze",
                                          "Identity", "Shape",   "Constant", "Transpose",
                                          "Slice",    "Gather",  "Concat",   "Split"};

// ACAM-capable single-input functions: op -> mapping kind.
const std::vector<std::pair<std::string, std::string>> kUnaryAcamOps = {
    {"gelu", "gelu"}, {"Tanh", "tanh"}, {"Sigmoid", "sigmoid"},       {"silu", "silu"},
    {"Exp", "exp"},   {"Log", "log"},   {"Reciprocal", "reciprocal"}, {"Sqrt", "sqrt"}};

const Tensor* constant_weight(const ir::Node& node) {
  const ir::Value* weight = node.input(1);
  if (!weight || !weight->is_constant())
    throw_bad_input("{}: mapped to crossbars but its weight is not a constant", node.describe());
  return &weight->constant;
}

void map_crossbar(const ir::Node& node, const arch::Architecture& arch, LayerMapping& layer) {
  const Tensor& weight = *constant_weight(node);
  const Shape& shape = weight.shape();
  if (node.op == "linear") {
    if (shape.size() != 2)
      throw_bad_input("{}: expected a 2-D weight [K, N], got rank {}", node.describe(),
                      shape.size());
    layer.k = shape[0];
    layer.n = shape[1];
    layer.groups = 1;
  } else {
    // conv weight [O, C/group, kh, kw]: each group is a [C/group*kh*kw, O/group] matrix.
    layer.groups = std::max<int64_t>(1, node.attr_int("group", 1));
    layer.k = 1;
    for (size_t i = 1; i < shape.size(); ++i) layer.k *= shape[i];
    layer.n = shape[0] / layer.groups;
  }
  layer.kind = LayerKind::kCrossbar;
  layer.row_blocks = ceil_div(layer.k, arch.array.rows);
  layer.col_blocks = ceil_div(layer.n, arch.array.cols);
  layer.slices = weight_slices(arch);
  layer.arrays = layer.groups * layer.row_blocks * layer.col_blocks * layer.slices * 2;
  layer.vectors_per_inference =
      layer.output_elements / std::max<int64_t>(1, layer.groups * layer.n);
  // Dequantisation and bias: one ALU operation per output element.
  layer.digital_ops_per_inference = layer.output_elements;
}

int64_t matmul_macs(const ir::Node& node) {
  return elements_per_inference(node.output(0)) * last_dim(node.input(0));
}

// Fills an ACAM layer; returns false when `node` is not an ACAM-capable op placed on ACAM.
bool map_acam(const ir::Node& node, const arch::Architecture& arch, LayerMapping& layer) {
  int64_t elements = layer.output_elements;
  if (node.op == "Softmax" && arch.placement("softmax") == Placement::kAcam) {
    // exp unit per element, reciprocal unit per row; max, subtract, sum, multiply digital.
    int64_t rows = elements / last_dim(node.input(0));
    layer.acam_units = 2;
    layer.searches_per_inference = elements + rows;
    layer.digital_ops_per_inference = 4 * elements;
  } else if (node.op == "layer_norm" && arch.placement("layer_norm") == Placement::kAcam) {
    // rsqrt unit per row; mean, variance, subtract, scale, shift digital.
    layer.acam_units = 1;
    layer.searches_per_inference = elements / last_dim(node.input(0));
    layer.digital_ops_per_inference = 5 * elements;
  } else if (node.op == "matmul" && arch.placement("matmul") == Placement::kAcam &&
             arch.dmmul == arch::DmmulMode::kLogAcam) {
    // ln of every operand element, exp of every product, the sums digital.
    int64_t macs = matmul_macs(node);
    layer.acam_units = 2;
    layer.searches_per_inference =
        elements_per_inference(node.input(0)) + elements_per_inference(node.input(1)) + macs;
    layer.digital_ops_per_inference = macs;
  } else {
    auto it = std::find_if(kUnaryAcamOps.begin(), kUnaryAcamOps.end(),
                           [&](const auto& entry) { return entry.first == node.op; });
    if (it == kUnaryAcamOps.end() || arch.placement(it->second) != Placement::kAcam) return false;
    layer.acam_units = 1;
    layer.searches_per_inference = elements;
  }
  layer.kind = LayerKind::kAcam;
  layer.acam_rows_per_unit = acam_rows_upper_bound(arch.acam);
  if (arch.chip.acam_units_per_core == 0)
    throw_bad_input("{}: placed on ACAM by the mapping section, but chip.acam_units_per_core is 0",
                    node.describe());
  return true;
}

}  // namespace

int64_t weight_slices(const arch::Architecture& arch) {
  return ceil_div(arch.weights.w_bits - 1, arch.array.cell_bits);
}

int64_t input_steps(const arch::Architecture& arch) {
  return ceil_div(arch.input.in_bits - 1, arch.input.dac_bits);
}

int64_t acam_rows_upper_bound(const arch::AcamConfig& acam) {
  return (int64_t{1} << acam.in_bits) * acam.out_bits / 2;
}

std::string layer_kind_name(LayerKind kind) {
  switch (kind) {
    case LayerKind::kCrossbar:
      return "crossbar";
    case LayerKind::kAcam:
      return "acam";
    case LayerKind::kDigital:
      return "digital";
  }
  return "?";
}

Mapping map_graph(const ir::Graph& graph, const arch::Architecture& arch,
                  const MappingOptions& options) {
  if (options.chips < 1) throw_bad_input("chips: {} must be >= 1", options.chips);
  Mapping mapping;
  mapping.chips = options.chips;
  for (const auto& node_ptr : graph.nodes()) {
    const ir::Node& node = *node_ptr;
    if (kLayoutOps.count(node.op)) continue;
    LayerMapping layer;
    layer.node = node.name;
    layer.op = node.op;
    layer.input_elements = elements_per_inference(node.input(0));
    layer.output_elements = elements_per_inference(node.output(0));
    bool crossbar = (node.op == "linear" && arch.placement("linear") == Placement::kCrossbar) ||
                    (node.op == "conv" && arch.placement("conv") == Placement::kCrossbar);
    if (crossbar) {
      map_crossbar(node, arch, layer);
      layer.cores = ceil_div(layer.arrays, arch.chip.arrays_per_core);
    } else if (map_acam(node, arch, layer)) {
      layer.cores = ceil_div(layer.acam_units, arch.chip.acam_units_per_core);
    } else {
      // Digital: one ALU operation per MAC, else per output element (ASSUMPTION).
      int64_t macs = 0;
      if (node.op == "linear" || node.op == "matmul") macs = matmul_macs(node);
      if (node.op == "conv" && node.input(1) && node.input(1)->shape) {
        int64_t per_output = 1;
        for (size_t i = 1; i < node.input(1)->shape->size(); ++i)
          per_output *= std::max<int64_t>(1, (*node.input(1)->shape)[i].value);
        macs = layer.output_elements * per_output;
      }
      layer.digital_ops_per_inference = macs > 0 ? macs : layer.output_elements;
    }
    if (layer.cores > 0) {
      layer.first_core = mapping.cores_used;
      mapping.cores_used += layer.cores;
    }
    mapping.arrays_used += layer.arrays;
    mapping.acam_units_used += layer.acam_units;
    mapping.layers.push_back(std::move(layer));
  }
  const int64_t cores_per_chip = arch.chip.tiles * arch.chip.cores_per_tile;
  mapping.tiles_used = ceil_div(mapping.cores_used, arch.chip.cores_per_tile);
  mapping.chips_used = std::max<int64_t>(1, ceil_div(mapping.cores_used, cores_per_chip));
  if (mapping.chips_used > options.chips) {
    const int64_t cores = options.chips * cores_per_chip;
    throw_bad_input(
        "{}: the model needs {} crossbar arrays and {} ACAM units on {} cores ({} chips), but "
        "{} chip(s) of architecture \"{}\" hold {} arrays and {} ACAM units on {} cores "
        "(allow more chips with --chips {})",
        graph.name.empty() ? "model" : graph.name, mapping.arrays_used, mapping.acam_units_used,
        mapping.cores_used, mapping.chips_used, options.chips, arch.name,
        cores * arch.chip.arrays_per_core, cores * arch.chip.acam_units_per_core, cores,
        mapping.chips_used);
  }
  return mapping;
}

}  // namespace aimc::compiler
