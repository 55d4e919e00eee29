"""config.yaml: defaults, paths, and an error naming the key path for anything wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from feedwright.cli import cli
from feedwright.config import load_config
from feedwright.errors import ConfigError

VENV_BIN = Path(sys.executable).parent
URL = {"url": "https://news.example"}


def write_config(tmp_path: Path, data: object, name: str = "config.yaml") -> Path:
    path = tmp_path / name
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_config_gets_the_documented_defaults(tmp_path):
    config = load_config(write_config(tmp_path, {"site": URL}))
    assert config.site.url == "https://news.example"
    assert config.site.timezone == "UTC"
    assert config.site.title == "news.example"
    assert config.source == tmp_path.resolve()
    assert config.output == (tmp_path / "feeds").resolve()
    assert config.feeds_url == "https://news.example/feeds/"
    assert config.permalink == "/:categories/:year/:month/:day/:title:output_ext"
    assert config.future is False
    feeds = config.feeds
    assert (feeds.formats, feeds.limit, feeds.content) == (("atom", "rss", "json"), 20, "full")
    assert (feeds.categories, feeds.tags) == (True, True)
    assert (feeds.category_page, feeds.tag_page) == (None, None)  # feeds link to the home page
    assert config.site.timezone_configured is False
    assert config.site.markdown_ext == ("md", "markdown")
    assert config.websub.hubs == ()


def test_paths_resolve_against_the_config_file_and_urls_become_uris(tmp_path, monkeypatch):
    (tmp_path / "conf").mkdir()
    monkeypatch.chdir("/")
    path = write_config(
        tmp_path / "conf",
        {
            "site": {"url": "https://新闻.example/站点/", "timezone": "Asia/Shanghai"},
            "source": "../site",
            "output": "out",
            "feeds_url": "https://cdn.example/订阅",
            "feeds": {"categories": ["株洲日报"], "tags": False, "formats": ["rss", "rss"]},
        },
    )
    config = load_config(path)
    assert config.source == (tmp_path / "site").resolve()
    assert config.output == (tmp_path / "conf" / "out").resolve()
    assert config.site.url == "https://xn--efvy88h.example/%E7%AB%99%E7%82%B9"
    assert config.feeds_url == "https://cdn.example/%E8%AE%A2%E9%98%85/"
    assert (config.feeds.categories, config.feeds.tags) == (("株洲日报",), False)
    assert config.feeds.formats == ("rss",)


def test_bom_in_the_config_file_is_ignored(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"\xef\xbb\xbfsite: {url: 'https://news.example', title: \xe6\xa0\xaa}\n")
    assert load_config(path).site.title == "株"


BAD = [
    # (config, key path, what str(e) says after "config.yaml: <key>: ")
    ({"site": URL, "bogus": 1}, "bogus", "unknown key"),
    ({"site": {**URL, "colour": "red"}}, "site.colour", "unknown key"),
    ({"site": URL, "feeds": {"limt": 3}}, "feeds.limt", "unknown key (did you mean feeds.limit?)"),
    (
        {"site": {**URL, "author": {"name": "a", "mail": "x"}}},
        "site.author.mail",
        "unknown key (did you mean site.author.email?)",
    ),
    (
        {"site": URL, "webhook": {"secret": "s"}},
        "webhook.secret",
        "unknown key (did you mean webhook.secret_env?)",
    ),
    # A key in the wrong section: the hint names where it belongs.
    ({"site": URL, "timezone": "UTC"}, "timezone", "unknown key (did you mean site.timezone?)"),
    ({"site": URL, "lang": "en"}, "lang", "unknown key (did you mean site.language?)"),
    ({"site": {**URL, "limit": 3}}, "site.limit", "unknown key (did you mean feeds.limit?)"),
    ({"site": URL, "feeds": {"limit": "x"}}, "feeds.limit", "expected an integer, got 'x'"),
    ({"site": URL, "feeds": {"limit": 2.5}}, "feeds.limit", "expected an integer, got 2.5"),
    ({"site": URL, "feeds": {"limit": True}}, "feeds.limit", "expected an integer, got True"),
    ({"site": URL, "feeds": {"limit": 0}}, "feeds.limit", "expected an integer ≥ 1, got 0"),
    ({"site": URL, "feeds": {"limit": [1]}}, "feeds.limit", "expected an integer, got a list"),
    ({}, "site.url", "is required"),
    ({"site": {"title": "x"}}, "site.url", "is required"),
    ({"site": {"url": None}}, "site.url", "is required"),
    (
        {"site": {"url": "news.example"}},
        "site.url",
        "expected an absolute http(s) URL, got 'news.example'",
    ),
    (
        {"site": {"url": "ftp://news.example"}},
        "site.url",
        "expected an absolute http(s) URL, got 'ftp://news.example'",
    ),
    ({"site": {"url": ["https://a"]}}, "site.url", "expected a string, got a list"),
    ({"site": "https://news.example"}, "site", "expected a mapping, got 'https://news.example'"),
    (
        {"site": {**URL, "timezone": "Asia/Beijing"}},
        "site.timezone",
        "expected an IANA time zone name, got 'Asia/Beijing'",
    ),
    (
        {"site": {**URL, "timezone": "+08:00"}},
        "site.timezone",
        "expected an IANA time zone name, got '+08:00'",
    ),
    (
        {"site": {**URL, "timezone": "../../etc/passwd"}},
        "site.timezone",
        "expected an IANA time zone name, got '../../etc/passwd'",
    ),
    (
        {"site": {**URL, "timezone": {"name": "UTC"}}},
        "site.timezone",
        "expected a string, got a mapping",
    ),
    (
        {"site": URL, "feeds": {"formats": ["atom", "xml"]}},
        "feeds.formats",
        "expected some of atom, rss, json, got 'xml'",
    ),
    (
        {"site": URL, "feeds": {"formats": ["Atom"]}},
        "feeds.formats",
        "expected some of atom, rss, json, got 'Atom'",
    ),
    (
        {"site": URL, "feeds": {"formats": "atom"}},
        "feeds.formats",
        "expected a list of strings, got 'atom'",
    ),
    (
        {"site": URL, "feeds": {"content": "some"}},
        "feeds.content",
        "expected 'full' or 'summary', got 'some'",
    ),
    (
        {"site": URL, "feeds": {"tags": [["a"]]}},
        "feeds.tags",
        "expected a list of strings, got a list",
    ),
    ({"site": URL, "feeds": "all"}, "feeds", "expected a mapping, got 'all'"),
    ({"site": URL, "future": "yes"}, "future", "expected true or false, got 'yes'"),
    (
        {"site": URL, "permalink": "daily"},
        "permalink",
        "expected a style (date, pretty, ordinal, weekdate, none) "
        "or a template starting with '/', got 'daily'",
    ),
    (
        {"site": URL, "feeds_url": "feeds/"},
        "feeds_url",
        "expected an absolute http(s) URL, got 'feeds/'",
    ),
    (
        {"site": URL, "websub": {"hubs": ["hub.example"]}},
        "websub.hubs",
        "expected an absolute http(s) URL, got 'hub.example'",
    ),
    (
        {"site": URL, "webhook": {"path": "hook"}},
        "webhook.path",
        "expected a path starting with '/', got 'hook'",
    ),
    ({"site": {**URL, "author": ["a"]}}, "site.author", "expected a name or a mapping, got a list"),
    ({"site": {**URL, "author": {"email": "a@b.example"}}}, "site.author.name", "is required"),
    ({"site": URL, "source": ["a"]}, "source", "expected a string, got a list"),
]


@pytest.mark.parametrize("data, key, message", BAD, ids=[f"{k}:{m[:20]}" for _, k, m in BAD])
def test_config_errors_name_the_key_path(tmp_path, data, key, message):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, data))
    assert info.value.key_path == key
    assert str(info.value) == f"config.yaml: {key}: {message}"


@pytest.mark.parametrize(
    "text, message",
    [
        ("site: [unclosed\n", "config.yaml:1: not valid YAML: "),
        ("- a\n- b\n", "config.yaml: expected a mapping at the top level, got a list"),
        ("site: !!python/object/apply:os.system [true]\n", "config.yaml:1: not valid YAML: "),
        (b"site:\n  url: '\xd6\xea'\n", "config.yaml:2: not UTF-8 text; save it as UTF-8"),
    ],
    ids=["yaml", "list", "python-tag", "not-utf8"],
)
def test_unreadable_config_files(tmp_path, text, message):
    path = tmp_path / "config.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml")
    assert str(info.value) == (
        f"{tmp_path / 'nope.yaml'}: cannot read the config file: No such file or directory"
    )


CLI_CASES = [
    ({"site": URL, "feeds": {"limit": "x"}}, "feeds.limit: expected an integer, got 'x'"),
    ({"site": {"title": "无网址"}}, "site.url: is required"),
    (
        {"site": {**URL, "timezone": "Asia/Beijing"}},
        "site.timezone: expected an IANA time zone name, got 'Asia/Beijing'",
    ),
    (
        {"site": URL, "feeds": {"formats": ["atom", "atom1"]}},
        "feeds.formats: expected some of atom, rss, json, got 'atom1'",
    ),
    ({"site": URL, "extra": {"a": 1}}, "extra: unknown key"),
]


@pytest.mark.parametrize("command", ["build", "check", "feeds"])
@pytest.mark.parametrize("data, message", CLI_CASES, ids=[m.split(":")[0] for _, m in CLI_CASES])
def test_cli_exits_2_naming_the_key(tmp_path, command, data, message):
    path = write_config(tmp_path, data)
    result = CliRunner().invoke(cli, [command, "--config", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: config.yaml: {message}\n"
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert not (tmp_path / "feeds").exists()


def test_real_process_exits_2_naming_the_key(tmp_path):
    path = write_config(tmp_path, {"site": {**URL, "timezone": "Mars/Olympus"}})
    run = subprocess.run(
        [str(VENV_BIN / "feedwright"), "build", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert run.stderr == (
        "Error: config.yaml: site.timezone: expected an IANA time zone name, got 'Mars/Olympus'\n"
    )
    assert run.stdout == ""


# --- YAML mistakes: the file, the line where the problem starts, and what to do ---------

YAML_MISTAKES = [
    # (text, line, message after "config.yaml:<line>: not valid YAML: ")
    (
        "site:\n  url: https://x.example\n\ttitle: 标题\n",
        3,
        "a tab indents this line: tabs cannot indent YAML, use spaces",
    ),
    ("site:\n\turl: https://x.example\n", 2, "a tab indents this line: tabs cannot indent YAML"),
    (
        "site:\n  url: https://x.example\n  title 标题\nfeeds:\n  limit: 3\n",
        3,
        "this line is not 'key: value' (no ':' after the key)",
    ),
    ("site:\n  title: '没有结束\n  url: https://x.example\n", 2, "while scanning a quoted scalar"),
    ("feeds:\n  formats: [atom, rss\n  limit: 3\nsite: {}\n", 2, "while parsing a flow sequence"),
    ("site:\n    url: https://x.example\n  title: x\n", 3, "while parsing a block mapping"),
]


@pytest.mark.parametrize("text, line, message", YAML_MISTAKES)
def test_yaml_mistakes_name_the_file_and_the_line_where_they_start(tmp_path, text, line, message):
    path = write_config(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"config.yaml:{line}: not valid YAML: {message}")
    assert "<unicode string>" not in str(info.value) and "\n" not in str(info.value)
    result = CliRunner().invoke(cli, ["build", "--config", str(path)])
    assert result.exit_code == 2
    assert result.stderr == f"Error: {info.value}\n"


def test_a_tab_in_front_matter_says_tabs_cannot_indent_yaml(make_site):
    site = make_site()
    site.post("2022-03-07-a.md", "title: 甲\ntags:\n\t- 株洲\n")
    result = CliRunner().invoke(cli, ["build", "--config", str(site.config_path)])
    assert result.exit_code == 0
    assert result.stderr == (
        "_posts/2022-03-07-a.md:4: invalid YAML in front matter: "
        "a tab indents this line: tabs cannot indent YAML, use spaces\n"
    )


# -- languages and the site's URL (#17.5) -------------------------------------------------------
@pytest.mark.parametrize(
    "given, tag",
    [("zh_CN", "zh-CN"), ("zh-CN", "zh-CN"), ("en_us", "en-US"), ("zh-Hans-CN", "zh-Hans-CN")],
)
def test_the_language_is_a_bcp_47_tag(tmp_path, given, tag):
    config = load_config(write_config(tmp_path, {"site": {**URL, "language": given}}))
    assert config.site.language == tag


def test_a_jekyll_lang_written_as_a_locale_is_a_bcp_47_tag(tmp_path):
    (tmp_path / "site" / "_posts").mkdir(parents=True)
    write_config(tmp_path / "site", {**URL, "lang": "zh_CN"}, name="_config.yml")
    config = load_config(tmp_path / "config.yaml", source=str(tmp_path / "site"), missing_ok=True)
    assert config.site.language == "zh-CN"


@pytest.mark.parametrize(
    "site, key, message",
    [
        (
            {**URL, "language": "chinese"},
            "site.language",
            "expected a BCP 47 language tag such as zh-CN, got 'chinese'",
        ),
        (
            {**URL, "language": "en_US.UTF-8"},
            "site.language",
            "expected a BCP 47 language tag such as zh-CN, got 'en_US.UTF-8'",
        ),
        (
            {"url": "https://news.example/?s=1"},
            "site.url",
            "expected a URL without a query (?…), got 'https://news.example/?s=1'",
        ),
        (
            {"url": "https://news.example/#top"},
            "site.url",
            "expected a URL without a fragment (#…), got 'https://news.example/#top'",
        ),
        (
            {"url": "https://news.example/my site"},
            "site.url",
            "expected a URL without white space, got 'https://news.example/my site'",
        ),
        (
            {"url": "https://news.example:80a"},
            "site.url",
            "expected a URL without a port that is not a number 1–65535, "
            "got 'https://news.example:80a'",
        ),
        (
            {"url": "https://news.example:70000"},
            "site.url",
            "expected a URL without a port that is not a number 1–65535, "
            "got 'https://news.example:70000'",
        ),
    ],
)
def test_a_language_or_site_url_that_would_not_validate_is_a_config_error(
    tmp_path, site, key, message
):
    """Exit 2 naming the key, before anything is built (no id is fixed in the ledger)."""
    path = write_config(tmp_path, {"site": site, "source": "site"})
    (tmp_path / "site" / "_posts").mkdir(parents=True)
    (tmp_path / "site" / "_posts" / "2024-01-01-a.md").write_text("---\ntitle: a\n---\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"config.yaml: {key}: {message}"
    for command in ("build", "check"):
        result = CliRunner().invoke(cli, [command, "--config", str(path)])
        assert (result.exit_code, result.stderr) == (2, f"Error: config.yaml: {key}: {message}\n")
    assert not (tmp_path / "feeds").exists()


def test_a_jekyll_lang_that_is_no_tag_is_named_as_jekyll_names_it(tmp_path):
    (tmp_path / "site" / "_posts").mkdir(parents=True)
    write_config(tmp_path / "site", {**URL, "lang": "Chinese"}, name="_config.yml")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "config.yaml", source=str(tmp_path / "site"), missing_ok=True)
    assert str(info.value) == (
        "_config.yml: lang: expected a BCP 47 language tag such as zh-CN, got 'Chinese'"
    )


# -- warnings that name the line (#19.5) --------------------------------------------------------
def test_a_key_given_twice_is_a_warning_naming_its_lines(tmp_path):
    text = (
        "site:\n  url: https://old.example\n  title: 站\n  url: https://news.example\n"
        "feeds:\n  limit: 5\n\nfeeds:\n  limit: 7\n"
    )
    config = load_config(write_config(tmp_path, text))
    assert config.site.url == "https://news.example"  # the last one, as YAML (and Jekyll) say
    assert config.feeds.limit == 7
    assert config.warnings == (
        "config.yaml:4: site.url: given twice (first on line 2); the last one is used",
        "config.yaml:8: feeds: given twice (first on line 5); the last one is used",
    )


@pytest.mark.parametrize(
    "permalink, line",
    [
        (
            "/:categorys/:year/:title.html",
            ":categorys (did you mean :categories?) is no placeholder",
        ),
        ("/:year/:mnth/:title:output_ext", ":mnth (did you mean :month?) is no placeholder"),
    ],
)
def test_an_unknown_placeholder_is_a_warning_naming_the_line(tmp_path, permalink, line):
    path = write_config(tmp_path, f"site:\n  url: https://news.example\n\npermalink: {permalink}\n")
    config = load_config(path)
    assert config.warnings == (
        f"config.yaml:4: permalink: {line}: Jekyll stops on it; feedwright leaves it as text",
    )


def test_config_warnings_are_said_by_build_and_check_and_the_placeholder_stays_text(make_site):
    site = make_site(permalink="/:categorys/:year/:month_:day/:title.html")
    site.post("2024-05-06-a.md", {"title": "a", "date": "2024-05-06 10:00:00 +0800"})
    text = site.config_path.read_text(encoding="utf-8") + "future: false\nfuture: false\n"
    site.config_path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("permalink: /:categorys/:year/:month_:day/:title.html") + 1
    expected = [
        f"warning: config.yaml:{line}: permalink: :categorys (did you mean :categories?) is no "
        "placeholder: Jekyll stops on it; feedwright leaves it as text",
        f"warning: config.yaml:{line + 2}: future: given twice (first on line {line + 1}); "
        "the last one is used",
    ]
    for command in ("build", "check"):
        result = CliRunner().invoke(cli, [command, "--config", str(site.config_path)])
        assert result.exit_code == 0, result.output
        warnings = sorted(x for x in result.stderr.splitlines() if x.startswith("warning:"))
        assert warnings == sorted(expected)
    assert [e.link for e in site.feed("atom.xml").entries] == [
        "https://news.example/:categorys/2024/05_06/a.html"
    ]


def test_a_posts_own_permalink_with_an_unknown_placeholder_is_named(make_site):
    site = make_site()
    site.post("2024-05-06-a.md", "title: a\npermalink: /:yaer/:title/\n")
    report = site.build()
    assert report.distinct_warnings == (
        "_posts/2024-05-06-a.md:3: permalink: :yaer (did you mean :year?) is no placeholder; "
        "left as text",
    )
