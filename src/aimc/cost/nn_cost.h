// Analytical latency, throughput, energy and area of a neural network mapped onto the chip
// (compiler/mapping.h). Each component of the library answers the same questions (energy per
// action, leakage and area per instance, latency per action); a layer is a list of action
// counts, so the totals are sums and the breakdowns fall out (Timeloop style). Every
// equation is in docs/cost-model.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/compiler/mapping.h"

namespace aimc::cost {

// One component over the whole estimate. Energies are per inference.
struct ComponentTotal {
  std::string component;
  double actions = 0;    // per inference
  double instances = 0;  // on the chips used (fractional for shared ADCs)
  double dynamic_j = 0;
  double leakage_j = 0;
  double energy_j = 0;  // dynamic + leakage
  double area_m2 = 0;   // instances x area
};

struct LayerCost {
  std::string node;
  std::string op;
  compiler::LayerKind kind = compiler::LayerKind::kDigital;
  int64_t arrays = 0;
  int64_t acam_units = 0;
  int64_t cores = 0;
  int64_t replicas = 1;
  double hops_per_transfer = 0;           // mean network hops of one transfer of the output
  std::map<std::string, double> actions;  // component -> actions for the batch
  double latency_s = 0;                   // the batch through this layer
  double network_s = 0;                   // the batch's output over the network (in latency_s)
  double analog_s = 0;   // crossbar reads (and writes) or ACAM searches of the batch
  double digital_s = 0;  // the batch's ALU operations on the layer's cores
  // Bytes of one input vector plus its output vector (crossbar layers; 0 otherwise), what
  // chip.buffer.bytes_per_core should hold.
  double vector_bytes = 0;
  double energy_j = 0;                                  // dynamic, per inference
  std::map<std::string, double> energy_by_component_j;  // dynamic, per inference
};

struct NnCost {
  int64_t batch = 1;
  double latency_s = 0;   // the batch through every layer, one after the other
  double interval_s = 0;  // steady-state time between batches: the slowest layer
  double throughput = 0;  // inferences per second: batch / interval (0 when interval is 0)
  double energy_j = 0;    // per inference: dynamic + leakage
  double dynamic_j = 0;   // per inference
  double leakage_j = 0;   // per inference
  double power_w = 0;     // energy per batch / interval
  double area_m2 = 0;     // the chips used
  int64_t chips = 1;
  std::vector<ComponentTotal> by_component;  // in component_names() order
  std::vector<LayerCost> by_layer;           // mapping order
  // What the estimate cannot honour but still counts, one line each: a layer whose vector
  // does not fit a core's buffer (chip.buffer.bytes_per_core).
  std::vector<std::string> warnings;
};

NnCost estimate_nn(const compiler::Mapping& mapping, const arch::Architecture& arch, int64_t batch);

// The cost model's time of one layer for `batch` inferences (its latency_s in estimate_nn, the
// network term left out until the layers are placed): what replication balances. Keeps a
// reference to `arch`.
compiler::LayerTimeFn layer_time_fn(const arch::Architecture& arch, int64_t batch);

// Mapping options whose replication balances the cost model's layer times for `batch`
// (what `aimc estimate` and `aimc compile` use). Keeps a reference to `arch`.
compiler::MappingOptions mapping_options(const arch::Architecture& arch, int64_t batch,
                                         int64_t chips, bool replicate = true);

// Peak of one chip: every crossbar array reading back to back.
struct PeakPerformance {
  double macs_per_s = 0;  // at the native operand width (input.in_bits x weights.w_bits)
  double gops = 0;        // 2 ops per MAC, 1e9 ops
  double area_m2 = 0;
  double power_w = 0;
  double gops_per_mm2 = 0;  // 0 when the area is 0
  double gops_per_w = 0;    // 0 when the power is 0
};

PeakPerformance estimate_peak(const arch::Architecture& arch);

// Instances of each component on one chip (component_names() keys).
std::map<std::string, double> component_instances(const arch::Architecture& arch);

// Time of one crossbar read step: the slowest of the array read, the DAC, the shift-add and
// the ADCs converting `columns` column pairs (docs/cost-model.md §3).
double read_step_s(const arch::Architecture& arch, int64_t columns);

// Energy of one action of `component`: its `energy`, except the buffer's, which is given per
// byte and charged per access of chip.buffer.width_bits bits (docs/cost-model.md §3).
double energy_per_action(const arch::Architecture& arch, const std::string& component);

// Buffer accesses that move `bits`: ceil(bits / chip.buffer.width_bits).
double buffer_accesses(const arch::Architecture& arch, double bits);

// Time of `transfers` transfers of `bits` each over `hops` hops, `links` links in parallel
// (docs/cost-model.md §3): store-and-forward, every hop moves the whole message in
// ceil(bits / (link_width x links)) clock cycles, then waits the router's latency.
double network_time_s(const arch::Architecture& arch, double bits, double transfers, double hops,
                      double links);

}  // namespace aimc::cost
