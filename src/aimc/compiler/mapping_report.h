// What `aimc compile` reports about a mapping (docs/isa.md §6): mapping.json and the text
// report with arrays used / available and the utilisation of each crossbar layer.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"
#include "aimc/isa/program.h"

namespace aimc::compiler {

// Weight cells a crossbar layer uses over the cells of the arrays provisioned for it
// (groups·K·N·slices·2·replicas / (arrays·rows·cols)); 0 for other layers.
double layer_utilisation(const LayerMapping& layer, const arch::Architecture& arch);

struct ChipCapacity {
  int64_t cores = 0, arrays = 0, acam_units = 0, tiles = 0;
};
// What mapping.chips chips of the architecture hold.
ChipCapacity capacity(const Mapping& mapping, const arch::Architecture& arch);

nlohmann::json mapping_json(const Mapping& mapping, const arch::Architecture& arch,
                            const isa::ProgramSet& programs);
std::string mapping_report(const Mapping& mapping, const arch::Architecture& arch,
                           const isa::ProgramSet& programs);

}  // namespace aimc::compiler
