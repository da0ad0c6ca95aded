// The cycle-level simulator of `aimc simulate` (docs/simulate.md): an event-driven run of a
// program set (isa/program.h) on the architecture, instruction by instruction. Each core
// issues its program in order, one instruction per clock cycle at most; the crossbar array
// groups, the ACAM units and the vector ALU of a core run what it issued while it goes on;
// the cores of a tile share the tile buffer's port; messages cross the on-chip network link
// by link (store and forward, first come first served per link); barriers wait for every
// core. Energy is counted per executed action with the cost model's per-action numbers
// (cost/nn_cost.h), so the simulated run and `aimc estimate` speak the same units.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "aimc/arch/architecture.h"
#include "aimc/isa/program.h"

namespace aimc::sim {

// One interval of one unit, for --trace (Chrome trace JSON: sim/trace.h).
struct TraceSpan {
  int64_t core = 0;       // the core, or -1 for a network link
  std::string lane;       // the unit within the core ("group 3", "alu", "acam 1", "port") or link
  const char* name = "";  // the opcode ("mvm", ...) or "message"
  const std::string* layer = nullptr;  // the instruction's layer (never null; "" for none)
  int64_t start_ps = 0;
  int64_t end_ps = 0;
};
using TraceSink = std::function<void(const TraceSpan&)>;

struct SimOptions {
  // Inferences run back to back: each core's segments (runs of one `.layer`) run once per
  // inference, overlapping across inferences; the closing barrier and halt once at the end
  // (docs/simulate.md §3). At most 2^20.
  int64_t batch = 1;
  TraceSink trace;  // called for every executed instruction and network hop, when set
};

// Time and energy of one layer (the instructions whose `.layer` names it) over the batch.
struct LayerSim {
  std::string node;
  double start_s = 0;                     // the first issue of one of its instructions
  double end_s = 0;                       // the last completion
  double latency_s = 0;                   // end_s - start_s
  int64_t instructions = 0;               // executed
  std::map<std::string, double> actions;  // component -> actions, per inference
  double energy_j = 0;                    // dynamic, per inference
};

// How busy one kind of unit was: busy unit-seconds over instances x the run's time.
struct UnitUtilisation {
  std::string unit;  // crossbar (arrays), acam, alu, buffer_port, link
  double instances = 0;
  double busy_s = 0;  // summed over instances
  double utilisation = 0;
};

struct ComponentEnergy {
  std::string component;
  double actions = 0;  // per inference
  double dynamic_j = 0;
  double leakage_j = 0;
  double energy_j = 0;
};

struct SimResult {
  int64_t batch = 1;
  int64_t cores = 0;
  int64_t chips = 1;
  int64_t cycles = 0;     // the run's time in clock cycles, rounded up
  double latency_s = 0;   // the batch from the first issue to the last halt
  double throughput = 0;  // inferences per second: batch / latency
  double energy_j = 0;    // per inference: dynamic + leakage over the run
  double dynamic_j = 0;
  double leakage_j = 0;
  int64_t instructions = 0;  // executed, all cores
  int64_t events = 0;        // simulation events processed (issues, hops, deliveries, barriers)
  int64_t messages = 0;
  std::vector<ComponentEnergy> by_component;  // component_names() order
  std::vector<LayerSim> by_layer;             // in order of their first instruction in the programs
  std::vector<UnitUtilisation> units;
  // What the run cannot honour but still simulates: a core whose addresses exceed its buffer.
  std::vector<std::string> warnings;
};

// Runs the programs. Error(kBadInput) for a program that does not fit the architecture (an
// array group, ACAM unit, row or column count outside the core, steps other than the
// architecture's, a peer or a program header that names no core of the set), naming the core
// and the instruction; for a recv whose message has another byte count; for a deadlock (the
// cores that wait, and on what) and for messages never received. Never hangs: every event
// moves simulated time forward or consumes an instruction.
SimResult simulate(const isa::ProgramSet& programs, const arch::Architecture& arch,
                   const SimOptions& options = {});

// The time one instruction keeps its unit busy, without waits (docs/simulate.md §2): mvm
// 2 x steps read steps of its cols (cost::read_step_s), acam len searches, alu len
// operations; 0 for the others.
double unit_time_s(const isa::Instruction& instruction, const arch::Architecture& arch);

}  // namespace aimc::sim
