"""Shared fixtures: real sites in tmp_path, and a feed checker that parses every file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import procs
import pytest
import yaml
from lxml import etree

from feedwright.config import Config, load_config
from feedwright.engine import build

HERE = Path(__file__).parent
ROOT = HERE.parent
#: Test data kept in the repository (a real post of the news archive feedwright was made for).
DATA = HERE / "data"
#: The project's own corpus generator (also the benchmarks').
CORPUS = ROOT / "benchmarks" / "corpus.py"
#: A folder beside the repository, in the workspace it is developed in, holding what PyPI and
#: Debian do not have: the W3C feed validator's code and a feed checker built on it. A clone
#: without it runs every test but those, which skip (see :func:`shared_tool`).
SHARED = ROOT.parent / "shared"
#: Whether this is CI's run (``CI`` set): read once, as each test runs without it (``_isolate``).
IN_CI = bool(os.environ.get("CI"))
ATOM = "{http://www.w3.org/2005/Atom}"
_SCHEMA = etree.RelaxNG(etree.parse(str(HERE / "atom.rng")))
#: A fixed "now" for builds in tests (posts after it are in the future).
NOW = datetime(2026, 11, 26, tzinfo=UTC)


#: Every process the test session starts carries this variable in its environment, with a
#: value of the session's own, so the session can find what it left running (and nothing
#: else: other runs on the machine have other values).
SESSION_MARK = "FEEDWRIGHT_TEST_SESSION"
#: The command line of multiprocessing's fork server and resource tracker (and of the
#: workers forked from the server).
_MP_HELPER = "from multiprocessing."
_session = uuid.uuid4().hex
#: What the session left running (see :func:`pytest_sessionfinish`), described.
_left: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    os.environ[SESSION_MARK] = _session
    _signals_reach_children()


#: The signals tests send to the processes they start (Ctrl-C, stop, reload, nginx's quit).
_SENT = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)


def _signals_reach_children() -> None:
    """Give the processes the tests start the default meaning of the signals they are sent,
    however this run was started.

    A shell starts a job in the background with SIGINT and SIGQUIT ignored (``… &`` in a
    script), ``nohup`` with SIGHUP ignored, and so do some CI runners; an ignored signal stays
    ignored in every process started after, and Python then installs no KeyboardInterrupt:
    ``feedwright watch`` would not stop at Ctrl-C, a build would finish instead of aborting.
    A signal this process *catches* is reset to its default in each program it starts, so
    the run catches (and, as before, does nothing with) what it was told to ignore.
    """
    for sig in _SENT:
        if signal.getsignal(sig) == signal.SIG_IGN:
            signal.signal(sig, _ignore)


def _ignore(signum: int, frame: object) -> None:
    """A caught signal that does nothing (see :func:`_signals_reach_children`)."""


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run if a process it started still runs (after a grace of 5 s), and kill it."""
    left = procs.survivors(_left_behind, timeout=5)
    if left:
        _left.append(procs.describe(left))
        procs.kill(left)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _left:
        terminalreporter.write_sep("=", "processes left behind", red=True)
        terminalreporter.write_line("still running after the tests (killed now):")
        terminalreporter.write_line("\n".join(_left))


def _left_behind() -> list[procs.Proc]:
    """The session's processes but this one and its own multiprocessing helpers.

    This process's fork server and resource tracker (from builds run in the tests) end
    when it does; a process any test started that still runs (a ``Popen`` never waited
    for, the pool of a killed ``feedwright``) does not, and is the leak.
    """
    me = os.getpid()
    mine = {
        child
        for helper in procs.children(me)
        if _MP_HELPER in procs.command(helper)
        for child in [helper, *procs.descendants(helper.pid)]
    }
    session = procs.marked(SESSION_MARK, _session)
    return [p for p in session if p.pid != me and p not in mine]


@pytest.fixture(autouse=True)
def _isolate(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("CI", raising=False)


def unavailable(reason: str, *, required: bool) -> None:
    """Skip the test with ``reason``, or fail it where what it needs must be there."""
    if required:
        pytest.fail(f"{reason}, and this run must have it (CI)", pytrace=False)
    pytest.skip(reason)


def shared_tool(relpath: str) -> Path:
    """``../shared/<relpath>``; where it is absent the test skips, but fails under ``CI``
    when ``../shared`` itself is there (CI must run it wherever it can)."""
    path = SHARED / relpath
    if not path.exists():
        unavailable(
            f"needs ../shared/{relpath} (not on PyPI or Debian), absent here",
            required=IN_CI and SHARED.is_dir(),
        )
    return path


def installed(program: str) -> str:
    """The path of ``program``; where it is not installed the test skips, but fails under
    ``CI`` (``.ci/run`` installs it)."""
    found = shutil.which(program) or next(
        (str(p) for d in ("/usr/bin", "/usr/sbin") if (p := Path(d) / program).is_file()), None
    )
    if found is None:
        unavailable(f"needs {program} (Debian package), not installed here", required=IN_CI)
    assert found is not None
    return found


def generate_corpus(out: Path, posts: int, *args: str) -> Path:
    """A synthetic site of ``posts`` posts in ``out`` (``benchmarks/corpus.py``); its
    ``_posts`` folder."""
    command = [sys.executable, str(CORPUS), "--posts", str(posts), "--out", str(out), "--quiet"]
    subprocess.run([*command, *args], check=True, timeout=300)
    return out / "_posts"


def write_post(
    root: Path,
    name: str,
    front_matter: dict[str, Any] | str | None = None,
    body: str = "正文。",
    *,
    folder: str = "_posts",
) -> Path:
    """Write ``root/<folder>/<name>``; front matter as a mapping (YAML-dumped) or raw text."""
    path = root / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if front_matter is None:
        fm = ""
    elif isinstance(front_matter, str):
        fm = front_matter
    else:
        fm = yaml.safe_dump(front_matter, allow_unicode=True, sort_keys=False)
    path.write_text(f"---\n{fm}---\n{body}", encoding="utf-8")
    return path


class Site:
    """A real site folder with a config file, built into ``out``; ``durable`` is what
    :meth:`build` passes to the engine (see :func:`make_site`)."""

    def __init__(self, root: Path, settings: dict[str, Any], *, durable: bool = True) -> None:
        self.root = root
        self.durable = durable
        self.src = root / "site"
        self.out = root / "out"
        self.src.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "config.yaml"
        self.settings = settings
        self.save()

    def save(self) -> None:
        self.config_path.write_text(
            yaml.safe_dump(self.settings, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )

    @property
    def config(self) -> Config:
        return load_config(self.config_path)

    def post(
        self,
        name: str,
        front_matter: dict[str, Any] | str | None = None,
        body: str = "正文。",
        folder: str = "_posts",
    ) -> Path:
        return write_post(self.src, name, front_matter, body, folder=folder)

    def build(self, **kwargs: Any):  # type: ignore[no-untyped-def]
        kwargs.setdefault("now", NOW)
        kwargs.setdefault("durable", self.durable)
        report = build(self.config, **kwargs)
        check_tree(self.out)
        return report

    def read(self, relpath: str) -> bytes:
        return (self.out / relpath).read_bytes()

    def feed(self, relpath: str) -> Any:
        return parse_feed(self.out / relpath)


@pytest.fixture
def make_site(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Site]:
    """Sites whose builds do not sync to the disk (the engine's ``durable=False``: a
    power cut is not what these tests are about, and syncs cost seconds), but in tests
    marked ``durable``."""
    durable = request.node.get_closest_marker("durable") is not None

    def make(**overrides: Any) -> Site:
        settings: dict[str, Any] = {
            "site": {
                "title": "测试站",
                "url": "https://news.example",
                "author": {"name": "编辑部", "email": "ed@news.example"},
                "timezone": "Asia/Shanghai",
                "language": "zh-CN",
            },
            "source": "site",
            "output": "out",
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(settings.get(key), dict):
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
        return Site(tmp_path, settings, durable=durable)

    return make


def atom_problems(data: bytes) -> list[str]:
    """What RFC 4287's schema and its Schematron-only rules say about an Atom document."""
    tree = etree.ElementTree(etree.fromstring(data))
    problems = []
    if not _SCHEMA.validate(tree):
        problems += [f"RELAX NG line {e.line}: {e.message}" for e in _SCHEMA.error_log]
    root = tree.getroot()
    feed_author = root.find(ATOM + "author") is not None
    for entry in root.findall(ATOM + "entry"):
        if not feed_author and entry.find(ATOM + "author") is None:
            problems.append("entry without author")
        alternates = [
            link
            for link in entry.findall(ATOM + "link")
            if link.get("rel", "alternate") == "alternate"
        ]
        if len(alternates) != 1:
            problems.append(f"{len(alternates)} alternate links")
    for el in root.iter(ATOM + "id", ATOM + "link"):
        uri = el.get("href") if el.tag == ATOM + "link" else el.text
        if uri is None or not uri.isascii() or " " in uri:
            problems.append(f"not a URI: {uri!r}")
    return problems


def parse_feed(path: Path) -> Any:
    """Parse one output file with a real parser; fail the test on any problem."""
    data = path.read_bytes()
    if path.suffix == ".json":
        doc = json.loads(data)
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        for item in doc["items"]:
            assert isinstance(item["id"], str)
            assert "content_html" in item or "content_text" in item
        return doc
    if path.suffix == ".opml":
        return etree.fromstring(data)
    if etree.fromstring(data).tag == ATOM + "feed":
        assert atom_problems(data) == [], path
    parsed = feedparser.parse(data)
    assert not parsed.bozo, (path, parsed.get("bozo_exception"))
    return parsed


def check_tree(out: Path) -> None:
    """Every feed file under ``out`` goes through a real parser, every page an HTML5 one."""
    if not out.exists():
        return
    for path in sorted(out.rglob("*")):
        if not path.is_file() or ".feedwright" in path.parts:
            continue
        if path.suffix in (".xml", ".json", ".opml"):
            parse_feed(path)
        elif path.suffix == ".html":
            parse_page(path.read_bytes(), str(path))


def parse_page(data: bytes, name: str = "page") -> Any:
    """An HTML page parsed by html5lib (the WHATWG parsing algorithm), which must report no
    parse error; the document as an ElementTree element (no namespaces)."""
    import html5lib

    parser = html5lib.HTMLParser(tree=html5lib.getTreeBuilder("etree"), namespaceHTMLElements=False)
    doc = parser.parse(data, transport_encoding="utf-8")
    assert parser.errors == [], f"{name}: HTML5 parse errors {parser.errors}"
    assert data.startswith(b"<!DOCTYPE html>\n"), name
    assert b"<script" not in data.lower(), f"{name}: pages need no JavaScript"
    return doc


@pytest.fixture(params=["UTC", "Asia/Shanghai", "America/New_York"])
def process_tz(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test under several process time zones: output must not depend on them."""
    monkeypatch.setenv("TZ", request.param)
    time.tzset()
    yield request.param
    monkeypatch.undo()
    time.tzset()


def mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


__all__ = [
    "CORPUS",
    "DATA",
    "IN_CI",
    "NOW",
    "ROOT",
    "SHARED",
    "Site",
    "atom_problems",
    "check_tree",
    "generate_corpus",
    "installed",
    "mtimes",
    "parse_feed",
    "parse_page",
    "shared_tool",
    "write_post",
]
