// aimc compile: placeholder until isa/ lands (written by the ISA work of issue 5).
#include "aimc/cli/commands.h"

namespace aimc::cli {

Command add_compile_command(CLI::App& app, const GlobalOptions&) {
  return [&app]() {
    (void)app;
    return 2;
  };
}

}  // namespace aimc::cli
