"""perfcore: low-overhead profiling for Python services, backed by a Rust engine.

Decorate hot functions, read statistics from a snapshot::

    import perfcore

    @perfcore.profile
    def handle(request): ...

    with perfcore.scope("load config"):
        ...

    snap = perfcore.snapshot()
    print(snap["handle"].p99_ns)

``perfcore.profile`` and the other module-level functions use the process's default
profiler (the one Rust code in the same process records into too); make independent ones
with ``PerformanceProfiler()``.

Errors: perfcore's own derive from ``PerfcoreError`` (``SnapshotError`` for snapshot data that
is not a snapshot, also a ``ValueError``); I/O errors are the matching ``OSError``
(``FileNotFoundError``, ...); bad arguments raise ``ValueError`` or ``TypeError``.
"""

import os as _os

from . import _perfcore
from ._perfcore import (
    SCHEMA_VERSION,
    CallNode,
    FunctionStats,
    PerfcoreError,
    PerformanceProfiler,
    ProfiledAsyncGenerator,
    ProfiledCoroutine,
    ProfiledFunction,
    ProfiledGenerator,
    ProfileResult,
    Snapshot,
    SnapshotError,
    __version__,
    clock_source,
    default_profiler,
)

_default = default_profiler()

# A forked child (multiprocessing, gunicorn workers) starts with clean, unlocked profilers:
# it reports only its own calls, so worker snapshots merge without counting twice.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(
        before=_perfcore._fork_prepare,
        after_in_parent=_perfcore._fork_parent,
        after_in_child=_perfcore._fork_child,
    )

#: Decorator on the default profiler: ``@perfcore.profile`` or ``@perfcore.profile(name=...)``.
profile = _default.profile
#: ``with perfcore.scope("name"):`` on the default profiler.
scope = _default.scope
#: ``perfcore.profile_function(fn, iterations, *args, **kwargs)`` on the default profiler.
profile_function = _default.profile_function
#: Merge the default profiler's recordings into a ``Snapshot``.
snapshot = _default.snapshot
#: Forget what the default profiler recorded.
reset = _default.reset
#: Turn the default profiler on or off.
set_enabled = _default.set_enabled

__all__ = [
    "SCHEMA_VERSION",
    "CallNode",
    "FunctionStats",
    "PerfcoreError",
    "PerformanceProfiler",
    "ProfileResult",
    "ProfiledAsyncGenerator",
    "ProfiledCoroutine",
    "ProfiledFunction",
    "ProfiledGenerator",
    "Snapshot",
    "SnapshotError",
    "__version__",
    "clock_source",
    "default_profiler",
    "profile",
    "profile_function",
    "reset",
    "scope",
    "set_enabled",
    "snapshot",
]
