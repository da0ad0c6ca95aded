"""aimc: analog in-memory computing accelerators from Python (docs/python.md).

Every call here is the library API the `aimc` command runs; the dicts are the JSON that
command prints with --json.
"""

from ._aimc import (  # noqa: F401
    AnalogLinear,
    Architecture,
    BadInput,
    Error,
    Model,
    Trees,
    compile,
    estimate,
    estimate_peak,
    load,
    load_trees,
    max_threads,
    pareto,
    report_html,
    set_threads,
    simulate,
    sweep,
)

__version__ = "0.1.0"
