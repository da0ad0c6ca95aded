// mapping.json and the text report of `aimc compile` (docs/isa.md §6).
#include "aimc/compiler/mapping_report.h"

#include <fmt/format.h>

#include <algorithm>

#include "aimc/compiler/codegen.h"

namespace aimc::compiler {

using isa::Opcode;
using isa::Program;

namespace {

constexpr int64_t kPolarities = 2;

int64_t used_cells(const LayerMapping& layer) {
  if (layer.kind != LayerKind::kCrossbar) return 0;
  return layer.groups * layer.k * layer.n * layer.slices * kPolarities *
         std::max<int64_t>(1, layer.replicas);
}

int64_t provisioned_cells(const LayerMapping& layer, const arch::Architecture& arch) {
  return layer.arrays * int64_t{arch.array.rows} * arch.array.cols;
}

}  // namespace

double layer_utilisation(const LayerMapping& layer, const arch::Architecture& arch) {
  const int64_t provisioned = provisioned_cells(layer, arch);
  return provisioned > 0 ? static_cast<double>(used_cells(layer)) / provisioned : 0.0;
}

ChipCapacity capacity(const Mapping& mapping, const arch::Architecture& arch) {
  ChipCapacity c;
  c.tiles = mapping.chips * arch.chip.tiles;
  c.cores = c.tiles * arch.chip.cores_per_tile;
  c.arrays = c.cores * arch.chip.arrays_per_core;
  c.acam_units = c.cores * arch.chip.acam_units_per_core;
  return c;
}

nlohmann::json mapping_json(const Mapping& mapping, const arch::Architecture& arch,
                            const isa::ProgramSet& programs) {
  nlohmann::json layers = nlohmann::json::array();
  int64_t cells = 0, provisioned = 0;
  for (const LayerMapping& layer : mapping.layers) {
    nlohmann::json entry = {{"node", layer.node},
                            {"op", layer.op},
                            {"kind", layer_kind_name(layer.kind)},
                            {"arrays", layer.arrays},
                            {"acam_units", layer.acam_units},
                            {"cores", layer.cores},
                            {"first_core", layer.first_core},
                            {"replicas", std::max<int64_t>(1, layer.replicas)},
                            {"mvm", mvm_count(layer)},
                            {"acam_searches", layer.searches_per_inference},
                            {"alu_ops", layer.digital_ops_per_inference}};
    if (layer.kind == LayerKind::kCrossbar) {
      entry["k"] = layer.k;
      entry["n"] = layer.n;
      entry["groups"] = layer.groups;
      entry["row_blocks"] = layer.row_blocks;
      entry["col_blocks"] = layer.col_blocks;
      entry["slices"] = layer.slices;
      entry["vectors"] = layer.vectors_per_inference;
      entry["utilisation"] = layer_utilisation(layer, arch);
      // readout.mode acam: what the output columns' trees compute (identity or the fused
      // activation).
      if (!layer.readout_function.empty()) entry["readout"] = layer.readout_function;
      cells += used_cells(layer);
      provisioned += provisioned_cells(layer, arch);
    } else {
      entry["utilisation"] = nullptr;
    }
    if (layer.kind == LayerKind::kAcam) entry["acam_functions"] = acam_unit_functions(layer);
    layers.push_back(std::move(entry));
  }
  const ChipCapacity available = capacity(mapping, arch);
  nlohmann::json cores = nlohmann::json::array();
  for (const Program& program : programs.programs)
    cores.push_back({{"core", program.core},
                     {"tile", program.tile},
                     {"chip", program.chip},
                     {"instructions", program.instructions.size()},
                     {"mvm", count(program, Opcode::kMvm)},
                     {"acam", count(program, Opcode::kAcam)},
                     {"alu", count(program, Opcode::kAlu)},
                     {"send", count(program, Opcode::kSend)},
                     {"recv", count(program, Opcode::kRecv)}});
  return {{"arch", arch.name},
          {"layers", layers},
          {"used",
           {{"arrays", mapping.arrays_used},
            {"acam_units", mapping.acam_units_used},
            {"cores", mapping.cores_used},
            {"tiles", mapping.tiles_used},
            {"chips", mapping.chips_used}}},
          {"available",
           {{"arrays", available.arrays},
            {"acam_units", available.acam_units},
            {"cores", available.cores},
            {"tiles", available.tiles},
            {"chips", mapping.chips}}},
          {"utilisation", provisioned > 0 ? static_cast<double>(cells) / provisioned : 0.0},
          {"mvm", count(programs, Opcode::kMvm)},
          {"cores", cores}};
}

std::string mapping_report(const Mapping& mapping, const arch::Architecture& arch,
                           const isa::ProgramSet& programs) {
  const ChipCapacity available = capacity(mapping, arch);
  auto percent = [](int64_t used, int64_t of) {
    return of > 0 ? 100.0 * static_cast<double>(used) / static_cast<double>(of) : 0.0;
  };
  std::string out = fmt::format("mapping onto {} ({} chip(s))\n", arch.name, mapping.chips);
  out += fmt::format("  {:<12} {:>8} / {:<8} ({:.1f}%)\n", "arrays", mapping.arrays_used,
                     available.arrays, percent(mapping.arrays_used, available.arrays));
  out += fmt::format("  {:<12} {:>8} / {:<8} ({:.1f}%)\n", "acam units", mapping.acam_units_used,
                     available.acam_units, percent(mapping.acam_units_used, available.acam_units));
  out += fmt::format("  {:<12} {:>8} / {:<8} ({:.1f}%)\n", "cores", mapping.cores_used,
                     available.cores, percent(mapping.cores_used, available.cores));
  out += fmt::format("  {:<12} {:>8} / {:<8} ({:.1f}%)\n", "tiles", mapping.tiles_used,
                     available.tiles, percent(mapping.tiles_used, available.tiles));
  int64_t instructions = 0;
  for (const Program& program : programs.programs) instructions += program.instructions.size();
  out +=
      fmt::format("  {} programs, {} instructions, {} mvm, {} acam, {} alu, {} send/recv pairs\n",
                  programs.programs.size(), instructions, count(programs, Opcode::kMvm),
                  count(programs, Opcode::kAcam), count(programs, Opcode::kAlu),
                  count(programs, Opcode::kSend));
  out += fmt::format("\n  {:<40} {:<10} {:<8} {:>6} {:>5} {:>6} {:>8} {:>6} {:>8}\n", "layer", "op",
                     "kind", "arrays", "acam", "cores", "replicas", "util%", "mvm");
  for (const LayerMapping& layer : mapping.layers) {
    const std::string utilisation =
        layer.kind == LayerKind::kCrossbar
            ? fmt::format("{:.1f}", 100.0 * layer_utilisation(layer, arch))
            : "-";
    out += fmt::format("  {:<40} {:<10} {:<8} {:>6} {:>5} {:>6} {:>8} {:>6} {:>8}\n", layer.node,
                       layer.op, layer_kind_name(layer.kind), layer.arrays, layer.acam_units,
                       layer.cores, std::max<int64_t>(1, layer.replicas), utilisation,
                       mvm_count(layer));
  }
  return out;
}

}  // namespace aimc::compiler
