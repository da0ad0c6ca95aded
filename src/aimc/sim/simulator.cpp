// The event-driven simulator of docs/simulate.md. Time is kept in integer picoseconds, so
// that event order (and every result) is exact and the same on every machine; events at the
// same time run in the order they were scheduled.
#include "aimc/sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <tuple>
#include <unordered_map>

#include "aimc/compiler/codegen.h"
#include "aimc/compiler/mapping.h"
#include "aimc/core/error.h"
#include "aimc/core/int_math.h"
#include "aimc/cost/nn_cost.h"
#include "aimc/isa/assembly.h"

namespace aimc::sim {

namespace {

using isa::Instruction;
using isa::Opcode;

constexpr int64_t kPhases = 2;      // positive, then negative input magnitudes
constexpr int64_t kPolarities = 2;  // arrays per weight slice
constexpr int64_t kPartialSumBytes = 4;
// Operands beyond this are not addresses or sizes of any buffer (and would overflow the
// byte and bit arithmetic): bad input.
constexpr int64_t kOperandLimit = int64_t{1} << 48;
// Inferences of one run (a barrier's key holds the inference below this).
constexpr int64_t kMaxBatch = int64_t{1} << 20;

int64_t to_ps(double seconds) {
  return static_cast<int64_t>(std::llround(seconds * 1e12));
}
double to_s(int64_t ps) {
  return static_cast<double>(ps) * 1e-12;
}

struct Range {
  int64_t lo = 0, hi = 0;  // bytes [lo, hi) of the core buffer
  int64_t end_ps = 0;      // when its writer completes
  bool overlaps(int64_t a, int64_t b) const { return lo < b && a < hi; }
};

// One instruction, decoded for the run.
struct Op {
  Opcode opcode = Opcode::kHalt;
  int32_t layer = 0;                   // index into the layers
  int64_t unit = 0;                    // mvm: group; acam: unit; send / recv: peer
  int64_t unit_ps = 0;                 // time on its unit
  int64_t accesses = 0;                // buffer port accesses (reads + writes)
  int64_t read_lo = 0, read_hi = 0;    // what it reads in the core buffer
  int64_t write_lo = 0, write_hi = 0;  // what it writes
  int64_t bytes = 0;                   // send / recv
  int64_t barrier = 0;                 // sync
  // send / recv: its place among the program's messages to / from the peer; sync: among the
  // program's syncs. With the inference, it pairs a recv with its send and a sync with the
  // other cores' (the order of the programs' text, whatever order the segments run in).
  int64_t tag = 0;
  int64_t executed = 0;
};

// A core's program runs as segments (docs/simulate.md §3): each run of instructions with
// the same `.layer` is one, and runs its instructions once per inference; inference b of a
// segment starts when inference b of the segment before it on the core is done (program
// order within an inference), so different inferences' segments overlap on one core (a
// layer pipeline). The closing barrier and halt form a last segment that runs once, after
// every inference.
enum class ThreadState { kReady, kWaitRecv, kWaitSync, kWaitPredecessor, kDone };

struct Thread {
  int64_t core = 0;
  size_t begin = 0, end = 0;  // ops[begin, end) of its core
  int64_t iterations = 1;
  size_t pc = 0;
  int64_t iteration = 0;
  bool gate_passed = false;  // this iteration's predecessor is done
  ThreadState state = ThreadState::kReady;
  int64_t floor_ps = 0;  // nothing of this iteration issues earlier
  int64_t fence_ps = 0;  // every instruction it issued is done
  Range last_other;      // its last instruction other than mvm (at most one still runs)
  bool has_predecessor = false;
  int64_t successor = -1;
  bool successor_is_tail = false;  // told only when its last iteration is done
  std::deque<int64_t> ready_ps;    // when the predecessor finished the iterations to come
};

struct Core {
  std::vector<Op> ops;
  int64_t tile = 0;
  int64_t next_issue_ps = 0;  // the issue slot: one instruction per cycle
  std::vector<int64_t> group_free_ps;
  std::vector<Range> group_write;  // each group's last mvm's partial sums
  std::vector<int64_t> acam_free_ps;
  int64_t alu_free_ps = 0;
  bool halted = false;
  int64_t done_ps = 0;
  int64_t buffer_bytes = 0;  // the highest buffer address touched, + 1
};

struct Message {
  int64_t from = 0, to = 0, bytes = 0, tag = 0, iteration = 0;
  int32_t layer = 0;
  int64_t x = 0, y = 0;    // mesh: position; ring: x = chip, y = local tile index
  int64_t dx = 0, dy = 0;  // destination
};

struct MessageKey {
  int64_t from = 0, to = 0, tag = 0, iteration = 0;
  bool operator==(const MessageKey&) const = default;
};
struct MessageKeyHash {
  size_t operator()(const MessageKey& k) const {
    uint64_t h = static_cast<uint64_t>(k.from) * 0x9E3779B97F4A7C15ull;
    h ^= static_cast<uint64_t>(k.to) + 0x7F4A7C159E3779B9ull + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.tag) + 0x94D049BB133111EBull + (h << 6) + (h >> 2);
    h ^= static_cast<uint64_t>(k.iteration) + 0xBF58476D1CE4E5B9ull + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

struct Arrival {
  int64_t time_ps = 0;
  int64_t bytes = 0;
};

struct Barrier {
  int64_t id = 0;
  std::vector<int64_t> waiting;  // threads
};

// An event: a thread's issue (who = 2 x thread) or a message at a router (2 x message + 1),
// keyed (time << 64 | who). A thread and a message each have at most one event pending, so
// keys are unique and order the events the same way on every run.
using EventKey = unsigned __int128;

EventKey event_key(int64_t time_ps, uint64_t who) {
  return (static_cast<EventKey>(static_cast<uint64_t>(time_ps)) << 64) | who;
}

// A 4-ary min-heap of event keys: half the depth of a binary heap, and a node's children share
// a cache line.
class EventQueue {
 public:
  bool empty() const { return keys_.empty(); }
  EventKey top() const { return keys_.front(); }
  void push(EventKey key) {
    size_t i = keys_.size();
    keys_.push_back(key);
    while (i > 0) {
      const size_t parent = (i - 1) / 4;
      if (keys_[parent] <= key) break;
      keys_[i] = keys_[parent];
      i = parent;
    }
    keys_[i] = key;
  }
  void pop() {
    const EventKey last = keys_.back();
    keys_.pop_back();
    const size_t n = keys_.size();
    if (n == 0) return;
    size_t i = 0;
    while (true) {
      const size_t first = 4 * i + 1;
      if (first >= n) break;
      size_t best = first;
      const size_t end = std::min(first + 4, n);
      for (size_t c = first + 1; c < end; ++c)
        if (keys_[c] < keys_[best]) best = c;
      if (last <= keys_[best]) break;
      keys_[i] = keys_[best];
      i = best;
    }
    keys_[i] = last;
  }

 private:
  std::vector<EventKey> keys_;
};

// Components by their index in arch::component_names().
struct ComponentIds {
  size_t crossbar, dac, adc, shift_add, acam, acam_readout, buffer, alu, router;
};

size_t component_index(const std::string& name) {
  const std::vector<std::string>& names = arch::component_names();
  auto it = std::find(names.begin(), names.end(), name);
  AIMC_ASSERT(it != names.end(), "no component '{}'", name);
  return static_cast<size_t>(it - names.begin());
}

class Simulator {
 public:
  Simulator(const isa::ProgramSet& programs, const arch::Architecture& arch,
            const SimOptions& options)
      : programs_(programs), arch_(arch), options_(options) {
    ids_ = {component_index("crossbar"),  component_index("dac"),  component_index("adc"),
            component_index("shift_add"), component_index("acam"), component_index("acam_readout"),
            component_index("buffer"),    component_index("alu"),  component_index("router")};
    if (options.batch < 1 || options.batch > kMaxBatch)
      throw_bad_input("batch: {} must be in 1..{}", options.batch, kMaxBatch);
    const arch::ChipConfig& chip = arch.chip;
    cycle_ps_ = std::max<int64_t>(1, to_ps(1.0 / chip.clock_hz));
    port_ps_ = std::max(cycle_ps_, to_ps(arch.component("buffer").latency));
    router_ps_ = to_ps(arch.component("router").latency);
    element_bytes_ = compiler::activation_bytes(arch);
    arrays_per_group_ = arch.weight_slices() * kPolarities;
    groups_per_core_ = ceil_div(chip.arrays_per_core, arrays_per_group_);
    const int64_t cores = static_cast<int64_t>(programs.programs.size());
    if (cores == 0) throw_bad_input("the program set has no programs");
    cores_per_chip_ = chip.tiles * chip.cores_per_tile;
    chips_ = ceil_div(cores, cores_per_chip_);
    columns_ = 1;
    while (columns_ * columns_ < chip.tiles) ++columns_;
    rows_ = ceil_div(chip.tiles, columns_);
    if (chip.network.topology == arch::NetworkTopology::kMesh) {
      width_ = chips_ * columns_;
      links_ = 2 * ((width_ - 1) * rows_ + width_ * (rows_ - 1));
      link_free_ps_.assign(width_ * rows_ * 4, 0);
    } else {
      ring_links_ = chips_ * chip.tiles * 2;
      links_ = (chip.tiles > 1 ? ring_links_ : 0) + 2 * (chips_ - 1);
      link_free_ps_.assign(ring_links_ + 2 * chips_, 0);
    }
    port_free_ps_.assign(chips_ * chip.tiles, 0);
    cores_.resize(cores);
    for (int64_t c = 0; c < cores; ++c) decode(c);
    actions_by_layer_.assign(layers_.size(), std::vector<double>(arch::component_names().size()));
    layer_start_ps_.assign(layers_.size(), std::numeric_limits<int64_t>::max());
    layer_end_ps_.assign(layers_.size(), 0);
  }

  SimResult run() {
    // A core's first segment starts at 0; each other one when its predecessor hands it on.
    for (size_t t = 0; t < threads_.size(); ++t)
      if (threads_[t].has_predecessor)
        threads_[t].state = ThreadState::kWaitPredecessor;
      else
        schedule(0, false, static_cast<int64_t>(t));
    while (!queue_.empty()) {
      const EventKey key = queue_.top();
      queue_.pop();
      const int64_t time_ps = static_cast<int64_t>(static_cast<uint64_t>(key >> 64));
      const uint64_t who = static_cast<uint64_t>(key);
      const int64_t id = static_cast<int64_t>(who >> 1);
      if (who & 1)
        hop(id, time_ps);
      else
        issue(id, time_ps);
    }
    check_finished();
    return result();
  }

 private:
  // ---- set-up -------------------------------------------------------------------------

  int32_t layer_index(const std::string& name) {
    // Instructions of one layer come in runs: most lookups are the previous one.
    if (!layers_.empty() && name == layers_[last_layer_]) return last_layer_;
    auto [it, added] = layer_of_name_.try_emplace(name, static_cast<int32_t>(layers_.size()));
    if (added) {
      layers_.push_back(name);
      layer_instructions_.push_back(0);
    }
    last_layer_ = it->second;
    return it->second;
  }

  [[noreturn]] void bad(int64_t core, size_t k, const Instruction& instruction,
                        const std::string& why) const {
    throw_bad_input("core {}: instruction {} ({}): {}", core, k,
                    isa::write_instruction(instruction), why);
  }

  void decode(int64_t c) {
    const isa::Program& program = programs_.programs[c];
    const arch::ChipConfig& chip = arch_.chip;
    const int64_t cores = static_cast<int64_t>(cores_.size());
    if (program.core != c)
      throw_bad_input("program {} is for core {} (programs must be for cores 0, 1, ... in order)",
                      c, program.core);
    const int64_t tile = c / chip.cores_per_tile, chip_index = c / cores_per_chip_;
    if (program.tile != tile || program.chip != chip_index)
      throw_bad_input(
          "core {}: the program says tile {} chip {}, but on {} core {} sits on tile {} of chip {} "
          "(chip.tiles {}, chip.cores_per_tile {})",
          c, program.tile, program.chip, arch_.name, c, tile, chip_index, chip.tiles,
          chip.cores_per_tile);
    const std::vector<Instruction>& code = program.instructions;
    if (code.empty() || code.back().opcode != Opcode::kHalt)
      throw_bad_input("core {}: the program does not end with halt", c);
    Core& core = cores_[c];
    core.tile = tile;
    std::unordered_map<int64_t, int64_t> sends_to, recvs_from;
    int64_t syncs = 0;
    core.group_free_ps.assign(groups_per_core_, 0);
    core.group_write.assign(groups_per_core_, Range{});
    core.acam_free_ps.assign(chip.acam_units_per_core, 0);
    core.ops.reserve(code.size());
    const int64_t width = chip.buffer.width_bits;
    auto accesses = [&](int64_t read_bytes, int64_t write_bytes) {
      return ceil_div(read_bytes * 8, width) + ceil_div(write_bytes * 8, width);
    };
    for (size_t k = 0; k < code.size(); ++k) {
      const Instruction& in = code[k];
      for (const isa::Operand& operand : isa::operands(in.opcode))
        if (in.*operand.field >= kOperandLimit)
          bad(c, k, in,
              fmt::format("{}={} is out of range (at most 2^48)", operand.name, in.*operand.field));
      if (in.opcode == Opcode::kHalt && k + 1 != code.size()) bad(c, k, in, "halt before the end");
      Op op;
      op.opcode = in.opcode;
      op.layer = layer_index(in.layer);
      op.unit_ps = to_ps(unit_time_s(in, arch_));
      switch (in.opcode) {
        case Opcode::kMvm:
          if (in.group >= groups_per_core_)
            bad(c, k, in,
                fmt::format("group={} but a core of {} holds {} array groups ({} arrays of "
                            "chip.arrays_per_core per group of {} weight slices x 2)",
                            in.group, arch_.name, groups_per_core_, arrays_per_group_,
                            arch_.weight_slices()));
          if (in.rows < 1 || in.rows > arch_.array.rows)
            bad(c, k, in,
                fmt::format("rows={} outside 1..{} (array.rows)", in.rows, arch_.array.rows));
          if (in.cols < 1 || in.cols > arch_.array.cols)
            bad(c, k, in,
                fmt::format("cols={} outside 1..{} (array.cols)", in.cols, arch_.array.cols));
          if (in.steps != arch_.input_steps())
            bad(c, k, in,
                fmt::format("steps={} but {} drives {} input steps (input.in_bits {}, "
                            "input.dac_bits {})",
                            in.steps, arch_.name, arch_.input_steps(), arch_.input.in_bits,
                            arch_.input.dac_bits));
          op.unit = in.group;
          op.read_lo = in.src;
          op.read_hi = in.src + in.rows * element_bytes_;
          op.write_lo = in.dst;
          op.write_hi = in.dst + in.cols * kPartialSumBytes;
          op.accesses = accesses(in.rows * element_bytes_, in.cols * kPartialSumBytes);
          break;
        case Opcode::kAcam:
          if (in.unit >= chip.acam_units_per_core)
            bad(c, k, in,
                fmt::format("unit={} but a core of {} has {} ACAM units "
                            "(chip.acam_units_per_core)",
                            in.unit, arch_.name, chip.acam_units_per_core));
          op.unit = in.unit;
          op.read_lo = in.src;
          op.read_hi = in.src + in.len * element_bytes_;
          op.write_lo = in.dst;
          op.write_hi = in.dst + in.len * element_bytes_;
          op.accesses = accesses(in.len * element_bytes_, in.len * element_bytes_);
          break;
        case Opcode::kAlu: {
          // One element read and one written per operation; scale reads int32 partial sums
          // (ASSUMPTION, docs/simulate.md §2).
          const int64_t in_bytes =
              in.alu_op == isa::AluOp::kScale ? kPartialSumBytes : element_bytes_;
          op.read_lo = in.src;
          op.read_hi = in.src + in.len * in_bytes;
          op.write_lo = in.dst;
          op.write_hi = in.dst + in.len * std::max(element_bytes_, kPartialSumBytes);
          op.accesses = accesses(in.len * in_bytes, in.len * element_bytes_);
          break;
        }
        case Opcode::kLoad:
          op.write_lo = in.dst;
          op.write_hi = in.dst + in.bytes;
          op.accesses = accesses(0, in.bytes);
          break;
        case Opcode::kStore:
          op.read_lo = in.src;
          op.read_hi = in.src + in.bytes;
          op.accesses = accesses(in.bytes, 0);
          break;
        case Opcode::kSend:
        case Opcode::kRecv:
          if (in.peer >= cores || in.peer == c)
            bad(c, k, in,
                fmt::format("peer={} is not another core of the {} programs", in.peer, cores));
          op.unit = in.peer;
          op.bytes = in.bytes;
          op.tag = in.opcode == Opcode::kSend ? sends_to[in.peer]++ : recvs_from[in.peer]++;
          if (in.opcode == Opcode::kSend) {
            op.read_lo = in.src;
            op.read_hi = in.src + in.bytes;
            op.accesses = accesses(in.bytes, 0);
          } else {
            op.write_lo = in.dst;
            op.write_hi = in.dst + in.bytes;
            op.accesses = accesses(0, in.bytes);
          }
          break;
        case Opcode::kSync:
          op.barrier = in.barrier;
          op.tag = syncs++;
          break;
        case Opcode::kHalt:
          break;
      }
      core.buffer_bytes = std::max({core.buffer_bytes, op.read_hi, op.write_hi});
      core.ops.push_back(op);
    }
    // Segments: runs of one layer, then the closing barrier (if any) and halt.
    const size_t n = core.ops.size();
    const size_t body_end = n >= 2 && core.ops[n - 2].opcode == Opcode::kSync ? n - 2 : n - 1;
    int64_t previous = -1;
    for (size_t k = 0; k < n;) {
      size_t next = k + 1;
      if (k < body_end)
        while (next < body_end && code[next].layer == code[k].layer) ++next;
      else
        next = n;
      Thread thread;
      thread.core = c;
      thread.begin = thread.pc = k;
      thread.end = next;
      thread.iterations = k < body_end ? options_.batch : 1;
      thread.has_predecessor = previous >= 0;
      const int64_t index = static_cast<int64_t>(threads_.size());
      if (previous >= 0) {
        threads_[previous].successor = index;
        threads_[previous].successor_is_tail = k >= body_end;
      }
      threads_.push_back(thread);
      previous = index;
      k = next;
    }
  }

  // ---- the run ------------------------------------------------------------------------

  static uint64_t who(bool hop, int64_t id) {
    return static_cast<uint64_t>(id) * 2 + (hop ? 1 : 0);
  }
  void schedule(int64_t time_ps, bool hop, int64_t id) {
    queue_.push(event_key(time_ps, who(hop, id)));
  }
  // Whether an event other than (time_ps, who) comes first.
  bool earlier_event(int64_t time_ps, bool hop, int64_t id) const {
    return !queue_.empty() && queue_.top() < event_key(time_ps, who(hop, id));
  }

  // Issues thread th's instructions from time `now` on, as long as nothing else is scheduled
  // earlier; stops when it waits for its predecessor, a message or a barrier, or is done.
  void issue(int64_t th, int64_t now) {
    Thread& thread = threads_[th];
    if (thread.state != ThreadState::kReady) return;
    Core& core = cores_[thread.core];
    while (true) {
      if (!thread.gate_passed) {
        if (thread.has_predecessor) {
          if (thread.ready_ps.empty()) {
            thread.state = ThreadState::kWaitPredecessor;
            return;
          }
          thread.floor_ps = std::max(thread.floor_ps, thread.ready_ps.front());
          thread.ready_ps.pop_front();
        }
        thread.gate_passed = true;
      }
      Op& op = core.ops[thread.pc];
      int64_t t = std::max({now, core.next_issue_ps, thread.floor_ps});
      const Arrival* arrival = nullptr;
      MessageKey key;
      if (op.opcode == Opcode::kMvm) {
        // The group must be free and the input written; other units may still run.
        t = std::max(t, core.group_free_ps[op.unit]);
        if (thread.last_other.overlaps(op.read_lo, op.read_hi))
          t = std::max(t, thread.last_other.end_ps);
        for (const Range& written : core.group_write)
          if (written.overlaps(op.read_lo, op.read_hi)) t = std::max(t, written.end_ps);
      } else {
        // In order: everything the segment issued before it has completed.
        t = std::max(t, thread.fence_ps);
        if (op.opcode == Opcode::kAcam) t = std::max(t, core.acam_free_ps[op.unit]);
        if (op.opcode == Opcode::kAlu) t = std::max(t, core.alu_free_ps);
        if (op.opcode == Opcode::kRecv) {
          key = {op.unit, thread.core, op.tag, thread.iteration};
          auto found = arrived_.find(key);
          if (found == arrived_.end()) {
            thread.state = ThreadState::kWaitRecv;
            waiting_recv_[key] = th;
            return;
          }
          arrival = &found->second;
          t = std::max(t, arrival->time_ps);
        }
      }
      // Go on at t unless an event comes first (the queue runs them in (time, who) order).
      if (earlier_event(t, false, th)) {
        schedule(t, false, th);
        return;
      }
      now = t;
      execute(th, op, now, arrival, key);
      if (thread.state != ThreadState::kReady) return;
    }
  }

  void execute(int64_t th, Op& op, int64_t now, const Arrival* arrival, const MessageKey& key) {
    Thread& thread = threads_[th];
    const int64_t c = thread.core;
    Core& core = cores_[c];
    ++events_;
    ++instructions_;
    ++op.executed;
    ++layer_instructions_[op.layer];
    int64_t port_end = now;
    if (op.accesses > 0) {
      int64_t& port = port_free_ps_[core.tile];
      const int64_t start = std::max(now, port);
      port = start + op.accesses * port_ps_;
      port_end = port;
      port_busy_ps_ += op.accesses * port_ps_;
    }
    const int64_t end = std::max(now + op.unit_ps, port_end);
    switch (op.opcode) {
      case Opcode::kMvm:
        core.group_free_ps[op.unit] = end;
        core.group_write[op.unit] = {op.write_lo, op.write_hi, end};
        crossbar_busy_ps_ += op.unit_ps * arrays_per_group_;
        break;
      case Opcode::kAcam:
        core.acam_free_ps[op.unit] = end;
        acam_busy_ps_ += op.unit_ps;
        break;
      case Opcode::kAlu:
        core.alu_free_ps = end;
        alu_busy_ps_ += op.unit_ps;
        break;
      case Opcode::kRecv:
        if (arrival->bytes != op.bytes)
          bad(c, thread.pc, programs_.programs[c].instructions[thread.pc],
              fmt::format("the message from core {} is {} bytes", op.unit, arrival->bytes));
        arrived_.erase(key);
        break;
      case Opcode::kSend:
        send(thread, op, port_end);
        break;
      default:
        break;
    }
    if (op.opcode != Opcode::kMvm) thread.last_other = {op.write_lo, op.write_hi, end};
    thread.fence_ps = std::max(thread.fence_ps, end);
    core.next_issue_ps = now + cycle_ps_;
    layer_start_ps_[op.layer] = std::min(layer_start_ps_[op.layer], now);
    layer_end_ps_[op.layer] = std::max(layer_end_ps_[op.layer], end);
    if (options_.trace) trace_instruction(c, op, now, end);
    if (op.opcode == Opcode::kSync) {
      thread.state = ThreadState::kWaitSync;
      arrive(th, op, now);  // moves the thread on when the barrier opens
      return;
    }
    if (op.opcode == Opcode::kHalt) {
      thread.state = ThreadState::kDone;
      core.halted = true;
      core.done_ps = thread.fence_ps;
      ++halted_;
      return;
    }
    advance(th, now);
  }

  // Moves past the instruction just issued; at the end of the segment, hands the iteration
  // to its successor and starts the next one.
  void advance(int64_t th, int64_t now) {
    Thread& thread = threads_[th];
    if (++thread.pc < thread.end) return;
    const bool last = thread.iteration + 1 == thread.iterations;
    if (thread.successor >= 0 && (!thread.successor_is_tail || last)) {
      Thread& next = threads_[thread.successor];
      next.ready_ps.push_back(thread.fence_ps);
      if (next.state == ThreadState::kWaitPredecessor) {
        next.state = ThreadState::kReady;
        schedule(now, false, thread.successor);
      }
    }
    if (last) {
      if (thread.state == ThreadState::kReady) thread.state = ThreadState::kDone;
      return;
    }
    ++thread.iteration;
    thread.pc = thread.begin;
    thread.gate_passed = false;
  }

  void trace_instruction(int64_t c, const Op& op, int64_t start, int64_t end) {
    std::string lane;
    switch (op.opcode) {
      case Opcode::kMvm:
        lane = fmt::format("group {}", op.unit);
        break;
      case Opcode::kAcam:
        lane = fmt::format("acam {}", op.unit);
        break;
      case Opcode::kAlu:
        lane = "alu";
        break;
      case Opcode::kSync:
      case Opcode::kHalt:
        lane = "control";
        break;
      default:
        lane = "io";
        break;
    }
    options_.trace({c, lane, isa::opcode_name(op.opcode), &layers_[op.layer], start, end});
  }

  // ---- messages -----------------------------------------------------------------------

  void position(int64_t tile, int64_t& x, int64_t& y) const {
    if (arch_.chip.network.topology == arch::NetworkTopology::kMesh) {
      const compiler::MeshPosition p = compiler::tile_position(tile, arch_.chip);
      x = p.x;
      y = p.y;
    } else {
      x = tile / arch_.chip.tiles;
      y = tile % arch_.chip.tiles;
    }
  }

  void send(const Thread& thread, const Op& op, int64_t inject_ps) {
    Message message;
    message.from = thread.core;
    message.to = op.unit;
    message.bytes = op.bytes;
    message.tag = op.tag;
    message.iteration = thread.iteration;
    message.layer = op.layer;
    position(cores_[thread.core].tile, message.x, message.y);
    position(cores_[op.unit].tile, message.dx, message.dy);
    messages_.push_back(message);
    schedule(inject_ps, true, static_cast<int64_t>(messages_.size() - 1));
  }

  // The next link of a message's route, moving it one router on. Mesh: X first, then Y.
  // Ring: around its chip's ring the shorter way (ties clockwise), then across the chips.
  int64_t next_link(Message& m) const {
    if (arch_.chip.network.topology == arch::NetworkTopology::kMesh) {
      int64_t dir = 0;
      const int64_t x = m.x, y = m.y;
      if (m.x != m.dx) {
        dir = m.dx > m.x ? 0 : 1;
        m.x += m.dx > m.x ? 1 : -1;
      } else {
        dir = m.dy > m.y ? 2 : 3;
        m.y += m.dy > m.y ? 1 : -1;
      }
      return (y * width_ + x) * 4 + dir;
    }
    const int64_t tiles = arch_.chip.tiles;
    if (m.y != m.dy) {
      const int64_t forward = ((m.dy - m.y) % tiles + tiles) % tiles;
      const bool clockwise = forward <= tiles - forward;
      const int64_t link = (m.x * tiles + m.y) * 2 + (clockwise ? 0 : 1);
      m.y = ((m.y + (clockwise ? 1 : -1)) % tiles + tiles) % tiles;
      return link;
    }
    const bool right = m.dx > m.x;
    const int64_t link = ring_links_ + m.x * 2 + (right ? 0 : 1);
    m.x += right ? 1 : -1;
    return link;
  }

  // The message reaches a router at `now`: it takes the next link of its route (in order of
  // arrival at the link), or is delivered. Later hops run at once while no other event comes
  // before them.
  void hop(int64_t id, int64_t now) {
    while (true) {
      ++events_;
      Message& m = messages_[id];
      if (m.x == m.dx && m.y == m.dy) {
        deliver(m, now);
        return;
      }
      const int64_t x = m.x, y = m.y;
      const int64_t link = next_link(m);
      const int64_t bits = m.bytes * 8;
      const int64_t serial_ps = ceil_div(bits, arch_.chip.network.link_width) * cycle_ps_;
      int64_t& free = link_free_ps_[link];
      const int64_t start = std::max(now, free);
      free = start + serial_ps;
      link_busy_ps_ += serial_ps;
      actions_by_layer_[m.layer][ids_.router] += static_cast<double>(bits);
      if (options_.trace)
        options_.trace({-1, fmt::format("link ({},{}) -> ({},{})", x, y, m.x, m.y), "message",
                        &layers_[m.layer], start, start + serial_ps});
      const int64_t next = start + serial_ps + router_ps_;
      if (earlier_event(next, true, id)) {
        schedule(next, true, id);
        return;
      }
      now = next;
    }
  }

  void deliver(const Message& m, int64_t now) {
    const MessageKey key{m.from, m.to, m.tag, m.iteration};
    auto waiting = waiting_recv_.find(key);
    if (waiting == waiting_recv_.end()) {
      arrived_[key] = {now, m.bytes};
      return;
    }
    // Its recv waits: hand the message over directly.
    const int64_t th = waiting->second;
    waiting_recv_.erase(waiting);
    arrived_[key] = {now, m.bytes};
    threads_[th].state = ThreadState::kReady;
    issue(th, now);
  }

  // ---- barriers -----------------------------------------------------------------------

  // The k-th sync of every program, for one inference, is one barrier: it opens a cycle
  // after the last core reaches it.
  void arrive(int64_t th, const Op& op, int64_t now) {
    const int64_t c = threads_[th].core;
    const int64_t key = op.tag * kMaxBatch + threads_[th].iteration;
    auto [it, added] = barriers_.try_emplace(key);
    Barrier& barrier = it->second;
    if (added) barrier.id = op.barrier;
    if (op.barrier != barrier.id)
      throw_bad_input("core {}: sync barrier={} while core {} waits at barrier {}", c, op.barrier,
                      threads_[barrier.waiting.front()].core, barrier.id);
    barrier.waiting.push_back(th);
    if (static_cast<int64_t>(barrier.waiting.size()) < static_cast<int64_t>(cores_.size())) return;
    ++events_;
    const int64_t release = now + cycle_ps_;
    const std::vector<int64_t> waiting = std::move(barrier.waiting);
    barriers_.erase(it);
    for (int64_t w : waiting) {
      Thread& thread = threads_[w];
      thread.state = ThreadState::kReady;
      thread.fence_ps = std::max(thread.fence_ps, release);
      thread.floor_ps = std::max(thread.floor_ps, release);
      advance(w, release);
      schedule(release, false, w);
    }
  }

  // ---- the end ------------------------------------------------------------------------

  void check_finished() {
    if (halted_ == static_cast<int64_t>(cores_.size())) {
      if (!arrived_.empty()) {
        MessageKey first = arrived_.begin()->first;
        for (const auto& [key, arrival] : arrived_)
          if (std::tie(key.from, key.to, key.iteration, key.tag) <
              std::tie(first.from, first.to, first.iteration, first.tag))
            first = key;
        throw_bad_input("core {} sent {} message(s) that are never received, the first to core {}",
                        first.from, arrived_.size(), first.to);
      }
      return;
    }
    std::vector<std::string> waits;
    for (const Thread& thread : threads_) {
      if (thread.state != ThreadState::kWaitRecv && thread.state != ThreadState::kWaitSync)
        continue;
      const Instruction& in = programs_.programs[thread.core].instructions[thread.pc];
      std::string where = fmt::format("core {}: instruction {} ({})", thread.core, thread.pc,
                                      isa::write_instruction(in));
      if (options_.batch > 1) where += fmt::format(" of inference {}", thread.iteration);
      if (thread.state == ThreadState::kWaitRecv)
        waits.push_back(where +
                        fmt::format(" waits for a message from core {} that never comes", in.peer));
      else
        waits.push_back(where + " waits at a barrier that another core never reaches");
      if (waits.size() == 8) break;
    }
    AIMC_ASSERT(!waits.empty(), "the run stopped with {} of {} cores halted and none waiting",
                halted_, cores_.size());
    throw_bad_input("deadlock after {} simulated cycles: {}", ceil_div(now_max(), cycle_ps_),
                    fmt::join(waits, "; "));
  }

  int64_t now_max() const {
    int64_t latest = 0;
    for (const Thread& thread : threads_) latest = std::max(latest, thread.fence_ps);
    return latest;
  }

  SimResult result() {
    SimResult r;
    const double batch = static_cast<double>(options_.batch);
    const std::vector<std::string>& names = arch::component_names();
    r.batch = options_.batch;
    r.cores = static_cast<int64_t>(cores_.size());
    r.chips = chips_;
    int64_t end_ps = 0;
    for (const Core& core : cores_) end_ps = std::max(end_ps, core.done_ps);
    r.cycles = ceil_div(end_ps, cycle_ps_);
    r.latency_s = to_s(end_ps);
    r.throughput = end_ps > 0 ? batch / r.latency_s : 0.0;
    r.instructions = instructions_;
    r.events = events_;
    r.messages = static_cast<int64_t>(messages_.size());
    // Actions of every executed instruction, per layer.
    for (size_t c = 0; c < cores_.size(); ++c) {
      const std::vector<Instruction>& code = programs_.programs[c].instructions;
      for (size_t k = 0; k < code.size(); ++k) {
        const Op& op = cores_[c].ops[k];
        if (op.executed == 0) continue;
        std::vector<double>& actions = actions_by_layer_[op.layer];
        const double n = static_cast<double>(op.executed);
        const Instruction& in = code[k];
        if (in.opcode == Opcode::kMvm) {
          const double reads = static_cast<double>(kPhases * in.steps);
          actions[ids_.crossbar] += n * reads * static_cast<double>(arrays_per_group_);
          actions[ids_.dac] += n * reads * static_cast<double>(in.rows * arrays_per_group_);
          if (arch_.readout.mode == arch::ReadoutMode::kAcam) {
            // One readout search per column pair: the reads add up in analog.
            actions[ids_.acam_readout] += n * static_cast<double>(in.cols);
          } else {
            const double conversions =
                n * reads * arch_.weight_slices() * static_cast<double>(in.cols);
            actions[ids_.adc] += conversions;
            actions[ids_.shift_add] += conversions;
          }
        } else if (in.opcode == Opcode::kAcam) {
          actions[ids_.acam] += n * static_cast<double>(in.len);
        } else if (in.opcode == Opcode::kAlu) {
          actions[ids_.alu] += n * static_cast<double>(in.len);
        }
        actions[ids_.buffer] += n * static_cast<double>(op.accesses);
      }
    }
    std::vector<double> instances(names.size());
    const std::map<std::string, double> per_chip = cost::component_instances(arch_);
    for (size_t i = 0; i < names.size(); ++i)
      instances[i] = per_chip.at(names[i]) * static_cast<double>(chips_);
    r.by_component.resize(names.size());
    for (size_t i = 0; i < names.size(); ++i) r.by_component[i].component = names[i];
    for (size_t l = 0; l < layers_.size(); ++l) {
      if (layer_instructions_[l] == 0) continue;
      LayerSim layer;
      layer.node = layers_[l];
      layer.start_s = to_s(layer_start_ps_[l]);
      layer.end_s = to_s(layer_end_ps_[l]);
      layer.latency_s = layer.end_s - layer.start_s;
      layer.instructions = layer_instructions_[l];
      for (size_t i = 0; i < names.size(); ++i) {
        const double actions = actions_by_layer_[l][i] / batch;
        const double joules = actions * cost::energy_per_action(arch_, names[i]);
        layer.actions[names[i]] = actions;
        layer.energy_j += joules;
        r.by_component[i].actions += actions;
        r.by_component[i].dynamic_j += joules;
      }
      r.dynamic_j += layer.energy_j;
      // The closing barrier and halt belong to no layer: counted, not listed.
      if (!layer.node.empty()) r.by_layer.push_back(std::move(layer));
    }
    for (size_t i = 0; i < names.size(); ++i) {
      ComponentEnergy& entry = r.by_component[i];
      entry.leakage_j = instances[i] * arch_.component(names[i]).leakage * r.latency_s / batch;
      entry.energy_j = entry.dynamic_j + entry.leakage_j;
      r.leakage_j += entry.leakage_j;
    }
    r.energy_j = r.dynamic_j + r.leakage_j;
    auto unit = [&](const std::string& name, double count, int64_t busy_ps) {
      UnitUtilisation u;
      u.unit = name;
      u.instances = count;
      u.busy_s = to_s(busy_ps);
      u.utilisation = count > 0 && end_ps > 0 ? u.busy_s / (count * r.latency_s) : 0.0;
      r.units.push_back(u);
    };
    unit("crossbar", instances[ids_.crossbar], crossbar_busy_ps_);
    unit("acam", instances[ids_.acam], acam_busy_ps_);
    unit("alu", instances[ids_.alu], alu_busy_ps_);
    unit("buffer_port", static_cast<double>(chips_ * arch_.chip.tiles), port_busy_ps_);
    unit("link", static_cast<double>(links_), link_busy_ps_);
    int64_t over = 0, worst = 0, worst_core = 0;
    for (size_t c = 0; c < cores_.size(); ++c)
      if (cores_[c].buffer_bytes > arch_.chip.buffer.bytes_per_core) {
        ++over;
        if (cores_[c].buffer_bytes > worst) {
          worst = cores_[c].buffer_bytes;
          worst_core = static_cast<int64_t>(c);
        }
      }
    if (over > 0)
      r.warnings.push_back(fmt::format(
          "{} of {} cores address more than chip.buffer.bytes_per_core ({} B), up to {} B on "
          "core {}: the simulator does not bound the buffer (the code generator does not reuse "
          "buffer space yet: docs/isa.md §5)",
          over, cores_.size(), arch_.chip.buffer.bytes_per_core, worst, worst_core));
    return r;
  }

  const isa::ProgramSet& programs_;
  const arch::Architecture& arch_;
  const SimOptions& options_;
  ComponentIds ids_{};
  int64_t cycle_ps_ = 1000, port_ps_ = 1000, router_ps_ = 0;
  int64_t element_bytes_ = 1, arrays_per_group_ = 1, groups_per_core_ = 1;
  int64_t cores_per_chip_ = 1, chips_ = 1, columns_ = 1, rows_ = 1, width_ = 1;
  int64_t links_ = 0, ring_links_ = 0;
  std::vector<Core> cores_;
  std::vector<Thread> threads_;
  std::vector<int64_t> port_free_ps_, link_free_ps_;
  std::vector<Message> messages_;
  std::unordered_map<MessageKey, Arrival, MessageKeyHash> arrived_;
  std::unordered_map<MessageKey, int64_t, MessageKeyHash> waiting_recv_;
  std::unordered_map<int64_t, Barrier> barriers_;
  int64_t halted_ = 0;
  EventQueue queue_;
  int64_t events_ = 0, instructions_ = 0;
  int64_t crossbar_busy_ps_ = 0, acam_busy_ps_ = 0, alu_busy_ps_ = 0, port_busy_ps_ = 0,
          link_busy_ps_ = 0;
  std::vector<std::string> layers_;
  std::unordered_map<std::string, int32_t> layer_of_name_;
  int32_t last_layer_ = 0;
  std::vector<int64_t> layer_start_ps_, layer_end_ps_, layer_instructions_;
  std::vector<std::vector<double>> actions_by_layer_;
};

}  // namespace

double unit_time_s(const isa::Instruction& instruction, const arch::Architecture& arch) {
  switch (instruction.opcode) {
    case Opcode::kMvm:
      return static_cast<double>(kPhases * instruction.steps) *
             cost::read_step_s(arch, instruction.cols);
    case Opcode::kAcam:
      return static_cast<double>(instruction.len) * arch.component("acam").latency;
    case Opcode::kAlu:
      return static_cast<double>(instruction.len) * arch.component("alu").latency;
    default:
      return 0.0;
  }
}

SimResult simulate(const isa::ProgramSet& programs, const arch::Architecture& arch,
                   const SimOptions& options) {
  return Simulator(programs, arch, options).run();
}

}  // namespace aimc::sim
