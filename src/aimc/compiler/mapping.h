// Maps the nodes of a canonical graph onto the chip hierarchy of the architecture
// (docs/cost-model.md §1): linear / conv weights onto crossbar arrays (row blocks x column
// blocks x weight slices x 2 polarities, as the crossbar engine does), ACAM-placed nodes onto
// ACAM function units, the rest onto the cores' digital ALUs. Each mapped layer takes whole
// cores (a layer pipeline, ISAAC/PUMA style); cores fill tiles, tiles fill chips.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/ir/graph.h"

namespace aimc::compiler {

enum class LayerKind { kCrossbar, kAcam, kDigital };

struct LayerMapping {
  std::string node;
  std::string op;
  LayerKind kind = LayerKind::kDigital;
  // Crossbar layers: y[M, groups*N] from x[M, groups*K] (conv: K = C/group * kh * kw).
  int64_t k = 0, n = 0, groups = 1;
  int64_t row_blocks = 0, col_blocks = 0, slices = 0;
  int64_t arrays = 0;  // groups * row_blocks * col_blocks * slices * 2 polarities
  // ACAM layers: function units and the searches one inference needs.
  int64_t acam_units = 0;
  int64_t acam_rows_per_unit = 0;  // upper bound 2^in_bits * out_bits / 2
  int64_t searches_per_inference = 0;
  // Per inference (a symbolic dimension counts as 1: the batch).
  int64_t vectors_per_inference = 0;  // crossbar layers: input vectors (tokens, pixels)
  int64_t input_elements = 0;
  int64_t output_elements = 0;
  int64_t digital_ops_per_inference = 0;  // element operations on the ALUs
  int64_t cores = 0;                      // cores this layer occupies (0: digital layer)
  int64_t first_core = 0;                 // global index of its first core
};

struct MappingOptions {
  int64_t chips = 1;  // chips available; the mapping fails when it needs more
};

struct Mapping {
  std::vector<LayerMapping> layers;  // graph order; nodes that do no work are left out
  int64_t arrays_used = 0;
  int64_t acam_units_used = 0;
  int64_t cores_used = 0;
  int64_t tiles_used = 0;
  int64_t chips_used = 0;  // ceil(cores_used / cores per chip), at least 1
  int64_t chips = 1;       // chips provisioned (MappingOptions::chips)
};

// Slices per weight magnitude: ceil((w_bits - 1) / cell_bits) (ANALOG_MODEL.md §1).
int64_t weight_slices(const arch::Architecture& arch);
// Input steps per phase: ceil((in_bits - 1) / dac_bits).
int64_t input_steps(const arch::Architecture& arch);
// Upper bound on the rows of one ACAM function table: 2^in_bits * out_bits / 2 (each
// output bit changes at most 2^in_bits times along the input axis, a row holds one interval
// of one bit set to 1, and at most half of the intervals are 1). Kept here so compiler/
// does not depend on analog/ (which builds the real tables).
int64_t acam_rows_upper_bound(const arch::AcamConfig& acam);

// Throws Error(kBadInput) when a crossbar-placed node's weight is not constant, when an
// ACAM-placed node finds no ACAM units on the chip, or when the model needs more cores than
// options.chips chips hold (the message gives arrays and cores needed and available).
Mapping map_graph(const ir::Graph& graph, const arch::Architecture& arch,
                  const MappingOptions& options = {});

std::string layer_kind_name(LayerKind kind);

}  // namespace aimc::compiler
