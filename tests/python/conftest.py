# Helpers of the Python module's tests: the CLI to compare with, and the bundled files.
import json
import os
import subprocess
from pathlib import Path

import pytest

SOURCE = Path(os.environ.get("AIMC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
BINARY = os.environ.get("AIMC_BINARY", str(SOURCE / "build" / "aimc"))
MODELS = SOURCE / "models"
PRESETS = SOURCE / "presets"
TREES = SOURCE / "tests" / "data" / "trees"

# Wall-clock times differ between any two runs; everything else must be equal.
TIMING_KEYS = {"seconds", "seconds_each", "wall_s", "events_per_s"}


def without_timing(value):
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


class CliFailure(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def run_cli(*args):
    """Runs `aimc ARGS`; returns stdout, raises CliFailure(exit code, message) on failure."""
    done = subprocess.run([BINARY, *map(str, args)], capture_output=True, text=True)
    if done.returncode != 0:
        lines = [l for l in done.stderr.splitlines() if l.startswith("aimc: error: ")]
        message = lines[-1][len("aimc: error: "):] if lines else done.stderr
        raise CliFailure(done.returncode, message)
    return done.stdout


def cli_json(*args):
    return json.loads(run_cli(*args, "--json"))


@pytest.fixture(scope="session")
def aimc():
    import aimc as module

    return module
