// The ACAM function tables of one ACAM layer as `aimc compile` writes them (DIR/acam/*.json,
// docs/isa.md §6): each unit's function, where it sits, its input range before calibration
// (the lowering's default range) and the synthesised rows and outputs.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "aimc/arch/architecture.h"
#include "aimc/lowering/lowering.h"

namespace aimc::analog {

struct AcamLayerPlace {
  std::string node, op;
  int64_t first_core = 0;  // the layer's first core; unit j sits on first_core + j / per_core
};

nlohmann::json acam_layer_tables(const AcamLayerPlace& layer, const lowering::Lowering& lowering,
                                 const lowering::NodeSizes& sizes, const arch::Architecture& arch);

}  // namespace aimc::analog
