// Mapping of a canonical graph onto crossbar arrays, ACAM units and cores; the counts are the
// ones docs/cost-model.md §1 gives.
#include "aimc/compiler/mapping.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

#include "aimc/core/error.h"
#include "aimc/core/int_math.h"
#include "aimc/lowering/lowering.h"

namespace aimc::compiler {

namespace {

using arch::Placement;

using lowering::last_dim;

// Ops that only relabel or move data: address arithmetic, no cost charged (ASSUMPTION).
const std::set<std::string> kLayoutOps = {"Reshape",  "Flatten", "Squeeze",  "Unsqueeze",
                                          "Identity", "Shape",   "Constant", "Transpose",
                                          "Slice",    "Gather",  "Concat",   "Split"};

const Tensor* constant_weight(const ir::Node& node) {
  const ir::Value* weight = node.input(1);
  // lowering::decide rejected a crossbar layer whose weight is not a constant.
  AIMC_ASSERT(weight && weight->is_constant(), "{}: crossbar weight is not a constant",
              node.describe());
  return &weight->constant;
}

// Arrays of a crossbar layer from its k, n and groups: row blocks x column blocks x weight
// slices x 2 polarities per group; one input vector per groups·n outputs; one ALU operation per
// output element (dequantisation and bias).
void set_array_geometry(const arch::Architecture& arch, LayerMapping& layer) {
  layer.row_blocks = ceil_div(layer.k, arch.array.rows);
  layer.col_blocks = ceil_div(layer.n, arch.array.cols);
  layer.slices = arch.weight_slices();
  layer.arrays = layer.groups * layer.row_blocks * layer.col_blocks * layer.slices * 2;
  layer.vectors_per_inference =
      layer.output_elements / std::max<int64_t>(1, layer.groups * layer.n);
  layer.digital_ops_per_inference = layer.output_elements;
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
  layer.weight_elements = weight.numel();
  layer.macs_per_inference = layer.output_elements * layer.k;
  set_array_geometry(arch, layer);
}

int64_t matmul_macs(const ir::Node& node) {
  return elements_per_inference(node.output(0)) * last_dim(node.input(0));
}

// A data-dependent product y = A·B on crossbars (dmmul.mode crossbar, ANALOG_MODEL.md §3):
// every [K, N] matrix of B is a weight matrix of its own (a group, as in a grouped conv),
// written into its arrays for each inference, then read by its rows of A.
void map_crossbar_matmul(const ir::Node& node, const arch::Architecture& arch,
                         LayerMapping& layer) {
  const ir::Value* operand = node.input(1);
  if (!operand || !operand->shape || operand->shape->size() < 2)
    throw_bad_input("{}: dmmul.mode crossbar needs a second operand of rank >= 2", node.describe());
  const ir::SymShape& shape = *operand->shape;
  auto known_or_one = [](const ir::Dim& dim) {
    return dim.known() ? std::max<int64_t>(1, dim.value) : 1;
  };
  layer.kind = LayerKind::kCrossbar;
  layer.k = known_or_one(shape[shape.size() - 2]);
  layer.n = known_or_one(shape.back());
  // Matrices of B per inference (a symbolic batch counts as 1).
  layer.groups = std::max<int64_t>(1, elements_per_inference(operand) / (layer.k * layer.n));
  layer.macs_per_inference = matmul_macs(node);
  // Vectors: the rows of A per matrix of B (all of A's rows when B is broadcast over A's batch).
  set_array_geometry(arch, layer);
  if (operand->is_constant()) {
    layer.weight_elements = operand->constant.numel();  // resident, programmed once
  } else {
    // Every used cell of both polarities and every slice, row by row in each array.
    layer.cells_written_per_inference = layer.groups * layer.k * layer.n * layer.slices * 2;
    layer.rows_written_per_inference = layer.groups * layer.k * layer.col_blocks * layer.slices * 2;
  }
}

// Fills an ACAM layer from its lowering: one function unit per table, the searches and ALU
// operations of its schedule.
void map_acam(const ir::Node& node, const lowering::Lowering& lowered,
              const arch::Architecture& arch, LayerMapping& layer) {
  layer.kind = LayerKind::kAcam;
  layer.acam_functions = lowered.acam_functions;
  layer.acam_steps = lowered.schedule(lowering::node_sizes(node));
  layer.acam_units = static_cast<int64_t>(layer.acam_functions.size());
  layer.searches_per_inference =
      lowering::total_elements(layer.acam_steps, lowering::AcamStep::Kind::kSearch);
  layer.digital_ops_per_inference =
      lowering::total_elements(layer.acam_steps, lowering::AcamStep::Kind::kAlu);
  layer.acam_rows_per_unit = acam_rows_upper_bound(arch.acam);
  if (arch.chip.acam_units_per_core == 0)
    throw_bad_input("{}: placed on ACAM by the mapping section, but chip.acam_units_per_core is 0",
                    node.describe());
}

}  // namespace

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

int64_t vectors_per_replica(const LayerMapping& layer, int64_t batch) {
  return ceil_div(layer.vectors_per_inference * batch, std::max<int64_t>(1, layer.replicas));
}

MeshPosition tile_position(int64_t tile, const arch::ChipConfig& chip) {
  int64_t columns = 1;
  while (columns * columns < chip.tiles) ++columns;
  const int64_t chip_index = tile / chip.tiles;
  const int64_t local = tile % chip.tiles;
  const int64_t row = local / columns;
  int64_t column = local % columns;
  if (row % 2 == 1) column = columns - 1 - column;  // the snake runs back on odd rows
  return {chip_index * columns + column, row};
}

int64_t mesh_hops(MeshPosition a, MeshPosition b) {
  return std::abs(a.x - b.x) + std::abs(a.y - b.y);
}

int64_t tile_hops(int64_t a, int64_t b, const arch::ChipConfig& chip) {
  if (chip.network.topology == arch::NetworkTopology::kMesh)
    return mesh_hops(tile_position(a, chip), tile_position(b, chip));
  const int64_t chip_hops = std::abs(a / chip.tiles - b / chip.tiles);
  const int64_t apart = std::abs(a % chip.tiles - b % chip.tiles);
  return chip_hops + std::min(apart, chip.tiles - apart);
}

namespace {

// Tiles a layer's cores sit on, with the number of its cores on each.
using TileHistogram = std::vector<std::pair<int64_t, int64_t>>;  // global tile, cores

TileHistogram tiles_of(const LayerMapping& layer, const arch::ChipConfig& chip) {
  TileHistogram histogram;
  const int64_t per_tile = chip.cores_per_tile;
  const int64_t end = layer.first_core + layer.cores;
  for (int64_t core = layer.first_core; core < end;) {
    const int64_t tile = core / per_tile;
    const int64_t tile_end = std::min(end, (tile + 1) * per_tile);
    histogram.push_back({tile, tile_end - core});
    core = tile_end;
  }
  return histogram;
}

// Mean hops between a core of `from` and a core of `to`, over all pairs.
double mean_hops(const TileHistogram& from, const TileHistogram& to, const arch::ChipConfig& chip) {
  double weighted = 0, pairs = 0;
  for (const auto& [a, count_a] : from)
    for (const auto& [b, count_b] : to) {
      const double both = static_cast<double>(count_a) * static_cast<double>(count_b);
      weighted += both * static_cast<double>(tile_hops(a, b, chip));
      pairs += both;
    }
  return pairs > 0 ? weighted / pairs : 0.0;
}

// Greedy replication (docs/cost-model.md §1): the crossbar layer with the largest time gets
// the fewest extra copies that lower its time, while the spare cores allow. Ties go to the
// earlier layer, so the result depends on the model and the architecture only.
void replicate_bottlenecks(Mapping& mapping, const arch::Architecture& arch,
                           const MappingOptions& options, int64_t spare_cores) {
  const LayerTimeFn time_of = options.layer_time ? options.layer_time : [&](const LayerMapping& l) {
    return static_cast<double>(vectors_per_replica(l, options.batch));
  };
  // Largest time first; on equal times the smaller index.
  auto slower = [](const std::pair<double, int64_t>& a, const std::pair<double, int64_t>& b) {
    return a.first != b.first ? a.first < b.first : a.second > b.second;
  };
  std::priority_queue<std::pair<double, int64_t>, std::vector<std::pair<double, int64_t>>,
                      decltype(slower)>
      queue(slower);
  // A layer whose arrays are written per inference is not copied: each copy would have to
  // be written with the same operand, for every inference.
  for (size_t i = 0; i < mapping.layers.size(); ++i)
    if (mapping.layers[i].kind == LayerKind::kCrossbar &&
        mapping.layers[i].cells_written_per_inference == 0)
      queue.push({time_of(mapping.layers[i]), static_cast<int64_t>(i)});
  while (!queue.empty()) {
    LayerMapping& layer = mapping.layers[static_cast<size_t>(queue.top().second)];
    const int64_t vectors = layer.vectors_per_inference * options.batch;
    const int64_t per_replica = vectors_per_replica(layer, options.batch);
    if (per_replica <= 1) return;  // the bottleneck reads one vector per copy already
    // The fewest copies that read fewer vectors each: ceil(vectors / (per_replica - 1)).
    const int64_t replicas = ceil_div(vectors, per_replica - 1);
    const int64_t arrays_per_replica = layer.arrays / layer.replicas;
    const int64_t cores = ceil_div(replicas * arrays_per_replica, arch.chip.arrays_per_core);
    const int64_t added = replicas - layer.replicas;
    if (cores - layer.cores > spare_cores) return;
    if (options.max_added_replicas >= 0 &&
        mapping.replicas_added + added > options.max_added_replicas)
      return;
    queue.pop();
    spare_cores -= cores - layer.cores;
    mapping.replicas_added += added;
    layer.replicas = replicas;
    layer.arrays = replicas * arrays_per_replica;
    layer.cores = cores;
    queue.push({time_of(layer), static_cast<int64_t>(&layer - mapping.layers.data())});
  }
}

}  // namespace

void place_layers(Mapping& mapping, const arch::ChipConfig& chip,
                  const std::vector<int64_t>& order) {
  std::vector<LayerMapping>& layers = mapping.layers;
  AIMC_ASSERT(order.size() == layers.size(), "placement order of {} layers for {}", order.size(),
              layers.size());
  int64_t next_core = 0;
  for (int64_t index : order) {
    LayerMapping& layer = layers.at(static_cast<size_t>(index));
    layer.first_core = next_core;
    next_core += layer.cores;
  }
  // Where each layer's data sits: its own cores, or (a layer without cores) those of its
  // latest producer that has a place, where its input already is (ASSUMPTION). -1: nowhere
  // on the chip (fed by the graph inputs only; off-chip I/O is not charged).
  std::vector<int64_t> owner(layers.size(), -1);
  std::map<int64_t, TileHistogram> histograms;
  for (size_t i = 0; i < layers.size(); ++i) {
    if (layers[i].cores > 0) {
      owner[i] = static_cast<int64_t>(i);
      histograms[owner[i]] = tiles_of(layers[i], chip);
      continue;
    }
    for (int64_t producer : layers[i].producers)
      if (owner[static_cast<size_t>(producer)] >= 0)
        owner[i] = owner[static_cast<size_t>(producer)];
  }
  std::vector<double> hop_sum(layers.size(), 0.0);
  for (LayerMapping& layer : layers) {
    layer.output_transfers = 0;
    layer.hops_per_transfer = 0;
  }
  for (size_t consumer = 0; consumer < layers.size(); ++consumer)
    for (int64_t producer : layers[consumer].producers) {
      const size_t p = static_cast<size_t>(producer);
      ++layers[p].output_transfers;
      const int64_t from = owner[p], to = owner[consumer];
      if (from >= 0 && to >= 0 && from != to)
        hop_sum[p] += mean_hops(histograms.at(from), histograms.at(to), chip);
    }
  for (size_t i = 0; i < layers.size(); ++i)
    if (layers[i].output_transfers > 0)
      layers[i].hops_per_transfer = hop_sum[i] / static_cast<double>(layers[i].output_transfers);
}

double element_hops(const Mapping& mapping) {
  double total = 0;
  for (const LayerMapping& layer : mapping.layers)
    total += static_cast<double>(layer.output_elements) *
             static_cast<double>(layer.output_transfers) * layer.hops_per_transfer;
  return total;
}

namespace {

// A digital layer: one ALU operation per MAC, else per output element (ASSUMPTION). A matmul
// with dmmul.mode digital lands here: int8 MACs (ANALOG_MODEL.md §3), one ALU operation each,
// like any other digital MAC.
void map_digital(const ir::Node& node, LayerMapping& layer) {
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

// One node that does work, placed where its lowering says (lowering::decide).
LayerMapping map_layer(const ir::Node& node, const lowering::Decision& decision,
                       const arch::Architecture& arch) {
  LayerMapping layer;
  layer.node = node.name;
  layer.op = node.op;
  layer.input_elements = elements_per_inference(node.input(0));
  layer.output_elements = elements_per_inference(node.output(0));
  if (node.op == "matmul" && node.input(1) && !node.input(1)->is_constant())
    layer.second_input_elements = elements_per_inference(node.input(1));
  if (decision.lowering) layer.lowering = decision.lowering->name;
  layer.readout_function = decision.readout_function;
  if (decision.placement == Placement::kCrossbar) {
    if (decision.lowering->engine == lowering::Engine::kCrossbarMatmul)
      map_crossbar_matmul(node, arch, layer);
    else
      map_crossbar(node, arch, layer);
    layer.cores = ceil_div(layer.arrays, arch.chip.arrays_per_core);
  } else if (decision.placement == Placement::kAcam) {
    map_acam(node, *decision.lowering, arch, layer);
    layer.cores = ceil_div(layer.acam_units, arch.chip.acam_units_per_core);
  } else {
    map_digital(node, layer);
  }
  if (layer.kind != LayerKind::kCrossbar) {
    if (node.op == "linear" || node.op == "matmul") layer.macs_per_inference = matmul_macs(node);
    if (node.op == "conv") layer.macs_per_inference = layer.digital_ops_per_inference;
    if ((node.op == "linear" || node.op == "conv" || node.op == "matmul") && node.input(1) &&
        node.input(1)->is_constant())
      layer.weight_elements = node.input(1)->constant.numel();
  }
  return layer;
}

// The layers of the graph in order, each with the layers it reads from (through layout ops,
// which the mapping leaves out).
std::vector<LayerMapping> map_layers(const ir::Graph& graph, const arch::Architecture& arch) {
  std::vector<LayerMapping> layers;
  std::unordered_map<const ir::Value*, std::vector<int64_t>> sources;
  auto sources_of_inputs = [&](const ir::Node& node) {
    std::vector<int64_t> found;
    for (const ir::Value* input : node.inputs) {
      auto it = input ? sources.find(input) : sources.end();
      if (it != sources.end()) found.insert(found.end(), it->second.begin(), it->second.end());
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    return found;
  };
  for (const auto& node_ptr : graph.nodes()) {
    const ir::Node& node = *node_ptr;
    const lowering::Decision decision = lowering::decide(node, arch, &graph);
    // An activation fused into its producer's readout does no work of its own.
    if (kLayoutOps.count(node.op) || (decision.lowering && decision.lowering->fused_readout)) {
      std::vector<int64_t> passed = sources_of_inputs(node);
      if (!passed.empty())
        for (const ir::Value* output : node.outputs)
          if (output) sources[output] = passed;
      continue;
    }
    LayerMapping layer = map_layer(node, decision, arch);
    layer.producers = sources_of_inputs(node);
    const int64_t index = static_cast<int64_t>(layers.size());
    for (const ir::Value* output : node.outputs)
      if (output) sources[output] = {index};
    layers.push_back(std::move(layer));
  }
  return layers;
}

// Error(kBadInput) when the layers need more cores than `chips` chips hold.
void check_fits(const ir::Graph& graph, const std::vector<LayerMapping>& layers,
                const arch::Architecture& arch, int64_t chips, int64_t base_cores,
                int64_t base_chips) {
  if (base_chips <= chips) return;
  int64_t arrays = 0, acam_units = 0;
  for (const LayerMapping& layer : layers) {
    arrays += layer.arrays;
    acam_units += layer.acam_units;
  }
  const int64_t cores = chips * arch.chip.tiles * arch.chip.cores_per_tile;
  throw_bad_input(
      "{}: the model needs {} crossbar arrays and {} ACAM units on {} cores ({} chips), but "
      "{} chip(s) of architecture \"{}\" hold {} arrays and {} ACAM units on {} cores "
      "(allow more chips with --chips {})",
      graph.name.empty() ? "model" : graph.name, arrays, acam_units, base_cores, base_chips, chips,
      arch.name, cores * arch.chip.arrays_per_core, cores * arch.chip.acam_units_per_core, cores,
      base_chips);
}

}  // namespace

Mapping map_graph(const ir::Graph& graph, const arch::Architecture& arch,
                  const MappingOptions& options) {
  if (options.chips < 1) throw_bad_input("chips: {} must be >= 1", options.chips);
  if (options.batch < 1) throw_bad_input("batch: {} must be >= 1", options.batch);
  Mapping mapping;
  mapping.chips = options.chips;
  mapping.layers = map_layers(graph, arch);
  int64_t base_cores = 0;
  for (const LayerMapping& layer : mapping.layers) base_cores += layer.cores;
  const int64_t cores_per_chip = arch.chip.tiles * arch.chip.cores_per_tile;
  const int64_t base_chips = std::max<int64_t>(1, ceil_div(base_cores, cores_per_chip));
  check_fits(graph, mapping.layers, arch, options.chips, base_cores, base_chips);
  // Replicas go into the chips the model needs anyway: the area does not grow.
  if (options.replicate)
    replicate_bottlenecks(mapping, arch, options, base_chips * cores_per_chip - base_cores);
  std::vector<int64_t> graph_order(mapping.layers.size());
  for (size_t i = 0; i < graph_order.size(); ++i) graph_order[i] = static_cast<int64_t>(i);
  place_layers(mapping, arch.chip, graph_order);
  for (const LayerMapping& layer : mapping.layers) {
    mapping.arrays_used += layer.arrays;
    mapping.acam_units_used += layer.acam_units;
    mapping.cores_used += layer.cores;
  }
  mapping.tiles_used = ceil_div(mapping.cores_used, arch.chip.cores_per_tile);
  mapping.chips_used = std::max<int64_t>(1, ceil_div(mapping.cores_used, cores_per_chip));
  AIMC_ASSERT(mapping.chips_used == base_chips, "replication spilled onto chip {}",
              mapping.chips_used);
  return mapping;
}

}  // namespace aimc::compiler
