// Dead-code elimination: nodes whose outputs reach no graph output, and values nobody reads.
#include "aimc/passes/passes.h"
#include "aimc/passes/pattern.h"

namespace aimc::passes {

int eliminate_dead_code(ir::Graph& graph) {
  graph.topo_sort();
  return detail::remove_dead_keeping_live_outputs(graph);
}

}  // namespace aimc::passes
