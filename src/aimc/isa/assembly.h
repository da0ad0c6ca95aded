// The text form of a program (docs/isa.md §4): directives `.core N`, `.tile N`, `.chip N`
// and `.layer NAME`, then one instruction per line as `opcode key=value ...`; `#` starts a
// comment. write_assembly and parse_assembly round-trip exactly.
#pragma once

#include <string>

#include "aimc/isa/program.h"

namespace aimc::isa {

// `header` (may be empty) is written as comment lines at the top.
std::string write_assembly(const Program& program, const std::string& header = "");

// One instruction's line: `opcode [op=NAME] key=value ...` (no `.layer`, no newline).
std::string write_instruction(const Instruction& instruction);

// The header `aimc compile` writes atop core_NNN.s: `command`, then
// "core N (tile T, chip C): K instructions".
std::string core_header(const std::string& command, const Program& program);

// Throws Error(kBadInput) naming `source` and the line at fault: an unknown opcode or
// directive, a missing, unknown, repeated or non-integer operand, a negative value.
Program parse_assembly(const std::string& text, const std::string& source);
Program read_assembly(const std::string& path);

}  // namespace aimc::isa
