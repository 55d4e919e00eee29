"""A Jekyll site's own ``_config.yml``: the defaults ``config.yaml`` overrides, key by key.

Real Jekyll sites in tmp_path, built through the real CLI; every feed goes through a parser.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import check_tree, parse_feed, write_post

from feedwright.cli import cli
from feedwright.config import load_config
from feedwright.discover import discover, skip_reason
from feedwright.errors import ConfigError
from feedwright.posts import parse_post

#: What a Jekyll user's site says about itself (as `jekyll new` writes it, plus a zone).
JEKYLL = {
    "title": "Jekyll 小站",
    "email": "me@example.com",
    "description": "A blog about things",
    "baseurl": "/blog",
    "url": "https://jekyll.example",
    "timezone": "Asia/Shanghai",
    "lang": "zh-CN",
    "author": {"name": "小明", "email": "ming@jekyll.example", "twitter": "ming"},
    "theme": "minima",
    "plugins": ["jekyll-feed"],
    "exclude": ["Gemfile"],
}
NAIVE = {"title": "十点的文章", "date": "2024-05-06 10:00:00", "tags": ["新闻"]}


def jekyll_site(root: Path, settings: dict | None = None, name: str = "_config.yml") -> Path:
    site = root / "mysite"
    site.mkdir(parents=True, exist_ok=True)
    data = JEKYLL if settings is None else settings
    (site / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    write_post(site, "2024-05-06-ten.md", NAIVE)
    return site


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_build_with_no_config_yaml_reads_the_sites_own_config(tmp_path, monkeypatch):
    jekyll_site(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = run("build", "--source", "mysite")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        "1 post, 0 rejected, 6 feeds and feeds.opml written (0 unchanged, 0 removed); "
        "2 pages written (0 unchanged, 0 removed); "
    )
    assert result.stderr == ""  # a zone is set: no warning about naive dates
    out = tmp_path / "feeds"  # relative to where config.yaml would be: the working directory
    check_tree(out)
    atom = parse_feed(out / "atom.xml")
    assert atom.feed.title == "Jekyll 小站"
    assert atom.feed.subtitle == "A blog about things"
    assert atom.feed.language == "zh-CN"
    assert atom.feed.author_detail.name == "小明"
    # baseurl in every URL: self, alternate, entry links and ids.
    assert atom.feed.id == "https://jekyll.example/blog/feeds/atom.xml"
    assert atom.feed.link == "https://jekyll.example/blog/"
    (entry,) = atom.entries
    assert entry.link == "https://jekyll.example/blog/2024/05/06/ten.html"
    assert entry.id == entry.link
    # A date without an offset is wall time in _config.yml's zone, not UTC.
    assert entry.published == "2024-05-06T10:00:00+08:00"
    tag = parse_feed(out / "tags" / "新闻" / "atom.xml")
    assert tag.feed.link == "https://jekyll.example/blog/"  # stock Jekyll has no tag pages
    json_feed = parse_feed(out / "feed.json")
    assert json_feed["home_page_url"] == "https://jekyll.example/blog/"
    assert json_feed["feed_url"] == "https://jekyll.example/blog/feeds/feed.json"
    opml = parse_feed(out / "feeds.opml")
    urls = [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
    assert urls and all(u.startswith("https://jekyll.example/blog/feeds/") for u in urls)


def test_config_yaml_overrides_jekyll_key_by_key(tmp_path):
    jekyll_site(tmp_path)
    config_path = tmp_path / "config.yaml"
    config_path.write_text(
        "site:\n  title: 覆盖的标题\n  timezone: UTC\nsource: mysite\noutput: out\n",
        encoding="utf-8",
    )
    config = load_config(config_path)
    assert config.site.title == "覆盖的标题"  # config.yaml wins…
    assert config.site.timezone == "UTC"
    assert config.site.url == "https://jekyll.example/blog"  # …and _config.yml fills the rest
    assert config.site.description == "A blog about things"
    assert config.site.author.email == "ming@jekyll.example"
    assert config.feeds_url == "https://jekyll.example/blog/feeds/"
    result = run("build", "--config", str(config_path))
    assert result.exit_code == 0, result.output
    check_tree(tmp_path / "out")
    (entry,) = parse_feed(tmp_path / "out" / "atom.xml").entries
    assert entry.published == "2024-05-06T10:00:00+00:00"
    assert entry.link == "https://jekyll.example/blog/2024/05/06/ten.html"


def test_config_yaml_can_take_baseurl_away(tmp_path):
    jekyll_site(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text("site:\n  baseurl: ''\nsource: mysite\n", encoding="utf-8")
    assert load_config(path).site.url == "https://jekyll.example"


def test_check_with_config_pointing_at_the_jekyll_config(tmp_path):
    site = jekyll_site(tmp_path)
    result = run("check", "--config", str(site / "_config.yml"))
    assert (result.exit_code, result.stdout) == (0, "1 post, 0 rejected\n"), result.output
    config = load_config(site / "_config.yml")
    assert config.source == site.resolve()
    assert config.output == (site / "feeds").resolve()  # relative to the config file
    assert config.file == "_config.yml"


def test_jekyll_config_yaml_name_and_permalink_and_locale(tmp_path):
    settings = {
        "url": "https://j.example/",
        "name": "Named site",
        "locale": "en_US",
        "permalink": "pretty",
        "future": True,
    }
    site = jekyll_site(tmp_path, settings, name="_config.yaml")
    config = load_config(tmp_path / "nowhere.yaml", source=str(site), missing_ok=True)
    assert config.site.title == "Named site"
    assert config.site.language == "en-US"
    assert config.permalink == "/:categories/:year/:month/:day/:title/"
    assert config.future is True
    assert config.site.url == "https://j.example"
    assert config.site.timezone_configured is False


@pytest.mark.parametrize(
    "settings, message",
    [
        (
            {**JEKYLL, "timezone": "Asia/Beijing"},
            "_config.yml: timezone: expected an IANA time zone name, got 'Asia/Beijing'",
        ),
        (
            {**JEKYLL, "url": "jekyll.example"},
            "_config.yml: url: expected an absolute http(s) URL, got 'jekyll.example'",
        ),
        ({**JEKYLL, "baseurl": "/a?b"}, "_config.yml: baseurl: expected a path such as /blog"),
        ({k: v for k, v in JEKYLL.items() if k != "url"}, "_config.yml: url: is required"),
        (
            {**JEKYLL, "author": {"name": ["a", "b"]}},
            "_config.yml: author.name: expected a string, got a list",
        ),
    ],
    ids=["timezone", "url", "baseurl", "no-url", "author"],
)
def test_a_bad_jekyll_value_is_named_as_jekyll_names_it(tmp_path, monkeypatch, settings, message):
    jekyll_site(tmp_path, settings)
    monkeypatch.chdir(tmp_path)
    result = run("build", "--source", "mysite")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {message}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "feeds").exists()


def test_a_value_overridden_by_config_yaml_is_named_there(tmp_path):
    jekyll_site(tmp_path)
    path = tmp_path / "config.yaml"
    path.write_text("site:\n  timezone: Mars/Olympus\nsource: mysite\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith("config.yaml: site.timezone: expected an IANA")


def test_broken_jekyll_yaml_names_its_file_and_line(tmp_path, monkeypatch):
    site = tmp_path / "mysite"
    (site / "_posts").mkdir(parents=True)
    (site / "_config.yml").write_text("title: x\nurl https://x.example\nbaseurl: /b\n", "utf-8")
    monkeypatch.chdir(tmp_path)
    result = run("build", "--source", "mysite")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: _config.yml:2: not valid YAML: "), result.stderr
    assert "<unicode string>" not in result.stderr


def test_no_config_yaml_and_no_jekyll_config_says_what_is_missing(tmp_path, monkeypatch):
    (tmp_path / "plain" / "_posts").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    result = run("build", "--source", "plain")
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: config.yaml: cannot read the config file: ")
    assert f"no _config.yml in {(tmp_path / 'plain').resolve()}" in result.stderr
    # An explicit --config that does not exist is never stood in for.
    jekyll_site(tmp_path)
    explicit = run("build", "--config", "config.yaml", "--source", "mysite")
    assert explicit.exit_code == 2 and "No such file or directory" in explicit.stderr


def test_jekyll_markdown_ext_decides_which_files_are_posts(tmp_path):
    site = jekyll_site(tmp_path, {**JEKYLL, "markdown_ext": "mkd, md"})
    write_post(site, "2024-05-07-mkd.mkd", {"title": "mkd 文章"}, "*强调*")
    write_post(site, "2024-05-07-long.markdown", {"title": "不是文章"})
    config = load_config(site / "_config.yml")
    assert config.site.markdown_ext == ("mkd", "md")
    found = discover(config.source, markdown_ext=config.site.markdown_ext)
    assert [p.relpath for p in found.posts] == [
        "_posts/2024-05-06-ten.md",
        "_posts/2024-05-07-mkd.mkd",
    ]
    assert found.ignored == ["_posts/2024-05-07-long.markdown"]
    assert skip_reason("2024-05-07-long.markdown", config.site.markdown_ext) == (
        "not a post extension (posts end in .mkd, .md, .html, .htm)"
    )
    raw = found.posts[1]
    post = parse_post(raw, Path(raw.abspath).read_bytes(), config)
    assert post.markup == "markdown"


def test_jekyll_markdown_ext_posts_are_published(tmp_path):
    site = jekyll_site(tmp_path, {**JEKYLL, "markdown_ext": "mkd,md"})
    write_post(site, "2024-05-07-mkd.mkd", {"title": "mkd 文章"}, "*强调*")
    result = run("build", "--config", str(site / "_config.yml"))
    assert result.exit_code == 0, result.output
    titles = [e.title for e in parse_feed(site / "feeds" / "atom.xml").entries]
    assert titles == ["mkd 文章", "十点的文章"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("md,", "expected extensions such as 'md,markdown', got 'md,'"),
        (["md", 3], "expected extensions such as 'md,markdown', got a list"),
        ("m d", "expected extensions such as 'md,markdown', got 'm d'"),
    ],
)
def test_bad_markdown_ext_is_a_config_error(tmp_path, value, message):
    path = tmp_path / "config.yaml"
    site = {"url": "https://x.example", "markdown_ext": value}
    path.write_text(yaml.safe_dump({"site": site}), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"config.yaml: site.markdown_ext: {message}"


def test_a_jekyll_site_without_posts_folder_is_named_by_its_config_file(tmp_path):
    site = tmp_path / "mysite"
    site.mkdir()
    (site / "_config.yml").write_text("url: https://x.example\n", encoding="utf-8")
    result = run("build", "--config", str(site / "_config.yml"))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: _config.yml: no _posts folder in {site.resolve()} ")
