// The aimc MLIR dialect (aimc_ops.td, docs/mlir.md): the generated op classes and the
// registration helper. Only the MLIR-side code includes this header; the CLI uses
// programs_mlir.h, which needs no MLIR headers.
#pragma once

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"

#include "aimc/mlir/aimc_dialect.h.inc"

#define GET_OP_CLASSES
#include "aimc/mlir/aimc_ops.h.inc"

namespace aimc::mlir {

// Adds the aimc dialect to `registry`.
void register_dialect(::mlir::DialectRegistry& registry);

}  // namespace aimc::mlir
