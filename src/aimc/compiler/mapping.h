// Maps the nodes of a canonical graph onto the chip hierarchy of the architecture
// (docs/cost-model.md §1): linear / conv weights onto crossbar arrays (row blocks x column
// blocks x weight slices x 2 polarities, as the crossbar engine does), ACAM-placed nodes onto
// ACAM function units, the rest onto the cores' digital ALUs. Each mapped layer takes whole
// cores (a layer pipeline, ISAAC/PUMA style); cores fill tiles, tiles fill chips. Spare cores
// of the chips used hold copies of the slowest crossbar layers (replication), and layers are
// placed in graph order along a snake path through the tile mesh (or around the tile ring), so
// that a producer and its consumer sit on the same or neighbouring tiles (docs/cost-model.md §1).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/ir/graph.h"
#include "aimc/lowering/lowering.h"

namespace aimc::compiler {

enum class LayerKind { kCrossbar, kAcam, kDigital };

struct LayerMapping {
  std::string node;
  std::string op;
  LayerKind kind = LayerKind::kDigital;
  std::string lowering;  // the registry's lowering (lowering/lowering.h); "" for fp32 digital
  // Crossbar layers: y[M, groups*N] from x[M, groups*K] (conv: K = C/group * kh * kw).
  int64_t k = 0, n = 0, groups = 1;
  int64_t row_blocks = 0, col_blocks = 0, slices = 0;
  // readout.mode acam: the function the output columns' readout trees compute (identity, or
  // the activation fused into this layer, which then is no layer of its own); "" with ADCs.
  std::string readout_function;
  int64_t arrays = 0;  // all replicas: replicas * groups * row_blocks * col_blocks * slices * 2
  // Copies of the layer's weights (crossbar layers; 1 otherwise). Each copy processes
  // ceil(vectors_per_inference * batch / replicas) of the input vectors.
  int64_t replicas = 1;
  // Crossbar layers of a data-dependent product (matmul with dmmul.mode crossbar: the
  // second operand, K or V, is the "weight", `groups` [K, N] matrices of it per inference):
  // the cells and the row writes (all arrays) that store it, for every inference. 0 for a
  // resident weight. Such a layer is never replicated: its operand changes per inference.
  int64_t cells_written_per_inference = 0;
  int64_t rows_written_per_inference = 0;
  // ACAM layers: function units and the searches one inference needs.
  int64_t acam_units = 0;
  int64_t acam_rows_per_unit = 0;  // upper bound 2^in_bits * out_bits / 2
  int64_t searches_per_inference = 0;
  // ACAM layers: each unit's function table, and the searches and ALU operations of one
  // inference in order (the lowering's schedule; code generation emits them as they are).
  std::vector<std::string> acam_functions;
  std::vector<lowering::AcamStep> acam_steps;
  // Per inference (a symbolic dimension counts as 1: the batch).
  int64_t vectors_per_inference = 0;  // crossbar layers: input vectors (tokens, pixels)
  int64_t input_elements = 0;
  int64_t output_elements = 0;
  int64_t digital_ops_per_inference = 0;  // element operations on the ALUs
  // Work of the op itself, wherever it runs (the GPU baseline): multiply-accumulates of
  // linear / conv / matmul (0 for other ops), constant weight elements, and the elements of
  // the second activation operand (matmul's B; 0 when there is none).
  int64_t macs_per_inference = 0;
  int64_t weight_elements = 0;
  int64_t second_input_elements = 0;
  int64_t cores = 0;       // cores this layer occupies, all replicas (0: digital)
  int64_t first_core = 0;  // global index of its first core
  // Layers (indices into Mapping::layers) whose outputs this layer reads, through layout ops.
  std::vector<int64_t> producers;
  // On-chip transfers of this layer's output: one per consumer layer, each of the whole
  // output, over hops_per_transfer network hops on average (docs/cost-model.md §1, placement).
  int64_t output_transfers = 0;
  double hops_per_transfer = 0;
};

// The time of one layer in the pipeline for the batch (the cost model's layer latency,
// cost::layer_time_fn). Replication calls it with the layer's current `replicas`.
using LayerTimeFn = std::function<double(const LayerMapping&)>;

struct MappingOptions {
  MappingOptions() = default;
  // Implicit, so that map_graph(graph, arch, {chips}) reads as before.
  MappingOptions(int64_t chips_available) : chips(chips_available) {}  // NOLINT

  int64_t chips = 1;  // chips available; the mapping fails when it needs more
  // Copies of the slowest crossbar layers in the spare cores of the chips the model needs
  // (never of a layer whose arrays are written per inference).
  bool replicate = true;
  // At most this many replicas added in all (-1: until the bottleneck cannot be sped up or
  // the spare cores run out). Lets tests walk the greedy sequence one replica at a time.
  int64_t max_added_replicas = -1;
  int64_t batch = 1;  // vectors per replica are ceil(vectors_per_inference * batch / replicas)
  // The layer time replication balances; when empty, the crossbar read steps of one replica:
  // ceil(vectors_per_inference * batch / replicas).
  LayerTimeFn layer_time;
};

struct Mapping {
  std::vector<LayerMapping> layers;  // graph order; nodes that do no work are left out
  int64_t arrays_used = 0;
  int64_t acam_units_used = 0;
  int64_t cores_used = 0;
  int64_t tiles_used = 0;
  int64_t chips_used = 0;      // ceil(cores_used / cores per chip), at least 1
  int64_t chips = 1;           // chips provisioned (MappingOptions::chips)
  int64_t replicas_added = 0;  // Σ (replicas - 1) over the layers
};

// Position of a tile in the on-chip mesh (docs/cost-model.md §1): the chip's tiles form a
// grid of ceil(sqrt(tiles)) columns, numbered along a snake path (left to right on even
// rows, right to left on odd rows) so that tiles i and i+1 are always neighbours; chip c's
// grid sits to the right of chip c-1's. `tile` is the global tile index.
struct MeshPosition {
  int64_t x = 0, y = 0;
};
MeshPosition tile_position(int64_t tile, const arch::ChipConfig& chip);
int64_t mesh_hops(MeshPosition a, MeshPosition b);  // Manhattan distance
// Hops between global tiles `a` and `b` on chip.network.topology (docs/cost-model.md §1):
// mesh: mesh_hops of their tile_positions; ring: min(|a - b|, tiles - |a - b|) between the
// local indices, plus one hop per chip boundary crossed (chips side by side, ASSUMPTION).
int64_t tile_hops(int64_t a, int64_t b, const arch::ChipConfig& chip);

// Assigns `first_core` to the layers that take cores, in `order` (indices into
// mapping.layers; every layer exactly once), each on the cores right after the previous
// one, then computes every layer's output_transfers and hops_per_transfer. map_graph calls
// it with graph order; tests call it with other orders to compare placements.
void place_layers(Mapping& mapping, const arch::ChipConfig& chip,
                  const std::vector<int64_t>& order);

// Σ over layers of output elements x output_transfers x hops_per_transfer: the element-hops
// of one inference on the network.
double element_hops(const Mapping& mapping);

// Vectors one replica of a crossbar layer reads for `batch` inferences.
int64_t vectors_per_replica(const LayerMapping& layer, int64_t batch);

// Elements of a value per inference (lowering/lowering.h).
using lowering::elements_per_inference;
// Upper bound on the rows of one ACAM function table: 2^in_bits * out_bits / 2 (each
// output bit changes at most 2^in_bits times along the input axis, a row holds one interval
// of one bit set to 1, and at most half of the intervals are 1). Kept here so compiler/
// does not depend on analog/ (which builds the real tables).
int64_t acam_rows_upper_bound(const arch::AcamConfig& acam);

// A matmul placed on `acam` with dmmul.mode crossbar becomes a crossbar layer whose weight is
// its second operand (docs/cost-model.md §1).
// Throws Error(kBadInput) when a crossbar-placed node's weight is not constant, when an
// ACAM-placed node finds no ACAM units on the chip, or when the model needs more cores than
// options.chips chips hold (the message gives arrays and cores needed and available).
Mapping map_graph(const ir::Graph& graph, const arch::Architecture& arch,
                  const MappingOptions& options = {});

std::string layer_kind_name(LayerKind kind);

}  // namespace aimc::compiler
