// `aimc inspect MODEL --arch A.yaml`: where every node of the model runs on the architecture
// and why (lowering::place_graph), as a table or JSON.
#pragma once

#include <string>

#include "aimc/arch/architecture.h"
#include "aimc/ir/graph.h"

namespace aimc::cli {

// Prints the placement table of `graph` on `arch` to stdout; returns the exit code.
int print_placement_table(const std::string& model, const ir::Graph& graph,
                          const arch::Architecture& arch, bool json);

}  // namespace aimc::cli
