// Every verifier of the dialect, one case per split.
// RUN: aimc-opt %s -split-input-file -verify-diagnostics

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{'aimc.mvm' op attribute 'rows' failed to satisfy constraint: 64-bit signless integer attribute whose value is positive}}
  aimc.mvm group = 0 rows = 0 cols = 1 steps = 1 src = 0 dst = 0
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{'aimc.load' op attribute 'addr' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  aimc.load addr = -4 bytes = 4 dst = 0
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{unknown ALU operation 'fma'}}
  aimc.alu "fma" len = 1 src = 0 dst = 0
  aimc.halt
}

// -----

aimc.program core = 3 tile = 0 chip = 0 {
  // expected-error @+1 {{peer 3 is the program's own core}}
  aimc.send peer = 3 bytes = 4 src = 0
  aimc.halt
}

// -----

aimc.program core = 3 tile = 0 chip = 0 {
  // expected-error @+1 {{peer 3 is the program's own core}}
  aimc.recv peer = 3 bytes = 4 dst = 0
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{'aimc.halt' op must be the last operation in the parent block}}
  aimc.halt
  aimc.sync barrier = 0
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  aimc.layer "fc" {
    // expected-error @+1 {{'aimc.halt' op expects parent op 'aimc.program'}}
    aimc.halt
  }
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{'aimc.layer' op 'fc' holds no instruction}}
  aimc.layer "fc" {
  }
  aimc.halt
}

// -----

aimc.program core = 0 tile = 0 chip = 0 {
  // expected-error @+1 {{'aimc.layer' op needs a node name}}
  aimc.layer "" {
    aimc.sync barrier = 0
  }
  aimc.halt
}

// -----

// expected-error @+1 {{'aimc.mvm' op expects parent op to be one of 'aimc.program, aimc.layer'}}
aimc.mvm group = 0 rows = 1 cols = 1 steps = 1 src = 0 dst = 0
