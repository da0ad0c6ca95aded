// Program sets (isa/program.h) as aimc-dialect MLIR text and back (docs/mlir.md). This
// header needs no MLIR headers: the CLI includes it when aimc is built with MLIR
// (AIMC_WITH_MLIR, CMake).
#pragma once

#include <string>

#include "aimc/isa/program.h"

namespace aimc::mlir {

// The module of `programs`: one aimc.program per core in core order, with `command` (the
// first header line of every core_NNN.s, may be empty) as the module's `aimc.command`
// attribute. Verified before it is printed.
std::string programs_to_mlir(const isa::ProgramSet& programs, const std::string& command);

struct ParsedPrograms {
  isa::ProgramSet programs;
  std::string command;  // the module's aimc.command, "" when absent
};

// Parses and verifies aimc-dialect text. Throws Error(kBadInput) with MLIR's diagnostics,
// each as `source:line:col: error: ...`, when the text does not parse or verify, or when
// the module holds anything but aimc.program operations numbered 0, 1, 2, ...
ParsedPrograms parse_programs_mlir(const std::string& text, const std::string& source);

}  // namespace aimc::mlir
