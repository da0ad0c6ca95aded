#include "aimc/analog/acam_tables.h"

#include <algorithm>

#include "aimc/analog/acam.h"
#include "aimc/core/error.h"

namespace aimc::analog {

nlohmann::json acam_layer_tables(const AcamLayerPlace& layer, const lowering::Lowering& lowering,
                                 const lowering::NodeSizes& sizes, const arch::Architecture& arch) {
  nlohmann::json units = nlohmann::json::array();
  const int64_t per_core = std::max(1, arch.chip.acam_units_per_core);
  for (size_t j = 0; j < lowering.acam_functions.size(); ++j) {
    const int64_t unit = static_cast<int64_t>(j);
    const std::string& name = lowering.acam_functions[j];
    std::optional<AcamFunction> function = acam_function_from_name(name);
    AIMC_ASSERT(function, "lowering {}: no ACAM function '{}'", lowering.name, name);
    auto [lo, hi] = lowering.default_range(unit, sizes, arch.acam);
    AcamUnit acam(*function, lo, hi, arch.acam);
    nlohmann::json rows = nlohmann::json::array();
    for (const AcamRow& row : acam.table_rows()) rows.push_back({row.bit, row.lo, row.hi});
    nlohmann::json entry = {{"unit", unit},
                            {"core", layer.first_core + unit / per_core},
                            {"core_unit", unit % per_core},
                            {"function", name}};
    entry["lo"] = lo;
    entry["hi"] = hi;
    entry["in_bits"] = arch.acam.in_bits;
    entry["out_bits"] = arch.acam.out_bits;
    entry["encoding"] = arch.acam.encoding == arch::AcamEncoding::kGray ? "gray" : "binary";
    entry["rows"] = acam.rows();
    entry["table_rows"] = std::move(rows);  // [output bit, lo, hi): lo <= x < hi sets the bit
    entry["outputs"] = acam.table();        // the dequantised output of every input code
    units.push_back(std::move(entry));
  }
  return {{"node", layer.node}, {"op", layer.op}, {"units", units}};
}

}  // namespace aimc::analog
