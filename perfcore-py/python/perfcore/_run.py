"""``python -m perfcore run``: runs a program with every function of its own code profiled,
and writes the snapshot when it exits.

Usage::

    python -m perfcore run [--include PACKAGE]... [--exclude PATTERN]... [--json OUT]
                           [--html OUT] script.py [args...]
    python -m perfcore run [options] -m module [args...]

What gets wrapped (with the default profiler's ``profile``, under the name
``module.qualname``), as each module is imported (a ``sys.meta_path`` finder wraps the
loader: the module runs, then its functions are replaced in it):

- the included modules: each ``--include PACKAGE`` (the package and its submodules); without
  ``--include``, every module whose file is under the script's directory (not in a
  ``site-packages`` below it), or for ``-m pkg.mod`` the package ``pkg``;
- the program itself (``__main__``): each function as its ``def`` stores it, before the
  module's own code goes on to call it;
- in those modules: functions, generators, coroutines and async generators defined at the
  top level or in a class (nested classes too): plain methods, ``staticmethod``,
  ``classmethod``, ``property`` getters/setters/deleters and ``functools.cached_property``.

What is not wrapped, and why:

- functions not compiled from the module's own source: imported ones (their
  ``__module__`` is another's), builtins, and code made at run time whose
  ``__code__.co_qualname`` differs from its ``__qualname__`` (``functools.wraps`` wrappers,
  the methods ``dataclasses`` generates);
- functions already wrapped (``@perfcore.profile`` in the source), wrapped once only;
- functions defined inside functions (closures, lambdas): they are made at each call, after
  the module was wrapped;
- ``__del__`` (it runs when the collector or the interpreter's shutdown decides, also after
  the snapshot was written) and ``__getattribute__``, ``__getattr__``, ``__setattr__`` and
  ``__delattr__`` (they run for every attribute access, so a profile would mostly measure
  them and perfcore itself). Every other dunder method is wrapped: ``__init__``,
  ``__call__``, ``__iter__``, ``__enter__``, ...; ``__new__``, ``__init_subclass__`` and
  ``__class_getitem__`` keep their implicit static or class binding;
- ``--exclude PATTERN``: an ``fnmatch`` pattern on ``module.qualname`` or on the module's name.

Counts are those of ``@profile``: a call per call, and for a generator or async generator one
call per run that started (cProfile instead counts each resumption and the final close).

Only references through the module and its classes are replaced: a reference taken before
(a decorator's registry, ``from m import f`` in a module imported earlier) calls the
original, unrecorded.

At exit (the program returning, ``sys.exit(n)``, an exception, or SIGTERM, for which a
handler raising ``SystemExit(143)`` is installed) the default profiler's snapshot is written
to ``--json`` (default ``perfcore-run.json`` in the current directory) and, with ``--html``,
the HTML report; both after the program's own ``atexit`` handlers and non-daemon threads.
The exit status is the program's: ``n`` for ``sys.exit(n)``, 1 (after the traceback) for an
exception, 130 for Ctrl-C. A bad command line exits with 2.
"""

from __future__ import annotations

import atexit
import builtins
import fnmatch
import functools
import importlib.machinery
import importlib.util
import os
import signal
import sys
import traceback
import types
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._perfcore import ProfiledFunction, Snapshot, default_profiler

USAGE = """\
usage: python -m perfcore run [--include PACKAGE]... [--exclude PATTERN]...
                              [--json OUT] [--html OUT] (script.py | -m module) [args...]

Runs a Python program with every function of its own code profiled, then writes the
snapshot (--json, default perfcore-run.json) and an HTML report (--html).

options:
  --include PACKAGE  profile PACKAGE and its submodules (repeatable; default: the modules
                     under the script's directory, or the package of -m's module)
  --exclude PATTERN  do not profile functions or modules matching this fnmatch pattern
                     (on module.qualname or the module name; repeatable)
  --json OUT         where to write the snapshot JSON (default: perfcore-run.json)
  --html OUT         also write the HTML report there
  -m module          run a module as `python -m module` does
  -h, --help         show this help
"""

DEFAULT_JSON = "perfcore-run.json"

#: Dunder methods left alone (see the module docs).
SKIPPED_DUNDERS = frozenset(
    {"__del__", "__getattribute__", "__getattr__", "__setattr__", "__delattr__"}
)

#: The exit status after SIGTERM: 128 + the signal's number, as shells report it.
SIGTERM_STATUS = 128 + signal.SIGTERM


class UsageError(Exception):
    """A command line ``run`` cannot use."""


@dataclass
class Options:
    """``run``'s command line."""

    includes: list[str] = field(default_factory=list)
    excludes: list[str] = field(default_factory=list)
    json_out: str = DEFAULT_JSON
    html_out: str | None = None
    module: str | None = None
    script: str | None = None
    args: list[str] = field(default_factory=list)


def parse_args(argv: Sequence[str]) -> Options:
    """Parses ``run``'s arguments (after ``run``): options up to the script or ``-m module``,
    everything after it the program's."""
    opts = Options()
    it = iter(argv)
    valued = {"--include", "--exclude", "--json", "--html"}
    for arg in it:
        name, eq, inline = arg.partition("=")
        if name in valued:
            value = inline if eq else next(it, None)
            if not value:
                raise UsageError(f"{name} needs a value")
            if name == "--include":
                opts.includes.append(value)
            elif name == "--exclude":
                opts.excludes.append(value)
            elif name == "--json":
                opts.json_out = value
            else:
                opts.html_out = value
        elif arg == "-m" or arg.startswith("-m") and len(arg) > 2:
            module = arg[2:] or next(it, None)
            if not module:
                raise UsageError("-m needs a module name")
            opts.module = module
            opts.args = list(it)
            return opts
        elif arg == "--":
            opts.script = next(it, None)
            opts.args = list(it)
            break
        elif arg.startswith("-") and arg != "-":
            raise UsageError(f"unknown option {arg!r}")
        else:
            opts.script = arg
            opts.args = list(it)
            break
    if opts.script is None:
        raise UsageError("no script or -m module to run")
    return opts


def absolute_outputs(opts: Options) -> None:
    """Output paths made absolute now, so a program that changes directory does not move
    them."""
    opts.json_out = os.path.abspath(opts.json_out)
    if opts.html_out is not None:
        opts.html_out = os.path.abspath(opts.html_out)


class Wrapper:
    """Replaces the qualifying functions of modules and classes by profiled ones."""

    def __init__(self, excludes: Sequence[str]) -> None:
        self.excludes = list(excludes)
        self.profile = default_profiler().profile
        #: Wrapped functions by the id of the original, so aliases share one wrapper (the
        #: originals are kept alive in `originals`, so ids are not reused).
        self.wrapped: dict[int, Any] = {}
        self.originals: list[Any] = []
        self.seen_classes: set[int] = set()

    def excluded(self, module: str, qualname: str) -> bool:
        full = f"{module}.{qualname}"
        return any(
            fnmatch.fnmatchcase(full, p) or fnmatch.fnmatchcase(module, p) for p in self.excludes
        )

    def own(self, func: Any, module: str) -> bool:
        """Whether `func` is a plain function compiled from `module`'s source."""
        if not isinstance(func, types.FunctionType) or isinstance(func, ProfiledFunction):
            return False
        code = func.__code__
        return func.__module__ == module and code.co_qualname == func.__qualname__

    def function(self, func: Any, module: str) -> Any:
        """`func` wrapped if it is `module`'s own, else `func` itself."""
        if not self.own(func, module) or func.__name__ in SKIPPED_DUNDERS:
            return func
        if self.excluded(module, func.__qualname__):
            return func
        done = self.wrapped.get(id(func))
        if done is None:
            done = self.profile(func, name=f"{module}.{func.__qualname__}")
            self.wrapped[id(func)] = done
            self.originals.append(func)
        return done

    def attribute(self, value: Any, module: str) -> Any:
        """A class attribute with its functions wrapped (a new descriptor), or `value`."""
        if isinstance(value, types.FunctionType):
            return self.function(value, module)
        if isinstance(value, (staticmethod, classmethod)):
            inner = self.function(value.__func__, module)
            return value if inner is value.__func__ else type(value)(inner)
        if type(value) is property:
            old = (value.fget, value.fset, value.fdel)
            parts = [self.function(f, module) if f is not None else None for f in old]
            if all(new is was for new, was in zip(parts, old, strict=True)):
                return value
            return property(parts[0], parts[1], parts[2], value.__doc__)
        if isinstance(value, functools.cached_property):
            value.func = self.function(value.func, module)
        return value

    def cls(self, klass: type, module: str, qualname: str) -> None:
        """Wraps the methods of `klass` (and of its nested classes) in place."""
        if id(klass) in self.seen_classes:
            return
        if klass.__module__ != module or klass.__qualname__ != qualname:
            return  # imported, or an alias of a class defined elsewhere
        self.seen_classes.add(id(klass))
        for name, value in list(vars(klass).items()):
            if isinstance(value, type):
                self.cls(value, module, f"{qualname}.{name}")
                continue
            new = self.attribute(value, module)
            if new is not value:
                try:
                    setattr(klass, name, new)
                except (AttributeError, TypeError):
                    pass  # an Enum member, a read-only attribute: left as it is

    def value(self, name: str, value: Any, module: str) -> Any:
        """A module global with its functions wrapped."""
        if isinstance(value, type):
            self.cls(value, module, name)
            return value
        return self.function(value, module)

    def module(self, mod: types.ModuleType) -> None:
        """Wraps the functions and classes a module defines, in place."""
        name = mod.__name__
        namespace = vars(mod)
        for key, value in list(namespace.items()):
            new = self.value(key, value, name)
            if new is not value:
                namespace[key] = new


class WrappingLoader:
    """A module's own loader, which wraps the module's functions once it has run. Not a
    subclass of `importlib.abc.Loader`, whose defaults would hide the loader's own methods:
    everything but `exec_module` is the loader's."""

    def __init__(self, loader: Any, wrapper: Wrapper) -> None:
        self._loader = loader
        self._wrapper = wrapper

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        create: Callable[[importlib.machinery.ModuleSpec], types.ModuleType | None] | None
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        self._wrapper.module(module)

    def __getattr__(self, name: str) -> Any:
        # Everything else (get_source for tracebacks, resource readers, ...) is the loader's.
        return getattr(self._loader, name)


class IncludeFinder:
    """Finds included modules with the other finders and wraps their loaders."""

    def __init__(self, included: Callable[[str, str | None], bool], wrapper: Wrapper) -> None:
        self.included = included
        self.wrapper = wrapper

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            loader = spec.loader
            wrappable = loader is not None and hasattr(loader, "exec_module")
            if wrappable and self.included(fullname, spec.origin):
                # Not a Loader subclass on purpose (see WrappingLoader), hence the ignore.
                spec.loader = WrappingLoader(loader, self.wrapper)  # type: ignore[assignment]
            return spec
        return None


def included_test(opts: Options, root: Path | None) -> Callable[[str, str | None], bool]:
    """Whether a module (by name and file) is to be wrapped."""
    packages = list(opts.includes)
    if not packages and opts.module is not None:
        packages = [opts.module.split(".")[0]]
    root_s = str(root) + os.sep if root is not None and not packages else None

    def included(name: str, origin: str | None) -> bool:
        if name == "perfcore" or name.startswith("perfcore."):
            return False  # never perfcore itself
        if any(fnmatch.fnmatchcase(name, p) for p in opts.excludes):
            return False
        if any(name == p or name.startswith(p + ".") for p in packages):
            return True
        if root_s is None or not origin or origin in ("built-in", "frozen"):
            return False
        real = os.path.realpath(origin)
        if not real.startswith(root_s) or not real.endswith((".py", ".pyc")):
            return False
        parts = Path(real[len(root_s) :]).parts
        return not any(p in ("site-packages", "dist-packages") for p in parts)

    return included


def main_code(opts: Options) -> tuple[types.CodeType, dict[str, Any]]:
    """The code of the program and the globals `__main__` starts with."""
    if opts.module is not None:
        spec = importlib.util.find_spec(opts.module)
        if spec is None:
            raise UsageError(f"no module named {opts.module!r}")
        if spec.submodule_search_locations is not None:
            spec = importlib.util.find_spec(opts.module + ".__main__")
            if spec is None:
                raise UsageError(f"{opts.module!r} is a package and has no __main__ module")
        loader = spec.loader
        get_code = getattr(loader, "get_code", None)
        code = get_code(spec.name) if get_code is not None else None
        if code is None:
            raise UsageError(f"cannot run {opts.module!r}: its loader gives no code")
        origin = spec.origin or opts.module
        init = {
            "__name__": "__main__",
            "__file__": origin,
            "__spec__": spec,
            "__loader__": loader,
            "__package__": spec.parent,
            "__cached__": spec.cached,
        }
        sys.argv = [origin, *opts.args]
        return code, init
    assert opts.script is not None
    path = Path(opts.script)
    if not path.is_file():
        raise UsageError(f"can't open file {opts.script!r}: not a file")
    source = path.read_bytes()
    # An absolute file name, as Python gives a script's __file__ and code (3.9+).
    filename = os.path.abspath(path)
    code = compile(source, filename, "exec", dont_inherit=True)
    init = {
        "__name__": "__main__",
        "__file__": filename,
        "__spec__": None,
        "__loader__": None,
        "__package__": None,
        "__cached__": None,
    }
    sys.argv = [opts.script, *opts.args]
    sys.path[0] = str(path.resolve().parent)
    return code, init


def exit_status(e: SystemExit) -> int:
    """What Python exits with for `e`, printing a non-integer code as it does."""
    code = e.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def write_outputs(opts: Options, pid: int) -> None:
    """Writes the snapshot (and report) once, in the process that ran the program."""
    if os.getpid() != pid:
        return  # a forked child exiting normally: its parent writes
    snap = default_profiler().snapshot()
    json_path = Path(opts.json_out)
    try:
        snap.write_json(json_path)
        print(
            f"perfcore: wrote {json_path} ({len(snap)} functions, {snap.total_calls} calls)",
            file=sys.stderr,
        )
        if opts.html_out is not None:
            html_path = Path(opts.html_out)
            html_path.write_text(to_html(snap), encoding="utf-8")
            print(f"perfcore: wrote {html_path}", file=sys.stderr)
    except Exception as e:  # noqa: BLE001 - reported, never raised at exit
        print(f"perfcore: could not write the results: {e}", file=sys.stderr)


def to_html(snap: Snapshot) -> str:
    """The HTML report of `snap` (`Snapshot.to_html`); RuntimeError if this build has none."""
    render = getattr(snap, "to_html", None)
    if render is None:
        raise RuntimeError("--html needs Snapshot.to_html(), which this build of perfcore lacks")
    html = render()
    if not isinstance(html, str):
        raise RuntimeError(f"Snapshot.to_html() returned {type(html).__name__}, not str")
    return html


def _sigterm(signum: int, frame: types.FrameType | None) -> None:
    raise SystemExit(SIGTERM_STATUS)


def run(argv: Sequence[str]) -> int:
    """``python -m perfcore run ARGS``: runs the program and returns its exit status."""
    if any(a in ("-h", "--help") for a in _options_part(argv)):
        print(USAGE, end="")
        return 0
    try:
        opts = parse_args(argv)
        absolute_outputs(opts)
        if opts.html_out is not None and not hasattr(Snapshot, "to_html"):
            raise UsageError("--html needs Snapshot.to_html(), which this build of perfcore lacks")
        root = Path(opts.script).resolve().parent if opts.script is not None else None
        wrapper = Wrapper(opts.excludes)
        included = included_test(opts, root)
        # Modules imported already (by perfcore, or the interpreter's start) that are included.
        for name, mod in list(sys.modules.items()):
            if isinstance(mod, types.ModuleType) and included(name, getattr(mod, "__file__", None)):
                wrapper.module(mod)
        sys.meta_path.insert(0, IncludeFinder(included, wrapper))
        code, init = main_code(opts)
    except UsageError as e:
        print(f"perfcore run: {e}\n\n{USAGE}", end="", file=sys.stderr)
        return 2
    # Registered before the program runs, so it runs after the program's own handlers.
    atexit.register(write_outputs, opts, os.getpid())
    try:
        signal.signal(signal.SIGTERM, _sigterm)
    except ValueError:
        pass  # not the main thread (run() called from elsewhere): no handler

    main_module = types.ModuleType("__main__")
    globals_ = vars(main_module)
    globals_.clear()
    globals_.update(init)
    globals_["__builtins__"] = builtins
    sys.modules["__main__"] = main_module
    try:
        # Globals: the module's dict (the functions' __globals__); locals: a view of that
        # dict that wraps what module-level code stores.
        exec(code, globals_, _StoreHook(globals_, wrapper))
    except SystemExit as e:
        return exit_status(e)
    except KeyboardInterrupt as e:
        _print_program_exception(e)
        return 130
    except BaseException as e:  # the program's exception, reported as Python does
        _print_program_exception(e)
        return 1
    return 0


def _print_program_exception(e: BaseException) -> None:
    """What Python does with an uncaught exception: `sys.excepthook` (the program may have
    set its own), given the traceback without this module's frame (`run`'s)."""
    tb = e.__traceback__
    tb = tb.tb_next if tb is not None else None
    try:
        sys.excepthook(type(e), e.with_traceback(tb), tb)
    except Exception:  # noqa: BLE001 - a broken hook: print it as Python would
        traceback.print_exception(type(e), e, tb)


def _options_part(argv: Sequence[str]) -> Iterator[str]:
    """The arguments before the program's (where -h means run's help)."""
    skip = False
    for a in argv:
        if skip:
            skip = False
            continue
        if a in ("--include", "--exclude", "--json", "--html"):
            skip = True
            continue
        if not a.startswith("-") or a.startswith("-m") or a == "--":
            return
        yield a


class _StoreHook(dict[str, Any]):
    """The locals mapping `exec` runs `__main__` with: reads and writes go to `globals_`
    (the module's dict); a stored function or class is wrapped first."""

    def __init__(self, globals_: dict[str, Any], wrapper: Wrapper) -> None:
        super().__init__()
        self._g = globals_
        self._wrapper = wrapper

    def __getitem__(self, key: str) -> Any:
        return self._g[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._g[key] = self._wrapper.value(key, value, "__main__")

    def __delitem__(self, key: str) -> None:
        del self._g[key]

    def __contains__(self, key: object) -> bool:
        return key in self._g

    def __iter__(self) -> Iterator[str]:
        return iter(self._g)

    def __len__(self) -> int:
        return len(self._g)

    def get(self, key: str, default: Any = None) -> Any:
        return self._g.get(key, default)

    def keys(self) -> Any:
        return self._g.keys()

    def items(self) -> Any:
        return self._g.items()

    def values(self) -> Any:
        return self._g.values()
