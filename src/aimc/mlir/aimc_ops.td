// The aimc dialect (docs/mlir.md): the programs `aimc compile` generates, one `aimc.program`
// per core, whose operations are the instructions of docs/isa.md. Every operand is a
// non-negative integer attribute, checked by the verifiers; instructions of one IR node sit
// in an `aimc.layer` region, which is what the `.layer` directive of the assembly text says.
#ifndef AIMC_OPS_TD
#define AIMC_OPS_TD

include "mlir/IR/OpBase.td"

def Aimc_Dialect : Dialect {
  let name = "aimc";
  let cppNamespace = "::aimc::mlir";
  let useFoldAPI = kEmitFoldAdaptorFolder;  // the current folder API (no op folds yet)
  let summary = "Programs of crossbar + ACAM accelerator cores (docs/isa.md)";
  let description = [{
    One `aimc.program` per core of the chip(s), in a builtin module. Its body holds the
    core's instructions in order, optionally grouped into `aimc.layer` regions (the IR node
    they implement), and ends with `aimc.halt`.
  }];
}

class Aimc_Op<string mnemonic, list<Trait> traits = []> : Op<Aimc_Dialect, mnemonic, traits>;

def NonNegativeI64 : ConfinedAttr<I64Attr, [IntNonNegative]>;
def PositiveI64 : ConfinedAttr<I64Attr, [IntPositive]>;

// An instruction sits in a program or in one of its layers.
class Aimc_Instruction<string mnemonic, list<Trait> traits = []>
    : Aimc_Op<mnemonic, !listconcat(traits, [ParentOneOf<["ProgramOp", "LayerOp"]>])>;

def Aimc_ProgramOp : Aimc_Op<"program", [IsolatedFromAbove, SingleBlock]> {
  let summary = "the program of one core";
  let description = [{
    `core` is the global core index (chip-major, then tile, then core in the tile), `tile`
    and `chip` the global tile and chip of the core. The body runs in order and ends with
    the program's only `aimc.halt`.
  }];
  let arguments = (ins NonNegativeI64:$core, NonNegativeI64:$tile, NonNegativeI64:$chip);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat =
      "`core` `=` $core `tile` `=` $tile `chip` `=` $chip attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def Aimc_LayerOp : Aimc_Op<"layer", [HasParent<"ProgramOp">, NoTerminator, SingleBlock]> {
  let summary = "the instructions that implement one IR node";
  let arguments = (ins StrAttr:$node);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$node attr-dict-with-keyword $body";
  let hasVerifier = 1;
}

def Aimc_MvmOp : Aimc_Instruction<"mvm"> {
  let summary = "one input vector through one crossbar array group";
  let description = [{
    Drives `rows` input elements at buffer address `src` into core-local array group
    `group` and reads its `cols` column pairs: for each of the 2 input phases and each of
    the `steps` input steps, every array of the group (weight slices x 2 polarities) is
    read once and converted by its ADCs; the shift-add combines slices and steps into
    `cols` partial sums (4 bytes each) at `dst`.
  }];
  let arguments = (ins NonNegativeI64:$group, PositiveI64:$rows, PositiveI64:$cols,
                   PositiveI64:$steps, NonNegativeI64:$src, NonNegativeI64:$dst);
  let assemblyFormat = [{
    `group` `=` $group `rows` `=` $rows `cols` `=` $cols `steps` `=` $steps `src` `=` $src
    `dst` `=` $dst attr-dict
  }];
}

def Aimc_AcamOp : Aimc_Instruction<"acam"> {
  let summary = "`len` searches of one ACAM function unit: dst[i] = f(src[i])";
  let arguments = (ins NonNegativeI64:$unit, NonNegativeI64:$len, NonNegativeI64:$src,
                   NonNegativeI64:$dst);
  let assemblyFormat =
      "`unit` `=` $unit `len` `=` $len `src` `=` $src `dst` `=` $dst attr-dict";
}

def Aimc_AluOp : Aimc_Instruction<"alu"> {
  let summary = "`len` element operations of kind `op` on the core's vector ALU";
  let description = [{
    `op` is one of add, sub, mul, div, max, min, mac, reduce_sum, reduce_max, scale and
    kernel (docs/isa.md §2).
  }];
  let arguments = (ins StrAttr:$op, NonNegativeI64:$len, NonNegativeI64:$src,
                   NonNegativeI64:$dst);
  let assemblyFormat = "$op `len` `=` $len `src` `=` $src `dst` `=` $dst attr-dict";
  let hasVerifier = 1;
}

def Aimc_LoadOp : Aimc_Instruction<"load"> {
  let summary = "shared memory [addr, addr + bytes) to the core buffer at dst";
  let arguments = (ins NonNegativeI64:$addr, NonNegativeI64:$bytes, NonNegativeI64:$dst);
  let assemblyFormat = "`addr` `=` $addr `bytes` `=` $bytes `dst` `=` $dst attr-dict";
}

def Aimc_StoreOp : Aimc_Instruction<"store"> {
  let summary = "the core buffer at src to shared memory at addr";
  let arguments = (ins NonNegativeI64:$src, NonNegativeI64:$bytes, NonNegativeI64:$addr);
  let assemblyFormat = "`src` `=` $src `bytes` `=` $bytes `addr` `=` $addr attr-dict";
}

def Aimc_SendOp : Aimc_Instruction<"send"> {
  let summary = "sends `bytes` from src to core `peer` (buffered: never waits)";
  let arguments = (ins NonNegativeI64:$peer, NonNegativeI64:$bytes, NonNegativeI64:$src);
  let assemblyFormat = "`peer` `=` $peer `bytes` `=` $bytes `src` `=` $src attr-dict";
  let hasVerifier = 1;
}

def Aimc_RecvOp : Aimc_Instruction<"recv"> {
  let summary = "waits for the oldest unreceived message from core `peer`, writes it at dst";
  let arguments = (ins NonNegativeI64:$peer, NonNegativeI64:$bytes, NonNegativeI64:$dst);
  let assemblyFormat = "`peer` `=` $peer `bytes` `=` $bytes `dst` `=` $dst attr-dict";
  let hasVerifier = 1;
}

def Aimc_SyncOp : Aimc_Instruction<"sync"> {
  let summary = "waits until every core reaches a sync with the same barrier id";
  let arguments = (ins NonNegativeI64:$barrier);
  let assemblyFormat = "`barrier` `=` $barrier attr-dict";
}

def Aimc_HaltOp : Aimc_Op<"halt", [HasParent<"ProgramOp">, Terminator]> {
  let summary = "ends the program (its last instruction, exactly once)";
  let assemblyFormat = "attr-dict";
}

#endif  // AIMC_OPS_TD
