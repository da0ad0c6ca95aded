// Program counts and the verifier: an abstract run of the programs in which only messages and
// barriers matter (docs/isa.md §3).
#include "aimc/isa/program.h"

#include <fmt/format.h>

#include <deque>
#include <map>

namespace aimc::isa {

int64_t count(const Program& program, Opcode opcode) {
  int64_t n = 0;
  for (const Instruction& instruction : program.instructions) n += instruction.opcode == opcode;
  return n;
}

int64_t count(const ProgramSet& set, Opcode opcode) {
  int64_t n = 0;
  for (const Program& program : set.programs) n += count(program, opcode);
  return n;
}

namespace {

std::string check_shape(const ProgramSet& set) {
  const int64_t cores = static_cast<int64_t>(set.programs.size());
  for (int64_t i = 0; i < cores; ++i) {
    const Program& program = set.programs[i];
    if (program.core != i) return fmt::format("program {} is for core {}", i, program.core);
    if (program.instructions.empty() || program.instructions.back().opcode != Opcode::kHalt)
      return fmt::format("core {}: the program does not end with halt", i);
    for (size_t k = 0; k < program.instructions.size(); ++k) {
      const Instruction& instruction = program.instructions[k];
      if (instruction.opcode == Opcode::kHalt && k + 1 != program.instructions.size())
        return fmt::format("core {}: instruction {}: halt before the end", i, k);
      const bool message =
          instruction.opcode == Opcode::kSend || instruction.opcode == Opcode::kRecv;
      if (message && (instruction.peer < 0 || instruction.peer >= cores || instruction.peer == i))
        return fmt::format("core {}: instruction {}: {} peer={} is not another core", i, k,
                           opcode_name(instruction.opcode), instruction.peer);
    }
  }
  return "";
}

}  // namespace

std::string verify(const ProgramSet& set) {
  if (std::string problem = check_shape(set); !problem.empty()) return problem;
  const size_t cores = set.programs.size();
  std::vector<size_t> pc(cores, 0);
  std::map<std::pair<int64_t, int64_t>, std::deque<int64_t>> in_flight;  // (from, to) -> bytes
  size_t halted = 0;
  while (halted < cores) {
    bool progressed = false;
    // Everyone runs until it halts, waits on a recv or reaches a sync.
    for (size_t core = 0; core < cores; ++core) {
      const std::vector<Instruction>& code = set.programs[core].instructions;
      while (pc[core] < code.size()) {
        const Instruction& instruction = code[pc[core]];
        if (instruction.opcode == Opcode::kSync || instruction.opcode == Opcode::kHalt) break;
        if (instruction.opcode == Opcode::kSend) {
          in_flight[{static_cast<int64_t>(core), instruction.peer}].push_back(instruction.bytes);
        } else if (instruction.opcode == Opcode::kRecv) {
          auto& queue = in_flight[{instruction.peer, static_cast<int64_t>(core)}];
          if (queue.empty()) break;
          if (queue.front() != instruction.bytes)
            return fmt::format(
                "core {}: instruction {}: recv peer={} bytes={} but the message sent is {} bytes",
                core, pc[core], instruction.peer, instruction.bytes, queue.front());
          queue.pop_front();
        }
        ++pc[core];
        progressed = true;
      }
    }
    // A barrier opens when every core waits at a sync of the same id (or has halted).
    bool all_at_sync = true, all_at_halt = true;
    int64_t barrier = -1;
    for (size_t core = 0; core < cores; ++core) {
      const Instruction& instruction = set.programs[core].instructions[pc[core]];
      all_at_halt = all_at_halt && instruction.opcode == Opcode::kHalt;
      if (instruction.opcode != Opcode::kSync) {
        all_at_sync = false;
        continue;
      }
      if (barrier >= 0 && instruction.barrier != barrier)
        return fmt::format(
            "core {}: instruction {}: sync barrier={} while another core waits at {}", core,
            pc[core], instruction.barrier, barrier);
      barrier = instruction.barrier;
    }
    if (all_at_sync) {
      for (size_t core = 0; core < cores; ++core) ++pc[core];
      continue;
    }
    if (all_at_halt) {
      for (const auto& [channel, queue] : in_flight)
        if (!queue.empty())
          return fmt::format("core {} sent {} message(s) to core {} that are never received",
                             channel.first, queue.size(), channel.second);
      halted = cores;
      break;
    }
    if (!progressed) {
      for (size_t core = 0; core < cores; ++core) {
        const Instruction& instruction = set.programs[core].instructions[pc[core]];
        if (instruction.opcode == Opcode::kRecv)
          return fmt::format("core {}: instruction {}: recv peer={} waits forever (deadlock)", core,
                             pc[core], instruction.peer);
      }
      return "the programs stop at a sync that some core never reaches";
    }
  }
  return "";
}

}  // namespace aimc::isa
