"""``python -m perfcore run``: which functions get wrapped, under which names, what the
program sees (argv, exit status, tracebacks), and the snapshot written at exit; then the
proof on a published package (markdown): every function's call count equals cProfile's."""

from __future__ import annotations

import importlib
import os
import pstats
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import pytest

from perfcore import Snapshot

TOY_PACKAGE = {
    "toy/__init__.py": "from .core import helper, Thing\n",
    "toy/core.py": '''
        import functools
        from os.path import join  # imported: never wrapped

        from .other import shared  # defined in toy.other: wrapped there, once

        class Thing:
            def __init__(self, n):
                self.n = n

            @staticmethod
            def s(x):
                return x + 1

            @classmethod
            def c(cls):
                return cls(3)

            @property
            def p(self):
                return self.n * 2

            @p.setter
            def p(self, value):
                self.n = value

            @functools.cached_property
            def cp(self):
                return self.n * 3

            def gen(self):
                yield from range(self.n)

            async def co(self):
                return 5

            async def agen(self):
                yield 1
                yield 2

            def __repr__(self):
                return f"Thing({self.n})"

            def __getattr__(self, name):  # left alone: runs on every missing attribute
                raise AttributeError(name)

            class Inner:
                def m(self):
                    return 1

        def helper(n):
            t = Thing.c()
            t.p = 4
            inner = lambda: 1  # made at each call: not wrapped
            return (sum(t.gen()) + t.p + t.cp + Thing.s(n) + Thing.Inner().m() + len(repr(t))
                    + shared() + inner() + len(join("a", "b")))

        def skipped():
            return 0
    ''',
    "toy/other.py": """
        def shared():
            return 1
    """,
    "main.py": """
        import asyncio
        import sys

        import toy

        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        async def collect():
            return [x async for x in toy.Thing(1).agen()] + [await toy.Thing(1).co()]

        def main():
            print("argv", sys.argv[1:])
            fib(10)
            for _ in range(3):
                toy.helper(2)
            toy.core.skipped()
            print(asyncio.run(collect()))
            if sys.argv[1:2] == ["fail"]:
                raise RuntimeError("boom")
            if sys.argv[1:2] == ["exit"]:
                import os
                os.chdir(os.path.dirname(toy.__file__))  # the outputs stay where they were
                sys.exit(7)
            if sys.argv[1:2] == ["hook"]:
                sys.excepthook = lambda *exc: print("hooked", exc[0].__name__, file=sys.stderr)
                raise KeyError("x")
            if sys.argv[1:2] == ["wait"]:
                fib(5)  # 15 calls before "ready"
                print("ready", flush=True)
                while True:
                    fib(5)

        if __name__ == "__main__":
            main()
    """,
}


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


def perfcore_run(cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "perfcore", "run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def counts(path: Path) -> dict[str, int]:
    """Calls by name (a property's getter and setter share one, their `__qualname__`)."""
    snap = Snapshot.read_json(path)
    out: dict[str, int] = {}
    for f in snap.functions:
        out[f.name] = out.get(f.name, 0) + f.count
    return out


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    write_tree(tmp_path, TOY_PACKAGE)
    return tmp_path


def test_wraps_the_programs_own_functions_and_methods(toy: Path) -> None:
    done = perfcore_run(toy, "--exclude", "toy.core.skip*", "main.py", "a", "b")
    assert done.returncode == 0, done.stderr
    assert "argv ['a', 'b']" in done.stdout
    assert "[1, 2, 5]" in done.stdout
    # 16 callsites: the property's getter and setter are two.
    assert f"perfcore: wrote {toy / 'perfcore-run.json'} (16 functions" in done.stderr
    got = counts(toy / "perfcore-run.json")
    assert got == {
        "__main__.main": 1,
        "__main__.fib": 177,  # fib(10) makes 177 calls
        "__main__.collect": 1,
        "toy.core.helper": 3,
        "toy.core.Thing.c": 3,
        "toy.core.Thing.__init__": 5,  # 3 from c(), 2 in collect()
        "toy.core.Thing.s": 3,
        "toy.core.Thing.p": 6,  # the getter 3 times and the setter 3 times, one name
        "toy.core.Thing.cp": 3,
        "toy.core.Thing.gen": 3,
        "toy.core.Thing.co": 1,
        "toy.core.Thing.agen": 1,
        "toy.core.Thing.__repr__": 3,
        "toy.core.Thing.Inner.m": 3,
        "toy.other.shared": 3,
    }


def test_the_snapshot_is_written_on_exit_status_exception_and_sigterm(toy: Path) -> None:
    done = perfcore_run(toy, "--json", "exit.json", "main.py", "exit")
    assert done.returncode == 7, done.stderr
    assert counts(toy / "exit.json")["__main__.main"] == 1

    done = perfcore_run(toy, "--json", "fail.json", "main.py", "fail")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert 'RuntimeError: boom' in done.stderr
    assert "_run.py" not in done.stderr  # the traceback is the program's only
    assert counts(toy / "fail.json")["toy.core.helper"] == 3

    done = perfcore_run(toy, "--json", "hook.json", "main.py", "hook")
    assert done.returncode == 1
    assert "hooked KeyError" in done.stderr  # the program's own sys.excepthook

    proc = subprocess.Popen(
        [sys.executable, "-m", "perfcore", "run", "--json", "term.json", "main.py", "wait"],
        cwd=toy,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while "ready" not in proc.stdout.readline():
        assert time.monotonic() < deadline and proc.poll() is None, "the program did not start"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err
    assert counts(toy / "term.json")["__main__.fib"] >= 177 + 15


def test_include_selects_packages_and_dash_m_runs_a_module(toy: Path) -> None:
    # Only toy.other: nothing of toy.core, nor of the script's directory otherwise.
    done = perfcore_run(toy, "--include", "toy.other", "--json", "o.json", "main.py")
    assert done.returncode == 0, done.stderr
    got = counts(toy / "o.json")
    assert got["toy.other.shared"] == 3
    assert "__main__.fib" in got  # the program itself always
    assert not any(name.startswith("toy.core") for name in got)

    (toy / "toy" / "__main__.py").write_text(
        "import sys\nfrom toy.core import helper\n\ndef go():\n    return helper(1)\n\n"
        "go()\nsys.exit(int(sys.argv[1]))\n"
    )
    done = perfcore_run(toy, "--json", "m.json", "-m", "toy", "3")
    assert done.returncode == 3, done.stderr
    got = counts(toy / "m.json")
    assert got["__main__.go"] == 1 and got["toy.core.helper"] == 1


def test_bad_command_lines_exit_2_with_usage(toy: Path) -> None:
    for args in ([], ["--json"], ["--bogus", "main.py"], ["missing.py"]):
        done = perfcore_run(toy, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "usage: python -m perfcore run" in done.stderr
    done = perfcore_run(toy, "--help")
    assert done.returncode == 0 and "--include PACKAGE" in done.stdout


def test_html_is_written_when_the_build_has_to_html(toy: Path) -> None:
    done = perfcore_run(toy, "--html", "report.html", "main.py")
    if hasattr(Snapshot, "to_html"):
        assert done.returncode == 0, done.stderr
        assert "<html" in (toy / "report.html").read_text().lower()
    else:
        assert done.returncode == 2
        assert "--html needs Snapshot.to_html()" in done.stderr


# --- The proof on a published package ------------------------------------------------------

WORKLOAD = '''
    """Converts a Markdown document with the markdown package: a deterministic workload."""
    import sys

    import markdown

    SECTION = """
    ## Section {i}

    Some *emphasis*, some **strong** text, `code`, a [link](http://example.com/{i}) and
    an ![image](img{i}.png "title"). Auto <http://auto.example/{i}>; an &amp; entity.

    > A quote with a list:
    >
    > 1. one
    > 2. two

    - item a
    - item b
        - nested {i}

    !!! note "Admonition {i}"
        Text inside.

        def code_block_{i}():
            return {i}

    | a | b |
    |---|---|
    | {i} | x |

    Term {i}
    :   Definition of the term.

    Footnote ref[^n{i}] and *ABBR*.

    [^n{i}]: The footnote {i}.
    *[ABBR]: An abbreviation
    """

    def document(sections):
        return "# Title\\n\\n[TOC]\\n" + "".join(SECTION.format(i=i) for i in range(sections))

    def main(argv):
        rounds = int(argv[1]) if len(argv) > 1 else 3
        sections = int(argv[2]) if len(argv) > 2 else 20
        text = document(sections)
        extensions = ["extra", "toc", "codehilite", "admonition", "sane_lists"]
        md = markdown.Markdown(extensions=extensions)
        out = ""
        for _ in range(rounds):
            md.reset()
            out = md.convert(text)
        print(len(out))

    if __name__ == "__main__":
        main(sys.argv)
'''

CO_OPTIMIZED, CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR = 0x1, 0x20, 0x80, 0x200


def markdown_dir() -> Path:
    try:
        import markdown
    except ImportError:
        if os.environ.get("PERFCORE_REQUIRE_TOOLS") == "1":
            pytest.fail("markdown is not installed (.ci/python-tests.sh installs it)")
        pytest.skip("markdown is not installed (.ci/python-tests.sh installs it)")
    return Path(markdown.__file__).resolve().parent


def code_objects(root: Path) -> dict[tuple[str, int, str], types.CodeType]:
    """Every code object compiled from the package's files, by (file, first line, name)."""
    found: dict[tuple[str, int, str], types.CodeType] = {}

    def walk(code: types.CodeType) -> None:
        found[(os.path.realpath(code.co_filename), code.co_firstlineno, code.co_name)] = code
        for c in code.co_consts:
            if isinstance(c, types.CodeType):
                walk(c)

    for path in root.rglob("*.py"):
        walk(compile(path.read_text(encoding="utf-8"), str(path), "exec"))
    return found


def defined_object(pkg: Path, file: str, qualname: str) -> object:
    """What the module of `file` holds under `qualname` (through classes' own dicts)."""
    rel = Path(file).relative_to(pkg.parent).with_suffix("")
    parts = list(rel.parts[:-1]) if rel.name == "__init__" else list(rel.parts)
    obj: object = importlib.import_module(".".join(parts))
    for part in qualname.split("."):
        obj = vars(obj).get(part)
    return obj


def why_not_wrapped(
    pkg: Path,
    key: tuple[str, int, str],
    code: types.CodeType | None,
    callers: dict[tuple[str, int, str], object],
) -> str | None:
    """Why `run` does not wrap a function cProfile saw (None: no reason, a failure)."""
    file, _, name = key
    if code is None:
        return None
    if name == "<module>":
        return "a module's body"
    if name.startswith("<"):
        return f"{name}: a comprehension, lambda or generator expression, made at run time"
    if "<locals>" in code.co_qualname:
        return "a function defined inside a function"
    if code.co_flags & CO_OPTIMIZED == 0:
        return "a class body"
    if callers and all(c[0] == file and c[2] == "<module>" for c in callers):
        return "called only by its own module's body, while it was imported (before wrapping)"
    held = defined_object(pkg, file, code.co_qualname)
    if not isinstance(held, (types.FunctionType, staticmethod, classmethod, property)):
        return f"held as a {type(held).__name__} (a decorator's object), not a function"
    return None


def test_markdown_call_counts_equal_cprofiles(tmp_path: Path) -> None:
    pkg = markdown_dir()
    (tmp_path / "workload.py").write_text(textwrap.dedent(WORKLOAD))
    done = perfcore_run(tmp_path, "--include", "markdown", "--json", "out.json", "workload.py")
    assert done.returncode == 0, done.stderr
    profiled = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", "out.prof", "workload.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert profiled.returncode == 0, profiled.stderr
    assert profiled.stdout == done.stdout  # the same output: the same work

    snap = Snapshot.read_json(tmp_path / "out.json")
    ours = {(os.path.realpath(f.file), f.line): f for f in snap.functions if f.file}
    codes = code_objects(pkg)
    root = str(pkg) + os.sep
    # pstats' entries: (file, line, name) -> (primitive calls, total calls, tt, ct, callers).
    # The "ncalls" column prints "total/primitive"; a recursive function's total counts every
    # call, as ours does.
    stats = pstats.Stats(str(tmp_path / "out.prof")).stats  # type: ignore[attr-defined]
    theirs = {
        (os.path.realpath(k[0]), k[1]): (k, v)
        for k, v in stats.items()
        if os.path.realpath(k[0]).startswith(root)
    }
    ours_in_pkg = {k: f for k, f in ours.items() if k[0].startswith(root)}
    assert len(ours_in_pkg) > 100, "the workload should reach most of markdown"

    only_ours = sorted(f.name for k, f in ours_in_pkg.items() if k not in theirs)
    assert only_ours == [], "perfcore recorded functions cProfile never saw"

    exact = generators = 0
    unexplained = []
    reasons: dict[str, int] = {}
    for where, (key, (primitive, total, _tt, _ct, callers)) in sorted(theirs.items()):
        code = codes.get((where[0], where[1], key[2]))
        f = ours_in_pkg.get(where)
        if f is None:
            reason = why_not_wrapped(pkg, (where[0], where[1], key[2]), code, callers)
            if reason is None:
                unexplained.append((key, total))
            else:
                reasons[reason] = reasons.get(reason, 0) + 1
            continue
        assert code is not None
        if code.co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR):
            # cProfile counts every entry into a generator's frame: each next()/send(), the
            # last one that raises StopIteration, and the close() when a suspended or
            # never-started one is dropped (Python 3.11: list(g(3)) is 4 calls, a g(5) never
            # iterated 1, one next() then dropped 2). perfcore counts one call per run that
            # started (a dropped one also as cancelled; one never started not at all). So
            # every run perfcore counts is at least one of cProfile's calls.
            assert 1 <= f.count <= total, (f.name, f.count, total)
            generators += 1
        else:
            assert f.count == total, (f.name, f.count, f"cProfile {total}/{primitive}")
            exact += 1
    assert unexplained == [], "functions cProfile saw that perfcore run should have wrapped"
    assert exact > 100
    print(f"\n{exact} functions with equal counts, {generators} generators; not wrapped:")
    for reason, n in sorted(reasons.items()):
        print(f"  {n:4d}  {reason}")
