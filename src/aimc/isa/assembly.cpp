// Assembly text writer and reader (docs/isa.md §4).
#include "aimc/isa/assembly.h"

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "aimc/core/error.h"

namespace aimc::isa {

namespace {

std::string trim(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const size_t last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream stream(text);
  for (std::string word; stream >> word;) words.push_back(word);
  return words;
}

int64_t parse_count(const std::string& value, const std::string& what, const std::string& where) {
  int64_t parsed = 0;
  const char* end = value.data() + value.size();
  auto [ptr, ec] = std::from_chars(value.data(), end, parsed);
  if (ec != std::errc() || ptr != end || value.empty())
    throw_bad_input("{}: {} = \"{}\" is not an integer", where, what, value);
  if (parsed < 0) throw_bad_input("{}: {} = {} must be >= 0", where, what, parsed);
  return parsed;
}

}  // namespace

std::string write_assembly(const Program& program, const std::string& header) {
  std::string out;
  std::istringstream header_lines(header);
  for (std::string line; std::getline(header_lines, line);) out += "# " + line + "\n";
  out += fmt::format(".core {}\n.tile {}\n.chip {}\n", program.core, program.tile, program.chip);
  std::string layer;
  for (const Instruction& instruction : program.instructions) {
    if (instruction.layer != layer) {
      layer = instruction.layer;
      out += layer.empty() ? std::string(".layer\n") : ".layer " + layer + "\n";  // bare: none
    }
    out += write_instruction(instruction) + "\n";
  }
  return out;
}

std::string write_instruction(const Instruction& instruction) {
  std::string out = opcode_name(instruction.opcode);
  if (instruction.opcode == Opcode::kAlu)
    out += fmt::format(" op={}", alu_op_name(instruction.alu_op));
  for (const Operand& operand : operands(instruction.opcode))
    out += fmt::format(" {}={}", operand.name, instruction.*operand.field);
  return out;
}

Program parse_assembly(const std::string& text, const std::string& source) {
  Program program;
  std::string layer;
  std::istringstream lines(text);
  int line_number = 0;
  for (std::string raw; std::getline(lines, raw);) {
    ++line_number;
    const std::string where = fmt::format("{}:{}", source, line_number);
    // `.layer` takes the rest of the line verbatim: node names may hold '#'.
    if (raw.rfind(".layer", 0) == 0 && (raw.size() == 6 || raw[6] == ' ')) {
      layer = raw.size() > 7 ? raw.substr(7) : "";
      if (!layer.empty() && layer.back() == '\r') layer.pop_back();
      continue;
    }
    const std::string line = trim(raw.substr(0, raw.find('#')));
    if (line.empty()) continue;
    std::vector<std::string> words = split_words(line);
    if (words[0][0] == '.') {
      if (words.size() != 2) throw_bad_input("{}: {} takes one integer", where, words[0]);
      if (words[0] == ".core")
        program.core = parse_count(words[1], ".core", where);
      else if (words[0] == ".tile")
        program.tile = parse_count(words[1], ".tile", where);
      else if (words[0] == ".chip")
        program.chip = parse_count(words[1], ".chip", where);
      else
        throw_bad_input("{}: unknown directive \"{}\" (expected .core, .tile, .chip or .layer)",
                        where, words[0]);
      continue;
    }
    std::optional<Opcode> opcode = parse_opcode(words[0]);
    if (!opcode)
      throw_bad_input(
          "{}: unknown opcode \"{}\" (expected mvm, acam, alu, load, store, send, recv, sync or "
          "halt)",
          where, words[0]);
    Instruction instruction;
    instruction.opcode = *opcode;
    instruction.layer = layer;
    std::map<std::string, std::string> values;
    for (size_t i = 1; i < words.size(); ++i) {
      const size_t equals = words[i].find('=');
      if (equals == std::string::npos || equals == 0)
        throw_bad_input("{}: \"{}\" is not an operand of the form key=value", where, words[i]);
      std::string key = words[i].substr(0, equals);
      if (!values.emplace(key, words[i].substr(equals + 1)).second)
        throw_bad_input("{}: operand {} given twice", where, key);
    }
    if (*opcode == Opcode::kAlu) {
      auto it = values.find("op");
      if (it == values.end()) throw_bad_input("{}: alu needs op=", where);
      std::optional<AluOp> op = parse_alu_op(it->second);
      if (!op) throw_bad_input("{}: unknown alu op \"{}\"", where, it->second);
      instruction.alu_op = *op;
      values.erase(it);
    }
    for (const Operand& operand : operands(*opcode)) {
      auto it = values.find(operand.name);
      if (it == values.end())
        throw_bad_input("{}: {} needs {}=", where, opcode_name(*opcode), operand.name);
      instruction.*operand.field = parse_count(it->second, operand.name, where);
      values.erase(it);
    }
    if (!values.empty())
      throw_bad_input("{}: {} has no operand \"{}\"", where, opcode_name(*opcode),
                      values.begin()->first);
    program.instructions.push_back(std::move(instruction));
  }
  return program;
}

Program read_assembly(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw_bad_input("{}: cannot open", path);
  std::ostringstream text;
  text << file.rdbuf();
  return parse_assembly(text.str(), path);
}

std::string core_header(const std::string& command, const Program& program) {
  return fmt::format("{}\ncore {} (tile {}, chip {}): {} instructions", command, program.core,
                     program.tile, program.chip, program.instructions.size());
}

}  // namespace aimc::isa
