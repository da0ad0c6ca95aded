// Names and operand lists of the instruction set (docs/isa.md §2).
#include "aimc/isa/instruction.h"

#include <array>
#include <utility>

namespace aimc::isa {

namespace {

constexpr std::array<std::pair<Opcode, const char*>, 9> kOpcodeNames = {{
    {Opcode::kMvm, "mvm"},
    {Opcode::kAcam, "acam"},
    {Opcode::kAlu, "alu"},
    {Opcode::kLoad, "load"},
    {Opcode::kStore, "store"},
    {Opcode::kSend, "send"},
    {Opcode::kRecv, "recv"},
    {Opcode::kSync, "sync"},
    {Opcode::kHalt, "halt"},
}};

constexpr std::array<std::pair<AluOp, const char*>, 11> kAluOpNames = {{
    {AluOp::kAdd, "add"},
    {AluOp::kSub, "sub"},
    {AluOp::kMul, "mul"},
    {AluOp::kDiv, "div"},
    {AluOp::kMax, "max"},
    {AluOp::kMin, "min"},
    {AluOp::kMac, "mac"},
    {AluOp::kReduceSum, "reduce_sum"},
    {AluOp::kReduceMax, "reduce_max"},
    {AluOp::kScale, "scale"},
    {AluOp::kKernel, "kernel"},
}};

}  // namespace

const char* opcode_name(Opcode opcode) {
  for (const auto& [value, name] : kOpcodeNames)
    if (value == opcode) return name;
  return "?";
}

std::optional<Opcode> parse_opcode(const std::string& name) {
  for (const auto& [value, known] : kOpcodeNames)
    if (name == known) return value;
  return std::nullopt;
}

const char* alu_op_name(AluOp op) {
  for (const auto& [value, name] : kAluOpNames)
    if (value == op) return name;
  return "?";
}

std::optional<AluOp> parse_alu_op(const std::string& name) {
  for (const auto& [value, known] : kAluOpNames)
    if (name == known) return value;
  return std::nullopt;
}

const std::vector<Operand>& operands(Opcode opcode) {
  using I = Instruction;
  static const std::vector<Operand> kMvm = {{"group", &I::group}, {"rows", &I::rows},
                                            {"cols", &I::cols},   {"steps", &I::steps},
                                            {"src", &I::src},     {"dst", &I::dst}};
  static const std::vector<Operand> kAcam = {
      {"unit", &I::unit}, {"len", &I::len}, {"src", &I::src}, {"dst", &I::dst}};
  static const std::vector<Operand> kAlu = {{"len", &I::len}, {"src", &I::src}, {"dst", &I::dst}};
  static const std::vector<Operand> kLoad = {
      {"addr", &I::addr}, {"bytes", &I::bytes}, {"dst", &I::dst}};
  static const std::vector<Operand> kStore = {
      {"src", &I::src}, {"bytes", &I::bytes}, {"addr", &I::addr}};
  static const std::vector<Operand> kSend = {
      {"peer", &I::peer}, {"bytes", &I::bytes}, {"src", &I::src}};
  static const std::vector<Operand> kRecv = {
      {"peer", &I::peer}, {"bytes", &I::bytes}, {"dst", &I::dst}};
  static const std::vector<Operand> kSync = {{"barrier", &I::barrier}};
  static const std::vector<Operand> kNone = {};
  switch (opcode) {
    case Opcode::kMvm:
      return kMvm;
    case Opcode::kAcam:
      return kAcam;
    case Opcode::kAlu:
      return kAlu;
    case Opcode::kLoad:
      return kLoad;
    case Opcode::kStore:
      return kStore;
    case Opcode::kSend:
      return kSend;
    case Opcode::kRecv:
      return kRecv;
    case Opcode::kSync:
      return kSync;
    case Opcode::kHalt:
      return kNone;
  }
  return kNone;
}

Instruction mvm(int64_t group, int64_t rows, int64_t cols, int64_t steps, int64_t src,
                int64_t dst) {
  Instruction i;
  i.opcode = Opcode::kMvm;
  i.group = group;
  i.rows = rows;
  i.cols = cols;
  i.steps = steps;
  i.src = src;
  i.dst = dst;
  return i;
}

Instruction acam(int64_t unit, int64_t len, int64_t src, int64_t dst) {
  Instruction i;
  i.opcode = Opcode::kAcam;
  i.unit = unit;
  i.len = len;
  i.src = src;
  i.dst = dst;
  return i;
}

Instruction alu(AluOp op, int64_t len, int64_t src, int64_t dst) {
  Instruction i;
  i.opcode = Opcode::kAlu;
  i.alu_op = op;
  i.len = len;
  i.src = src;
  i.dst = dst;
  return i;
}

Instruction load(int64_t addr, int64_t bytes, int64_t dst) {
  Instruction i;
  i.opcode = Opcode::kLoad;
  i.addr = addr;
  i.bytes = bytes;
  i.dst = dst;
  return i;
}

Instruction store(int64_t src, int64_t bytes, int64_t addr) {
  Instruction i;
  i.opcode = Opcode::kStore;
  i.src = src;
  i.bytes = bytes;
  i.addr = addr;
  return i;
}

Instruction send(int64_t peer, int64_t bytes, int64_t src) {
  Instruction i;
  i.opcode = Opcode::kSend;
  i.peer = peer;
  i.bytes = bytes;
  i.src = src;
  return i;
}

Instruction recv(int64_t peer, int64_t bytes, int64_t dst) {
  Instruction i;
  i.opcode = Opcode::kRecv;
  i.peer = peer;
  i.bytes = bytes;
  i.dst = dst;
  return i;
}

Instruction sync(int64_t barrier) {
  Instruction i;
  i.opcode = Opcode::kSync;
  i.barrier = barrier;
  return i;
}

Instruction halt() {
  return Instruction{};
}

}  // namespace aimc::isa
