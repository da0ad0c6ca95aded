// The analytical cost model of docs/cost-model.md: action counts per layer, then sums.
#include "aimc/cost/nn_cost.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "aimc/core/error.h"

namespace aimc::cost {

namespace {

using compiler::LayerKind;

// Signed inputs: positive magnitudes, then negative magnitudes (ANALOG_MODEL.md §1).
constexpr int64_t kInputPhases = 2;
constexpr int64_t kPolarities = 2;

double bytes_per_element(const arch::Architecture& arch) {
  return arch.input.in_bits / 8.0;
}

int64_t tiles_spanned(const compiler::LayerMapping& layer, const arch::ChipConfig& chip) {
  if (layer.cores == 0) return 0;
  return (layer.first_core + layer.cores - 1) / chip.cores_per_tile -
         layer.first_core / chip.cores_per_tile + 1;
}

// Row writes one inference waits for in a layer whose operand is written per inference:
// the arrays write in parallel, each its rows one after the other (docs/cost-model.md §3).
int64_t write_rows_in_sequence(const compiler::LayerMapping& layer,
                               const arch::Architecture& arch) {
  return std::min<int64_t>(layer.k, arch.array.rows);
}

// Action counts and latency of one layer for `batch` inferences.
LayerCost layer_cost(const compiler::LayerMapping& layer, const arch::Architecture& arch,
                     int64_t batch, int64_t alu_lanes) {
  LayerCost cost;
  cost.node = layer.node;
  cost.op = layer.op;
  cost.kind = layer.kind;
  cost.arrays = layer.arrays;
  cost.acam_units = layer.acam_units;
  cost.cores = layer.cores;
  cost.replicas = layer.replicas;
  cost.hops_per_transfer = layer.hops_per_transfer;
  for (const std::string& name : arch::component_names()) cost.actions[name] = 0;
  const double b = static_cast<double>(batch);
  double analog_s = 0;
  if (layer.kind == LayerKind::kCrossbar) {
    // Every vector of the batch is read once, by one of the replicas; the replicas read in
    // parallel, so the time is that of the replica with the most vectors.
    const double steps_per_vector = static_cast<double>(kInputPhases * arch.input_steps());
    const double steps = static_cast<double>(layer.vectors_per_inference) * b * steps_per_vector;
    const double arrays_per_replica = static_cast<double>(layer.arrays) /
                                      static_cast<double>(std::max<int64_t>(1, layer.replicas));
    cost.actions["crossbar"] = steps * arrays_per_replica;
    cost.actions["dac"] = steps * static_cast<double>(layer.groups * layer.k * layer.col_blocks *
                                                      layer.slices * kPolarities);
    const double replica_vectors = static_cast<double>(compiler::vectors_per_replica(layer, batch));
    const double replica_steps = replica_vectors * steps_per_vector;
    analog_s = replica_steps * read_step_s(arch, std::min<int64_t>(arch.array.cols, layer.n));
    if (layer.readout_function.empty()) {
      // The two polarities are subtracted in analog: one conversion per column pair.
      cost.actions["adc"] =
          steps * static_cast<double>(layer.groups * layer.row_blocks * layer.slices * layer.n);
      cost.actions["shift_add"] = cost.actions["adc"];
    } else {
      // readout.mode acam (docs/cost-model.md §1): the steps, phases, slices and polarities of
      // an output add up in analog and one search of its column's tree reads it, per row
      // block. The searches of a vector overlap the next vector's reads.
      const double vectors = static_cast<double>(layer.vectors_per_inference) * b;
      cost.actions["acam_readout"] =
          vectors * static_cast<double>(layer.groups * layer.row_blocks * layer.n);
      // Several row blocks: their identity readouts are added on the ALU.
      cost.actions["alu"] =
          vectors * static_cast<double>(layer.groups * (layer.row_blocks - 1) * layer.n);
      analog_s = std::max(analog_s, replica_vectors * arch.component("acam_readout").latency);
    }
    // An operand written per inference (dmmul.mode crossbar): every cell, for every inference
    // of the batch, before that inference's reads. Each array writes its rows one after the
    // other, all columns of a row at once, and the arrays write in parallel (ASSUMPTION), so
    // an inference waits for the tallest array: min(K, rows) row writes.
    if (layer.cells_written_per_inference > 0) {
      cost.actions["crossbar_write"] = static_cast<double>(layer.cells_written_per_inference) * b;
      analog_s += b * static_cast<double>(write_rows_in_sequence(layer, arch)) *
                  arch.component("crossbar_write").latency;
    }
  } else if (layer.kind == LayerKind::kAcam) {
    cost.actions["acam"] = static_cast<double>(layer.searches_per_inference) * b;
    analog_s = cost.actions["acam"] * arch.component("acam").latency /
               static_cast<double>(std::max<int64_t>(1, layer.acam_units));
  }
  cost.actions["alu"] += static_cast<double>(layer.digital_ops_per_inference) * b;
  // A mapped layer uses its own cores' ALUs; a digital layer every used core's (ASSUMPTION).
  const int64_t lanes = layer.cores > 0 ? layer.cores : alu_lanes;
  const double digital_s =
      cost.actions["alu"] * arch.component("alu").latency / static_cast<double>(lanes);
  // The input read and the output written, each in whole accesses of the buffer's width.
  const double input_bits = static_cast<double>(layer.input_elements) * b * arch.input.in_bits;
  const double output_bits = static_cast<double>(layer.output_elements) * b * arch.input.in_bits;
  cost.actions["buffer"] = buffer_accesses(arch, input_bits) + buffer_accesses(arch, output_bits);
  if (layer.kind == LayerKind::kCrossbar)
    cost.vector_bytes =
        static_cast<double>(layer.groups * (layer.k + layer.n)) * bytes_per_element(arch);
  // Bit-hops: the whole output to every consumer layer, over the placement's hops.
  const double transfers = static_cast<double>(layer.output_transfers);
  cost.actions["router"] = output_bits * transfers * layer.hops_per_transfer;
  // The links out of the layer's tiles carry its output in parallel, an equal share each (a
  // layer without cores: one link, ASSUMPTION).
  const double links = static_cast<double>(std::max<int64_t>(1, tiles_spanned(layer, arch.chip)));
  cost.network_s = network_time_s(arch, output_bits, transfers, layer.hops_per_transfer, links);
  // Post-processing and the transfers overlap the analog reads of the next vectors.
  cost.analog_s = analog_s;
  cost.digital_s = digital_s;
  cost.latency_s = std::max({analog_s, digital_s, cost.network_s});
  for (const auto& [name, count] : cost.actions) {
    double joules = count * energy_per_action(arch, name) / b;
    cost.energy_by_component_j[name] = joules;
    cost.energy_j += joules;
  }
  return cost;
}

}  // namespace

compiler::LayerTimeFn layer_time_fn(const arch::Architecture& arch, int64_t batch) {
  return [&arch, batch](const compiler::LayerMapping& layer) {
    return layer_cost(layer, arch, batch, 1).latency_s;
  };
}

compiler::MappingOptions mapping_options(const arch::Architecture& arch, int64_t batch,
                                         int64_t chips, bool replicate) {
  compiler::MappingOptions options;
  options.chips = chips;
  options.batch = batch;
  options.replicate = replicate;
  options.layer_time = layer_time_fn(arch, batch);
  return options;
}

double energy_per_action(const arch::Architecture& arch, const std::string& component) {
  const double energy = arch.component(component).energy;
  return component == "buffer" ? energy * arch.chip.buffer.width_bits / 8.0 : energy;
}

double buffer_accesses(const arch::Architecture& arch, double bits) {
  return std::ceil(bits / static_cast<double>(arch.chip.buffer.width_bits));
}

double network_time_s(const arch::Architecture& arch, double bits, double transfers, double hops,
                      double links) {
  if (bits <= 0 || transfers <= 0 || hops <= 0) return 0.0;
  const double cycles_per_hop =
      std::ceil(bits / (static_cast<double>(arch.chip.network.link_width) * links));
  return transfers * hops *
         (cycles_per_hop / arch.chip.clock_hz + arch.component("router").latency);
}

double read_step_s(const arch::Architecture& arch, int64_t columns) {
  if (arch.readout.mode == arch::ReadoutMode::kAcam)  // no conversion per read
    return std::max(arch.component("crossbar").latency, arch.component("dac").latency);
  const double adc_s = static_cast<double>(columns) / (kPolarities * arch.chip.adcs_per_array) *
                       arch.component("adc").latency;
  return std::max({arch.component("crossbar").latency, arch.component("dac").latency,
                   arch.component("shift_add").latency, adc_s});
}

std::map<std::string, double> component_instances(const arch::Architecture& arch) {
  const arch::ChipConfig& chip = arch.chip;
  const double cores = static_cast<double>(chip.tiles) * chip.cores_per_tile;
  const double arrays = cores * chip.arrays_per_core;
  // readout.mode acam: no ADCs; one readout unit per array column of each core, shared by the
  // core's array groups (NL-DPE: one ACAM per column across all crossbars of a core, arXiv
  // 2511.13950 §III).
  const bool readout = arch.readout.mode == arch::ReadoutMode::kAcam;
  const double adcs = readout ? 0.0 : arrays * chip.adcs_per_array;
  const double readout_units = readout ? cores * arch.array.cols : 0.0;
  return {{"crossbar", arrays},
          {"crossbar_write", arrays},  // the write drivers of each array
          {"dac", arrays * arch.array.rows},
          {"adc", adcs},
          {"shift_add", adcs},  // one per ADC (ASSUMPTION)
          {"acam_readout", readout_units},
          {"acam", cores * chip.acam_units_per_core},
          {"buffer", static_cast<double>(chip.tiles)},  // one buffer per tile
          {"alu", cores},                               // one vector ALU per core
          {"router", static_cast<double>(chip.tiles)}};
}

NnCost estimate_nn(const compiler::Mapping& mapping, const arch::Architecture& arch,
                   int64_t batch) {
  if (batch < 1) throw_bad_input("batch: {} must be >= 1", batch);
  NnCost total;
  total.batch = batch;
  total.chips = mapping.chips_used;
  const int64_t alu_lanes = std::max<int64_t>(1, mapping.cores_used);
  for (const compiler::LayerMapping& layer : mapping.layers) {
    LayerCost cost = layer_cost(layer, arch, batch, alu_lanes);
    if (cost.vector_bytes > static_cast<double>(arch.chip.buffer.bytes_per_core))
      total.warnings.push_back(
          fmt::format("{}: one vector's input + output ({} B) does not fit a core's buffer "
                      "(chip.buffer.bytes_per_core {} B); the estimate assumes it does",
                      layer.node, cost.vector_bytes, arch.chip.buffer.bytes_per_core));
    total.latency_s += cost.latency_s;
    total.interval_s = std::max(total.interval_s, cost.latency_s);
    total.dynamic_j += cost.energy_j;
    total.by_layer.push_back(std::move(cost));
  }
  const double b = static_cast<double>(batch);
  total.throughput = total.interval_s > 0 ? b / total.interval_s : 0.0;
  std::map<std::string, double> instances = component_instances(arch);
  for (const std::string& name : arch::component_names()) {
    const arch::ComponentCost& component = arch.component(name);
    ComponentTotal entry;
    entry.component = name;
    entry.instances = instances.at(name) * static_cast<double>(total.chips);
    for (const LayerCost& layer : total.by_layer) {
      entry.actions += layer.actions.at(name) / b;
      entry.dynamic_j += layer.energy_by_component_j.at(name);
    }
    // Leakage over one batch interval, shared by the batch's inferences.
    entry.leakage_j = entry.instances * component.leakage * total.interval_s / b;
    entry.energy_j = entry.dynamic_j + entry.leakage_j;
    entry.area_m2 = entry.instances * component.area;
    total.leakage_j += entry.leakage_j;
    total.area_m2 += entry.area_m2;
    total.by_component.push_back(entry);
  }
  total.energy_j = total.dynamic_j + total.leakage_j;
  total.power_w = total.interval_s > 0 ? total.energy_j * b / total.interval_s : 0.0;
  return total;
}

PeakPerformance estimate_peak(const arch::Architecture& arch) {
  PeakPerformance peak;
  std::map<std::string, double> instances = component_instances(arch);
  const double arrays = instances.at("crossbar");
  const double step_s = read_step_s(arch, arch.array.cols);
  const double steps_per_mac =
      static_cast<double>(kPolarities * arch.weight_slices() * kInputPhases * arch.input_steps());
  if (step_s > 0)
    peak.macs_per_s = arrays * arch.array.rows * arch.array.cols / (steps_per_mac * step_s);
  peak.gops = 2.0 * peak.macs_per_s / 1e9;
  double leakage_w = 0;
  for (const auto& [name, count] : instances) {
    peak.area_m2 += count * arch.component(name).area;
    leakage_w += count * arch.component(name).leakage;
  }
  // Per read step, every array: one read, `rows` DAC actions, cols/2 conversions and adds;
  // with readout.mode acam, instead of the conversions, one search per output of each array
  // group every 2 x input_steps reads.
  const double per_step_conversions =
      arch.readout.mode == arch::ReadoutMode::kAcam
          ? 0.0
          : arch.array.cols / 2.0 *
                (arch.component("adc").energy + arch.component("shift_add").energy);
  const double per_step_readouts = arch.readout.mode == arch::ReadoutMode::kAcam
                                       ? arch.array.cols / (2.0 * arch.weight_slices()) /
                                             (kInputPhases * arch.input_steps()) *
                                             arch.component("acam_readout").energy
                                       : 0.0;
  const double step_j =
      arrays * (arch.component("crossbar").energy + arch.array.rows * arch.component("dac").energy +
                per_step_conversions + per_step_readouts);
  peak.power_w = (step_s > 0 ? step_j / step_s : 0.0) + leakage_w;
  peak.gops_per_mm2 = peak.area_m2 > 0 ? peak.gops / (peak.area_m2 * 1e6) : 0.0;
  peak.gops_per_w = peak.power_w > 0 ? peak.gops / peak.power_w : 0.0;
  return peak;
}

}  // namespace aimc::cost
