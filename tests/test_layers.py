"""The import rules that keep the layers visible (STYLE.md; issue #7).

- the core (parsing, grouping, rendering, and the two ends that read the source tree and
  write the output tree) never imports SQLite, concurrency, click, Starlette, the engine
  or the server;
- its pure part never touches the disk or the clock;
- the engine never imports click, Starlette, uvicorn, watchfiles, the server, the CLI or
  watch mode;
- the server, the CLI and watch mode reach the engine only through ``feedwright.engine``.

Every import counts, also those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "feedwright"
#: Modules that never touch the disk, the clock or a process pool.
PURE = {
    "changes",
    "content",
    "dates",
    "errors",
    "feedfacts",
    "feedxml",
    "frontmatter",
    "group",
    "jsonfeed",
    "language",
    "layout",
    "ledger",
    "markup",
    "model",
    "opml",
    "pages",
    "permalink",
    "posts",
    "render",
    "slug",
    "urls",
    "yamlerrors",
}
#: The core: the pure modules, and those that read the config, the source and the output.
CORE = PURE | {"config", "discover", "jekyll", "output"}
OUTER = {"cli", "watch", "hooks", "reloader", "background", "commands", "__main__"}
CONCURRENCY = {"multiprocessing", "concurrent", "threading", "asyncio", "subprocess", "_thread"}
FRAMEWORKS = {"click", "starlette", "uvicorn", "watchfiles"}
INNER_ENGINE = "feedwright.engine."
ENGINE_MODULES = {p.stem for p in (SRC / "engine").glob("*.py")} - {"__init__"}


def module_name(path: Path, src: Path = SRC) -> str:
    parts = path.relative_to(src.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, src: Path = SRC) -> set[str]:
    """Every module ``path`` (in the package at ``src``) imports, relative imports resolved,
    at any depth."""
    tree = ast.parse(path.read_text("utf-8"))
    name = module_name(path, src)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


def layer(path: Path, src: Path = SRC) -> str:
    rel = path.relative_to(src)
    if rel.parts[0] in ("engine", "serve"):
        return rel.parts[0]
    name = rel.parts[0] if len(rel.parts) > 1 else rel.stem  # a package of the core: its name
    if name in CORE:
        return "pure" if name in PURE else "core"
    if name in OUTER or name == "__init__":
        return "outer"
    raise AssertionError(f"{rel}: in no layer; add it to a layer in {__file__}")


def check_layers(path: Path, src: Path = SRC) -> None:
    """Fail unless the module at ``path`` (in the package at ``src``) keeps its layer's rules."""
    kind = layer(path, src)
    found = imports(path, src)
    mine = {m for m in found if m.startswith("feedwright.")}
    if kind in ("pure", "core"):
        banned = {m for m in found if top(m) in CONCURRENCY | FRAMEWORKS | {"sqlite3"}}
        banned |= {m for m in mine if m.split(".")[1] in ("engine", "serve", "cli", "watch")}
        assert not banned, f"the core imports {sorted(banned)}"
    if kind == "pure":
        io = {m for m in found if top(m) in ("os", "shutil", "tempfile", "time", "fcntl")}
        assert not io, f"a pure module imports {sorted(io)}"
    if kind == "engine":
        banned = {m for m in found if top(m) in FRAMEWORKS}
        banned |= {m for m in mine if m.split(".")[1] in ("serve", "cli", "watch")}
        assert not banned, f"the engine imports {sorted(banned)}"
    if kind in ("serve", "outer"):
        inner = {
            m
            for m in mine
            if m.startswith(INNER_ENGINE) and m[len(INNER_ENGINE) :].split(".")[0] in ENGINE_MODULES
        }
        assert not inner, f"reaches into the engine: {sorted(inner)} (use feedwright.engine)"


#: Calls that look at or open files by name: only these modules make them. The output
#: package is the only code that touches the output folder (the engine asks it what is
#: there: the stat of what it wrote, what is in the way), ``discover`` the only one that
#: reads the source tree, ``config`` reads the config files, the server's file responses
#: read (never write) what a build published, and ``commands`` reads the process table.
FILE_CALLS = {"os.stat", "os.lstat", "os.path.lexists", "os.path.exists", "os.open", "open"}
FILE_MODULES = {"output", "discover", "config", "serve/files", "commands"}


def file_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in FILE_CALLS:
                found.append(f"{name}() at line {node.lineno}")
    return found


def check_file_calls(path: Path, src: Path = SRC) -> None:
    """Fail if the module at ``path`` (in the package at ``src``) looks at files itself
    without being one of :data:`FILE_MODULES`."""
    rel = path.relative_to(src).with_suffix("").as_posix()
    if rel.split("/")[0] in FILE_MODULES or rel in FILE_MODULES:
        return
    assert not file_calls(path), f"{rel} looks at files itself: {file_calls(path)}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_every_module_keeps_its_layers_rules(path):
    check_layers(path)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_output_package_touches_the_output_folder(path):
    check_file_calls(path)


@pytest.mark.parametrize("path", [p for p in modules() if p.stem in PURE], ids=lambda p: p.stem)
def test_pure_modules_never_read_the_clock_or_open_files(path):
    tree = ast.parse(path.read_text("utf-8"))
    calls = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id == "open":
                calls.append("open()")
            if isinstance(func, ast.Attribute) and func.attr in ("now", "today", "utcnow"):
                calls.append(f".{func.attr}()")
    assert not calls, f"{path.name} calls {calls}"


def test_the_rules_can_fail(tmp_path):
    """The checker sees imports inside functions and relative imports, and file calls (in a
    package of its own: nothing is written into src/)."""
    src = tmp_path / "feedwright"
    bad = src / "engine" / "_probe_for_test.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "import os\ndef f(out):\n    from ..serve import app\n    import click\n"
        "    return os.stat(out / 'atom.xml'), open(out / 'x')\n",
        "utf-8",
    )
    found = imports(bad, src)
    assert "feedwright.serve" in found and "click" in found
    with pytest.raises(AssertionError, match="the engine imports"):
        check_layers(bad, src)
    with pytest.raises(AssertionError, match="os.stat.. at line 5"):
        check_file_calls(bad, src)


@pytest.mark.parametrize(
    "path",
    [p for p in modules() if p.relative_to(SRC).parts[0] in ("engine", "output", "config")],
    ids=lambda p: str(p.relative_to(SRC)),
)
def test_the_engine_and_the_output_package_stay_small(path):
    """Issue #16: no module of the engine, the output package or the config package over
    500 lines, no class over 250 (split on the second concern)."""
    text = path.read_text("utf-8")
    assert len(text.splitlines()) <= 500
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno is not None
            assert node.end_lineno - node.lineno + 1 <= 250, node.name
