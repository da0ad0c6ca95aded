// The aimc dialect's registration and verifiers (aimc_ops.td, docs/mlir.md).
#include "aimc/mlir/dialect.h"

#include <string>

#include "aimc/isa/instruction.h"
#include "mlir/IR/Builders.h"

#include "aimc/mlir/aimc_dialect.cpp.inc"

#define GET_OP_CLASSES
#include "aimc/mlir/aimc_ops.cpp.inc"

namespace aimc::mlir {

void AimcDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "aimc/mlir/aimc_ops.cpp.inc"
      >();
}

void register_dialect(::mlir::DialectRegistry& registry) {
  registry.insert<AimcDialect>();
}

namespace {

// Only aimc operations may appear in a program or a layer.
::mlir::LogicalResult check_aimc_only(::mlir::Operation* parent, ::mlir::Block& body) {
  for (::mlir::Operation& op : body)
    if (!::mlir::isa<AimcDialect>(op.getDialect()))
      return parent->emitOpError("holds '") << op.getName() << "', not an aimc instruction";
  return ::mlir::success();
}

// A message's peer must be another core than the program's own.
::mlir::LogicalResult check_peer(::mlir::Operation* op, uint64_t peer) {
  auto program = op->getParentOfType<ProgramOp>();
  if (program && peer == program.getCore())
    return op->emitOpError("peer ") << peer << " is the program's own core";
  return ::mlir::success();
}

}  // namespace

::mlir::LogicalResult ProgramOp::verify() {
  return check_aimc_only(*this, getBody().front());
}

::mlir::LogicalResult LayerOp::verify() {
  if (getNode().empty())
    return emitOpError("needs a node name (instructions of no node sit in the program itself)");
  ::mlir::Block& body = getBody().front();
  if (body.empty()) return emitOpError("'") << getNode() << "' holds no instruction";
  for (::mlir::Operation& op : body)
    if (::mlir::isa<LayerOp>(op)) return emitOpError("layers do not nest");
  return check_aimc_only(*this, body);
}

::mlir::LogicalResult AluOp::verify() {
  if (!isa::parse_alu_op(getOp().str()))
    return emitOpError("unknown ALU operation '")
           << getOp()
           << "' (add, sub, mul, div, max, min, mac, reduce_sum, reduce_max, scale, kernel)";
  return ::mlir::success();
}

::mlir::LogicalResult SendOp::verify() {
  return check_peer(*this, getPeer());
}

::mlir::LogicalResult RecvOp::verify() {
  return check_peer(*this, getPeer());
}

}  // namespace aimc::mlir
