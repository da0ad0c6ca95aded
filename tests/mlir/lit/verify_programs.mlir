// --aimc-verify-programs runs the programs' messages and barriers (isa::verify). This program
// set runs; with the recv expecting 8 bytes where 4 were sent it fails, with exit code 2.
// RUN: aimc-opt %s --aimc-verify-programs | FileCheck %s
// RUN: sed 's/bytes = 4 dst/bytes = 8 dst/' %s > %t.bad.mlir
// RUN: not aimc-opt %t.bad.mlir --aimc-verify-programs 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: sh -c 'aimc-opt "$0" --aimc-verify-programs > /dev/null 2>&1; test $? -eq 2' %t.bad.mlir
// RUN: sed '0,/sync barrier = [0]$/s//sync barrier = 1/' %s > %t.barrier.mlir
// RUN: not aimc-opt %t.barrier.mlir --aimc-verify-programs 2>&1 | FileCheck %s --check-prefix=BARRIER

// CHECK: aimc.program core = 0
// CHECK: aimc.program core = 1
// BAD: error: the programs do not form a runnable set: core 1: instruction 0: recv peer=0 bytes=8 but the message sent is 4 bytes
// BARRIER: error: the programs do not form a runnable set:
module {
  aimc.program core = 0 tile = 0 chip = 0 {
    aimc.send peer = 1 bytes = 4 src = 0
    aimc.sync barrier = 0
    aimc.halt
  }
  aimc.program core = 1 tile = 0 chip = 0 {
    aimc.recv peer = 0 bytes = 4 dst = 0
    aimc.sync barrier = 0
    aimc.halt
  }
}
