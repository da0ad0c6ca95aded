// Programs: one instruction list per core, and the set of them that runs one inference on
// the chip(s) (docs/isa.md §3).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "aimc/isa/instruction.h"

namespace aimc::isa {

struct Program {
  int64_t core = 0;  // global core index (chip-major, then tile, then core in the tile)
  int64_t tile = 0;  // global tile index: core / cores_per_tile
  int64_t chip = 0;  // core / cores per chip
  std::vector<Instruction> instructions;

  bool operator==(const Program&) const = default;
};

struct ProgramSet {
  std::vector<Program> programs;  // programs[i].core == i
};

// Instructions with this opcode over every program.
int64_t count(const Program& program, Opcode opcode);
int64_t count(const ProgramSet& set, Opcode opcode);

// Checks that the programs form a complete, runnable whole: programs[i].core == i, every
// program ends with its only halt, every peer is another core of the set, and the programs
// run to the end when each send is buffered (it never waits), each recv waits for the oldest
// unreceived message from its peer and requires its byte count to match, and each sync waits
// for every core to reach a sync with the same barrier id. Returns "" when so, else the
// first problem found (naming the core and instruction index).
std::string verify(const ProgramSet& set);

}  // namespace aimc::isa
