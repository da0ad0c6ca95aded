// Print, parse and print again: the same text.
// RUN: aimc-opt %s | aimc-opt | FileCheck %s
// RUN: aimc-opt %s > %t.once && aimc-opt %t.once > %t.twice && cmp %t.once %t.twice

// CHECK-LABEL: module attributes {aimc.command = "aimc compile m.onnx --arch race"}
// CHECK:      aimc.program core = 0 tile = 0 chip = 0 {
// CHECK-NEXT:   aimc.layer "fc" {
// CHECK-NEXT:     aimc.load addr = 0 bytes = 64 dst = 0
// CHECK-NEXT:     aimc.mvm group = 0 rows = 64 cols = 10 steps = 7 src = 0 dst = 64
// CHECK-NEXT:     aimc.alu "scale" len = 10 src = 64 dst = 104
// CHECK-NEXT:     aimc.send peer = 1 bytes = 10 src = 104
// CHECK-NEXT:   }
// CHECK-NEXT:   aimc.sync barrier = 0
// CHECK-NEXT:   aimc.halt
// CHECK:      aimc.program core = 1 tile = 0 chip = 0 {
// CHECK:          aimc.acam unit = 2 len = 10 src = 0 dst = 40
module attributes {aimc.command = "aimc compile m.onnx --arch race"} {
  aimc.program core = 0 tile = 0 chip = 0 {
    aimc.layer "fc" {
      aimc.load addr = 0 bytes = 64 dst = 0
      aimc.mvm group = 0 rows = 64 cols = 10 steps = 7 src = 0 dst = 64
      aimc.alu "scale" len = 10 src = 64 dst = 104
      aimc.send peer = 1 bytes = 10 src = 104
    }
    aimc.sync barrier = 0
    aimc.halt
  }
  aimc.program core = 1 tile = 0 chip = 0 {
    aimc.layer "softmax" {
      aimc.recv peer = 0 bytes = 10 dst = 0
      aimc.acam unit = 2 len = 10 src = 0 dst = 40
      aimc.store src = 40 bytes = 10 addr = 64
    }
    aimc.sync barrier = 0
    aimc.halt
  }
}
