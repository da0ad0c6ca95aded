#include "aimc/cli/placement_table.h"

#include <fmt/format.h>

#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "aimc/lowering/lowering.h"

namespace aimc::cli {

int print_placement_table(const std::string& model, const ir::Graph& graph,
                          const arch::Architecture& arch, bool json) {
  const std::vector<lowering::NodePlacement> table = lowering::place_graph(graph, arch);
  std::map<std::string, int64_t> counts = {{"crossbar", 0}, {"acam", 0}, {"digital", 0}};
  for (const lowering::NodePlacement& row : table) ++counts[arch::placement_name(row.placement)];
  if (json) {
    nlohmann::json nodes = nlohmann::json::array();
    for (const lowering::NodePlacement& row : table)
      nodes.push_back({{"node", row.node},
                       {"op", row.op},
                       {"where", arch::placement_name(row.placement)},
                       {"lowering", row.lowering},
                       {"why", row.why}});
    nlohmann::json out = {
        {"model", model}, {"arch", arch.name}, {"counts", counts}, {"nodes", nodes}};
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format(
      "placement of {} on {}: {} nodes, {} on crossbars, {} on ACAM, {} digital\n", model,
      arch.name, table.size(), counts["crossbar"], counts["acam"], counts["digital"]);
  size_t name_width = 4, op_width = 2;
  for (const lowering::NodePlacement& row : table) {
    name_width = std::max(name_width, row.node.size());
    op_width = std::max(op_width, row.op.size());
  }
  std::cout << fmt::format("  {:<{}}  {:<{}}  {:<8}  {:<20}  {}\n", "node", name_width, "op",
                           op_width, "where", "lowering", "why");
  for (const lowering::NodePlacement& row : table)
    std::cout << fmt::format("  {:<{}}  {:<{}}  {:<8}  {:<20}  {}\n", row.node, name_width, row.op,
                             op_width, arch::placement_name(row.placement),
                             row.lowering.empty() ? "-" : row.lowering, row.why);
  return 0;
}

}  // namespace aimc::cli
