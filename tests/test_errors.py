"""One error hierarchy: every error says where, has a default message, and reaches the CLI
as one line with the right exit code."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import check_tree

import feedwright
from feedwright.cli import cli
from feedwright.config import load_config
from feedwright.errors import (
    ConfigError,
    FeedwrightError,
    LedgerError,
    OptionError,
    OutputError,
    PostError,
    ServeError,
)
from feedwright.frontmatter import split
from feedwright.output import safe_join

# Import every module so that every subclass defined anywhere is registered.
for _module in pkgutil.iter_modules(feedwright.__path__):
    if not _module.name.startswith("_"):  # __main__ would run the CLI
        importlib.import_module(f"feedwright.{_module.name}")


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


#: How to build each error class, and the place its str() must name.
EXAMPLES = {
    ConfigError: (("config.yaml", "feeds.limit"), "config.yaml: feeds.limit"),
    PostError: (("_posts/2022-03-07-株洲.md", 7), "_posts/2022-03-07-株洲.md:7"),
    OutputError: (("tags/株洲/atom.xml",), "tags/株洲/atom.xml"),
    OptionError: (("--source",), "--source"),
    LedgerError: (("out/.feedwright/ids", 3), "out/.feedwright/ids:3"),
    ServeError: (("127.0.0.1:8000",), "127.0.0.1:8000"),
}


def test_every_error_class_has_an_example():
    assert set(_subclasses(FeedwrightError)) == set(EXAMPLES)


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda c: c.__name__)
def test_str_names_the_place_with_and_without_a_message(cls):
    args, where = EXAMPLES[cls]
    error = cls(*args, "went wrong")
    assert str(error) == f"{where}: went wrong"
    assert error.message == "went wrong"
    default = cls(*args)
    assert default.message == cls.default_message != FeedwrightError.default_message
    assert str(default) == f"{where}: {cls.default_message}"
    assert isinstance(error, FeedwrightError)
    assert "\n" not in str(error)


def test_root_error_and_key_path_less_config_error():
    assert str(FeedwrightError()) == "feedwright failed"
    assert str(FeedwrightError("boom")) == "boom"
    assert str(ConfigError("config.yaml", "", "not valid YAML")) == "config.yaml: not valid YAML"


def test_a_config_error_with_a_line_names_file_and_line():
    error = ConfigError("config.yaml", "", "not valid YAML: x", line=3)
    assert str(error) == "config.yaml:3: not valid YAML: x"
    assert str(ConfigError("c.yaml", "site.url", "bad", line=2)) == "c.yaml:2: site.url: bad"


def test_attributes_are_kept_for_callers():
    error = PostError("_posts/a.md", 3, "bad")
    assert (error.path, error.line, error.message) == ("_posts/a.md", 3, "bad")
    config = ConfigError("c.yaml", "site.url", "is required")
    assert (config.file, config.key_path) == ("c.yaml", "site.url")


def test_real_errors_chain_their_cause(tmp_path: Path):
    with pytest.raises(PostError) as post:
        split("_posts/x.md", b"---\ntitle: [a\n---\n")
    assert isinstance(post.value.__cause__, yaml.YAMLError)
    with pytest.raises(PostError) as decode:
        split("_posts/x.md", b"---\ntitle: \xd6\n---\n")
    assert isinstance(decode.value.__cause__, UnicodeDecodeError)
    with pytest.raises(ConfigError) as config:
        load_config(tmp_path / "missing.yaml")
    assert isinstance(config.value.__cause__, OSError)
    with pytest.raises(OutputError) as output:
        safe_join(tmp_path, "../escape/atom.xml")
    assert str(output.value) == "../escape/atom.xml: refusing a path outside the output folder"


def test_output_error_exits_1_with_one_line(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", {"title": "a"})
    site.out.write_text("a file where the output folder should be", encoding="utf-8")
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {site.out}: cannot create the output folder: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_post_errors_are_printed_once_each_as_path_line_message(make_site):
    site = make_site()
    site.post("2022-03-01-good.md", {"title": "好"})
    site.post("2022-03-07-bad.md", "title: ok\ndate: someday\n")
    site.post("2022-03-08-worse.md", "title: [x\n")
    result = CliRunner().invoke(cli, ["build", "--strict", "--config", str(site.config_path)])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("_posts/")]
    assert lines == [
        "_posts/2022-03-07-bad.md:3: date: cannot read 'someday' as a date "
        "(expected e.g. 2022-03-07 08:30:46 +0800)",
        "_posts/2022-03-08-worse.md:2: invalid YAML in front matter: "
        "did not find expected ',' or ']'",
    ]
    assert "Traceback" not in result.output
    check_tree(site.out)
    assert [e.title for e in site.feed("atom.xml").entries] == ["好"]
