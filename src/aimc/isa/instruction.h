// The instruction set of an aimc core (docs/isa.md), in the spirit of PUMA's: analog
// matrix-vector multiplications on the core's crossbar array groups, searches of its ACAM
// function units, vector operations on its digital ALU, moves between the core buffer and
// the shared memory, messages between cores, barriers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aimc::isa {

enum class Opcode { kMvm, kAcam, kAlu, kLoad, kStore, kSend, kRecv, kSync, kHalt };

// What an `alu` instruction does to each of its `len` elements (docs/isa.md §2).
enum class AluOp {
  kAdd,        // dst[i] = dst[i] + src[i] (partial sums, residuals)
  kSub,        // dst[i] = dst[i] - src[i]
  kMul,        // dst[i] = dst[i] * src[i]
  kDiv,        // dst[i] = dst[i] / src[i]
  kMax,        // dst[i] = max(dst[i], src[i]) (max pooling, ReLU against 0)
  kMin,        // dst[i] = min(dst[i], src[i])
  kMac,        // one multiply-accumulate (digital matmul / conv, variance)
  kReduceSum,  // one element into a running sum
  kReduceMax,  // one element into a running max
  kScale,      // dequantise an ADC-domain output: scale and bias
  kKernel,     // one element operation of the layer's digital kernel (ops with no ALU op)
};

struct Instruction {
  Opcode opcode = Opcode::kHalt;
  AluOp alu_op = AluOp::kAdd;  // alu only
  // Operands; which ones an opcode has is fixed (operand_names()); the others stay 0.
  int64_t group = 0;    // mvm: core-local crossbar array group
  int64_t unit = 0;     // acam: core-local ACAM function unit
  int64_t rows = 0;     // mvm: rows driven (input elements of the group)
  int64_t cols = 0;     // mvm: column pairs read (outputs of the group)
  int64_t steps = 0;    // mvm: input steps per phase (input.in_bits - 1) / dac_bits, rounded up
  int64_t len = 0;      // acam: searches; alu: elements
  int64_t src = 0;      // core buffer byte address read
  int64_t dst = 0;      // core buffer byte address written
  int64_t addr = 0;     // load/store: shared memory byte address
  int64_t bytes = 0;    // load/store/send/recv: bytes moved
  int64_t peer = 0;     // send/recv: global index of the other core
  int64_t barrier = 0;  // sync: barrier id
  // The IR node this instruction implements ("" for none); `.layer` lines in the text.
  std::string layer;

  bool operator==(const Instruction&) const = default;
};

const char* opcode_name(Opcode opcode);
std::optional<Opcode> parse_opcode(const std::string& name);
const char* alu_op_name(AluOp op);
std::optional<AluOp> parse_alu_op(const std::string& name);

// The integer operands of an opcode, in the order the assembly writer prints them (alu's
// `op=` comes first and is not in this list).
struct Operand {
  const char* name;
  int64_t Instruction::*field;
};
const std::vector<Operand>& operands(Opcode opcode);

// Instruction builders (operands in operands() order).
Instruction mvm(int64_t group, int64_t rows, int64_t cols, int64_t steps, int64_t src, int64_t dst);
Instruction acam(int64_t unit, int64_t len, int64_t src, int64_t dst);
Instruction alu(AluOp op, int64_t len, int64_t src, int64_t dst);
Instruction load(int64_t addr, int64_t bytes, int64_t dst);
Instruction store(int64_t src, int64_t bytes, int64_t addr);
Instruction send(int64_t peer, int64_t bytes, int64_t src);
Instruction recv(int64_t peer, int64_t bytes, int64_t dst);
Instruction sync(int64_t barrier);
Instruction halt();

}  // namespace aimc::isa
