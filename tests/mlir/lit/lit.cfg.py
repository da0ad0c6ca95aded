# lit configuration of the aimc dialect's FileCheck tests (tests/CMakeLists.txt runs them with
# --param aimc_bin=BUILD --param llvm_bin=LLVM_TOOLS --param source_dir=REPO).
import os

import lit.formats

config.name = "aimc-mlir"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.excludes = ["Inputs"]
params = lit_config.params
missing = [p for p in ("aimc_bin", "llvm_bin", "source_dir") if p not in params]
if missing:
    lit_config.fatal("lit.cfg.py needs --param " + ", ".join(missing))
# aimc, aimc-opt and aimc-translate first, then FileCheck and not from LLVM 16.
config.environment["PATH"] = os.pathsep.join(
    [params["aimc_bin"], params["llvm_bin"], config.environment.get("PATH", os.environ["PATH"])])
config.substitutions.append(("%repo", params["source_dir"]))
# Temporary files (%t) under the build tree, not beside the tests.
config.test_exec_root = os.path.join(params["aimc_bin"], "tests", "mlir", "lit")
