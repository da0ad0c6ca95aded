// Program sets <-> aimc-dialect modules (programs_mlir.h, docs/mlir.md).
#include "aimc/mlir/programs_mlir.h"

#include <string>

#include "aimc/core/error.h"
#include "aimc/mlir/convert.h"
#include "aimc/mlir/dialect.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"

namespace aimc::mlir {

namespace {

constexpr const char* kCommandAttr = "aimc.command";

::mlir::IntegerAttr i64(::mlir::OpBuilder& b, int64_t v) {
  return b.getI64IntegerAttr(v);
}

void build_instruction(::mlir::OpBuilder& b, ::mlir::Location loc, const isa::Instruction& in) {
  switch (in.opcode) {
    case isa::Opcode::kMvm:
      b.create<MvmOp>(loc, i64(b, in.group), i64(b, in.rows), i64(b, in.cols), i64(b, in.steps),
                      i64(b, in.src), i64(b, in.dst));
      return;
    case isa::Opcode::kAcam:
      b.create<AcamOp>(loc, i64(b, in.unit), i64(b, in.len), i64(b, in.src), i64(b, in.dst));
      return;
    case isa::Opcode::kAlu:
      b.create<AluOp>(loc, b.getStringAttr(isa::alu_op_name(in.alu_op)), i64(b, in.len),
                      i64(b, in.src), i64(b, in.dst));
      return;
    case isa::Opcode::kLoad:
      b.create<LoadOp>(loc, i64(b, in.addr), i64(b, in.bytes), i64(b, in.dst));
      return;
    case isa::Opcode::kStore:
      b.create<StoreOp>(loc, i64(b, in.src), i64(b, in.bytes), i64(b, in.addr));
      return;
    case isa::Opcode::kSend:
      b.create<SendOp>(loc, i64(b, in.peer), i64(b, in.bytes), i64(b, in.src));
      return;
    case isa::Opcode::kRecv:
      b.create<RecvOp>(loc, i64(b, in.peer), i64(b, in.bytes), i64(b, in.dst));
      return;
    case isa::Opcode::kSync:
      b.create<SyncOp>(loc, i64(b, in.barrier));
      return;
    case isa::Opcode::kHalt:
      b.create<HaltOp>(loc);
      return;
  }
}

int64_t value(uint64_t v) {
  return static_cast<int64_t>(v);
}

isa::Instruction instruction_of(::mlir::Operation& op, const std::string& layer) {
  isa::Instruction in;
  if (auto mvm = ::mlir::dyn_cast<MvmOp>(op)) {
    in = isa::mvm(value(mvm.getGroup()), value(mvm.getRows()), value(mvm.getCols()),
                  value(mvm.getSteps()), value(mvm.getSrc()), value(mvm.getDst()));
  } else if (auto acam = ::mlir::dyn_cast<AcamOp>(op)) {
    in = isa::acam(value(acam.getUnit()), value(acam.getLen()), value(acam.getSrc()),
                   value(acam.getDst()));
  } else if (auto alu = ::mlir::dyn_cast<AluOp>(op)) {
    in = isa::alu(*isa::parse_alu_op(alu.getOp().str()), value(alu.getLen()), value(alu.getSrc()),
                  value(alu.getDst()));
  } else if (auto load = ::mlir::dyn_cast<LoadOp>(op)) {
    in = isa::load(value(load.getAddr()), value(load.getBytes()), value(load.getDst()));
  } else if (auto store = ::mlir::dyn_cast<StoreOp>(op)) {
    in = isa::store(value(store.getSrc()), value(store.getBytes()), value(store.getAddr()));
  } else if (auto send = ::mlir::dyn_cast<SendOp>(op)) {
    in = isa::send(value(send.getPeer()), value(send.getBytes()), value(send.getSrc()));
  } else if (auto recv = ::mlir::dyn_cast<RecvOp>(op)) {
    in = isa::recv(value(recv.getPeer()), value(recv.getBytes()), value(recv.getDst()));
  } else if (auto sync = ::mlir::dyn_cast<SyncOp>(op)) {
    in = isa::sync(value(sync.getBarrier()));
  } else {
    AIMC_ASSERT(::mlir::isa<HaltOp>(op), "verified programs hold instructions only");
    in = isa::halt();
  }
  in.layer = layer;
  return in;
}

}  // namespace

::mlir::OwningOpRef<::mlir::ModuleOp> build_module(::mlir::MLIRContext& context,
                                                   const isa::ProgramSet& programs,
                                                   const std::string& command) {
  context.getOrLoadDialect<AimcDialect>();
  ::mlir::OpBuilder b(&context);
  const ::mlir::Location loc = b.getUnknownLoc();
  ::mlir::OwningOpRef<::mlir::ModuleOp> module = ::mlir::ModuleOp::create(loc);
  if (!command.empty()) (*module)->setAttr(kCommandAttr, b.getStringAttr(command));
  b.setInsertionPointToEnd(module->getBody());
  for (const isa::Program& p : programs.programs) {
    auto program = b.create<ProgramOp>(loc, i64(b, p.core), i64(b, p.tile), i64(b, p.chip));
    ::mlir::Block* body = new ::mlir::Block();
    program.getBody().push_back(body);
    ::mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(body);
    // Runs of instructions of one node go into one aimc.layer (the .layer directive).
    for (size_t i = 0; i < p.instructions.size();) {
      const std::string& layer = p.instructions[i].layer;
      size_t end = i;
      while (end < p.instructions.size() && p.instructions[end].layer == layer &&
             p.instructions[end].opcode != isa::Opcode::kHalt)
        ++end;
      if (end == i) {  // halt: always the program's own terminator
        build_instruction(b, loc, p.instructions[i++]);
        continue;
      }
      if (layer.empty()) {
        for (; i < end; ++i) build_instruction(b, loc, p.instructions[i]);
        continue;
      }
      auto layer_op = b.create<LayerOp>(loc, b.getStringAttr(layer));
      ::mlir::Block* layer_body = new ::mlir::Block();
      layer_op.getBody().push_back(layer_body);
      ::mlir::OpBuilder::InsertionGuard layer_guard(b);
      b.setInsertionPointToEnd(layer_body);
      for (; i < end; ++i) build_instruction(b, loc, p.instructions[i]);
    }
  }
  return module;
}

ParsedPrograms programs_of(::mlir::ModuleOp module, const std::string& source) {
  ParsedPrograms parsed;
  if (auto command = module->getAttrOfType<::mlir::StringAttr>(kCommandAttr))
    parsed.command = command.str();
  for (::mlir::Operation& op : *module.getBody()) {
    auto program = ::mlir::dyn_cast<ProgramOp>(op);
    if (!program)
      throw_bad_input("{}: the module holds '{}'; a program set holds aimc.program only", source,
                      op.getName().getStringRef().str());
    isa::Program p;
    p.core = value(program.getCore());
    p.tile = value(program.getTile());
    p.chip = value(program.getChip());
    if (p.core != static_cast<int64_t>(parsed.programs.programs.size()))
      throw_bad_input("{}: program of core {} where core {} was expected (cores in order from 0)",
                      source, p.core, parsed.programs.programs.size());
    for (::mlir::Operation& item : program.getBody().front()) {
      if (auto layer = ::mlir::dyn_cast<LayerOp>(item)) {
        for (::mlir::Operation& inner : layer.getBody().front())
          p.instructions.push_back(instruction_of(inner, layer.getNode().str()));
        continue;
      }
      p.instructions.push_back(instruction_of(item, ""));
    }
    parsed.programs.programs.push_back(std::move(p));
  }
  return parsed;
}

std::string programs_to_mlir(const isa::ProgramSet& programs, const std::string& command) {
  ::mlir::MLIRContext context;
  ::mlir::OwningOpRef<::mlir::ModuleOp> module = build_module(context, programs, command);
  AIMC_ASSERT(::mlir::succeeded(::mlir::verify(*module)),
              "the generated aimc module does not verify");
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  os << "\n";  // as aimc-opt prints it
  os.flush();
  return text;
}

ParsedPrograms parse_programs_mlir(const std::string& text, const std::string& source) {
  ::mlir::MLIRContext context;
  context.getOrLoadDialect<AimcDialect>();
  llvm::SourceMgr source_mgr;
  source_mgr.AddNewSourceBuffer(llvm::MemoryBuffer::getMemBufferCopy(text, source), llvm::SMLoc());
  std::string diagnostics;
  llvm::raw_string_ostream os(diagnostics);
  ::mlir::SourceMgrDiagnosticHandler handler(source_mgr, &context, os);
  ::mlir::OwningOpRef<::mlir::ModuleOp> module =
      ::mlir::parseSourceFile<::mlir::ModuleOp>(source_mgr, &context);
  os.flush();
  if (!module) {
    while (!diagnostics.empty() && diagnostics.back() == '\n') diagnostics.pop_back();
    throw_bad_input("{}", diagnostics.empty() ? source + ": not a valid aimc module" : diagnostics);
  }
  return programs_of(*module, source);
}

}  // namespace aimc::mlir
