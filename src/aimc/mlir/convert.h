// Program sets <-> aimc-dialect modules in memory (programs_mlir.h has the text form): for
// the tools and passes that work on modules.
#pragma once

#include <string>

#include "aimc/isa/program.h"
#include "aimc/mlir/programs_mlir.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace aimc::mlir {

// The module of `programs` (not yet verified): one aimc.program per core, runs of
// instructions of one IR node in an aimc.layer, `command` as the aimc.command attribute.
::mlir::OwningOpRef<::mlir::ModuleOp> build_module(::mlir::MLIRContext& context,
                                                   const isa::ProgramSet& programs,
                                                   const std::string& command);

// The program set of a verified module; Error(kBadInput) naming `source` when it holds
// other operations or its programs are not numbered 0, 1, 2, ...
ParsedPrograms programs_of(::mlir::ModuleOp module, const std::string& source);

}  // namespace aimc::mlir
