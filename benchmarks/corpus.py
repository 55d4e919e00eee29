#!/usr/bin/env python3
"""A synthetic Jekyll site of Chinese news posts: the benchmarks' corpus, and the tests'.

    python3 benchmarks/corpus.py --posts 10000 --out /tmp/c10k
    python3 benchmarks/corpus.py --posts 20000 --out /tmp/tagged --tags 2000   # tag-heavy

Standard library only; the same arguments write the same bytes. It writes
``OUT/_config.yml`` (title, url, time zone, a ``:categories`` permalink) and one file a
post, ``OUT/_posts/YYYY-MM-DD-NNNNNNN.md``, shaped like the news archive feedwright was
built for (``tests/data/`` holds one of its real posts)::

    ---
    layout: post
    title: "县报道农村改革"
    date: 2022-03-07 08:30:46 +0800
    categories: zhuzhouribao
    tags: [株洲日报新闻, 乡村振兴]
    ---
    <p>…</p>                        8 to 20 paragraphs of Chinese text, one a line
    <http://finews.example/html_News/NewsShare.html?infoCode=NW…>

    [返回株洲日报新闻](//finews.example/category/zhuzhouribao.html)｜[返回首页](//finews.example/)

The data:

- 60 categories (newspapers, named in pinyin), drawn with Zipf-like popularity (s = 1); about
  3 % of posts are in a second one too (``categories: [a, b]``);
- 1 to 3 tags a post: usually its newspaper's tag (``<name>新闻``), then topic tags drawn
  with Zipf-like popularity from ``--tags`` topics (default 340, so ~400 tags in all; more
  make a tag-heavy site whose many tags are mostly rare). One tag is a scalar, more a flow
  list: every reader sees the same tag set;
- dates uniform over 2015–2026, at any second of the day, written with ``+0800`` (the
  file name has the local date);
- 1.5 to 6 KB a file (UTF-8).
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
import time
from bisect import bisect_left
from datetime import datetime, timedelta, timezone
from pathlib import Path

#: The cities the newspapers are from (pinyin, characters) and the kinds of paper.
CITIES = [
    ("zhuzhou", "株洲"), ("xiangtan", "湘潭"), ("changsha", "长沙"), ("hengyang", "衡阳"),
    ("yueyang", "岳阳"), ("changde", "常德"), ("yiyang", "益阳"), ("loudi", "娄底"),
    ("shaoyang", "邵阳"), ("chenzhou", "郴州"), ("yongzhou", "永州"), ("huaihua", "怀化"),
    ("wuhan", "武汉"), ("nanchang", "南昌"), ("guangzhou", "广州"), ("chengdu", "成都"),
    ("hangzhou", "杭州"), ("nanjing", "南京"), ("jinan", "济南"), ("xian", "西安"),
]  # fmt: skip
KINDS = [("ribao", "日报"), ("wanbao", "晚报"), ("chenbao", "晨报")]
#: Subjects of topic tags; with the regions below they make as many tags as asked for.
SUBJECTS = (
    "乡村振兴 经济发展 教育改革 文化旅游 生态环境 安全生产 交通出行 医疗卫生 科技创新 城市建设 "
    "民生实事 基层治理 社会保障 就业创业 营商环境 农业农村 工业制造 体育赛事 文明创建 防汛抗旱 "
    "消防安全 食品安全 法治建设 志愿服务 人才引进 数字经济 新能源 轨道交通 住房保障 养老服务 "
    "妇女儿童 青少年 对外开放 气象预报 水利建设 电力供应 金融服务 市场监管 知识产权 新闻出版 "
    "非遗传承 考古发现 博物馆 全民阅读 高考 职业教育 学前教育 校园安全 科普活动 航空航天 "
    "新材料 生物医药 电子信息 物流快递 电子商务 夜间经济 消费促进 春节 中秋节 国庆节 "
    "重点项目 园区建设 产业链 小微企业 农民工 高校毕业生 困难群众 道德模范 天气 暴雨 "
    "高温 寒潮 交通事故 反诈 社区 垃圾分类 老旧小区 公交 地铁 高铁 机场 高速公路"
).split()
#: The default number of topic tags.
TOPICS = 340
HOST = "finews.example"
#: Posts are dated in [START, END), written in this offset.
START = datetime(2015, 1, 1, tzinfo=timezone(timedelta(hours=8)))
END = datetime(2027, 1, 1, tzinfo=timezone(timedelta(hours=8)))
CLAUSE_ENDS = "，，，，，。。。、；"
CONFIG = f"""\
title: "新闻存档"
description: "报纸新闻存档（合成的基准语料）"
url: "https://{HOST}"
baseurl: ""
timezone: Asia/Shanghai
permalink: /:categories/:year/:month/:day/:title:output_ext
markdown: kramdown
"""


def newspapers() -> list[tuple[str, str]]:
    """The 60 newspapers, most popular first: ``(slug, name)``."""
    return [
        (slug + kind, name + kind_name)
        for (kind, kind_name), (slug, name) in itertools.product(KINDS, CITIES)
    ]


def topic_tags(count: int) -> list[str]:
    """``count`` distinct topic tags, most popular first: the subjects, then each subject
    in each region (``株洲乡村振兴``), then numbered series (``乡村振兴第2辑``)."""
    regions = [name for _slug, name in CITIES]
    tags = list(SUBJECTS)
    tags += [region + subject for subject in SUBJECTS for region in regions]
    series = 2
    while len(tags) < count:
        tags += [f"{subject}第{series}辑" for subject in SUBJECTS]
        series += 1
    return tags[:count]


def zipf(n: int) -> list[float]:
    """Cumulative weights of ranks 1…n with popularity 1/rank."""
    return list(itertools.accumulate(1 / rank for rank in range(1, n + 1)))


def characters(rng: random.Random) -> str:
    """GB2312's 3,755 level-1 characters (the common ones), in a random order: the first
    ones are drawn most (Zipf-like) when text is made."""
    chars = [
        bytes([high, low]).decode("gb2312")
        for high in range(0xB0, 0xD8)
        for low in range(0xA1, 0xFF)
        if (high, low) < (0xD7, 0xFA)
    ]
    rng.shuffle(chars)
    return "".join(chars)


def text_pool(rng: random.Random, size: int) -> str:
    """``size`` characters of clauses (4 to 17 characters) each ended by a punctuation mark;
    titles and paragraphs are cut out of it."""
    chars = characters(rng)
    weights = list(itertools.accumulate(1 / (rank**0.6) for rank in range(1, len(chars) + 1)))
    parts: list[str] = []
    length = 0
    while length < size:
        clause = rng.choices(chars, cum_weights=weights, k=rng.randint(4, 17))
        parts += [*clause, rng.choice(CLAUSE_ENDS)]
        length += len(clause) + 1
    return "".join(parts)


class Writer:
    """Draws posts one after another (``--seed`` fixes the draws)."""

    def __init__(self, seed: int, topics: int) -> None:
        self.rng = random.Random(seed)
        self.pool = text_pool(self.rng, 1_000_000)
        self.papers = newspapers()
        self.paper_weights = zipf(len(self.papers))
        self.topics = topic_tags(topics)
        self.topic_weights = zipf(len(self.topics))
        self.seconds = int((END - START).total_seconds())

    def _rank(self, weights: list[float]) -> int:
        """A rank drawn by its cumulative ``weights``."""
        return bisect_left(weights, self.rng.random() * weights[-1])

    def _cut(self, length: int) -> str:
        """A piece of the text pool of about ``length`` characters, with no punctuation at
        either end."""
        at = self.rng.randrange(len(self.pool) - length - 2)
        return self.pool[at : at + length + 2].strip("，。、；")[:length]

    def post(self, number: int) -> tuple[str, str]:
        """The file name and text of post ``number``."""
        rng = self.rng
        when = START + timedelta(seconds=rng.randrange(self.seconds))
        slug, name = self.papers[self._rank(self.paper_weights)]
        categories = [slug]
        if rng.random() < 0.03:
            other = self.papers[self._rank(self.paper_weights)][0]
            if other != slug:
                categories.append(other)
        tags = [name + "新闻"] if rng.random() < 0.85 else []
        wanted = rng.randint(1, 3)
        while len(tags) < wanted:
            tag = self.topics[self._rank(self.topic_weights)]
            if tag not in tags:
                tags.append(tag)
        title = self._cut(rng.randint(6, 23)) or name
        paragraphs = rng.randint(8, 20)
        size = rng.randint(1500, 6000)  # bytes, ~3 a character; ~450 go to the rest
        chars = max(6 * paragraphs, (size - 450 - 11 * paragraphs) // 3)
        cuts = sorted(rng.sample(range(1, chars), paragraphs - 1))
        lengths = [b - a for a, b in zip([0, *cuts], [*cuts, chars], strict=True)]
        body = "\n".join(f"<p>{self._cut(max(6, n))}。</p>" for n in lengths)
        info = f"NW{when:%Y%m%d}{rng.randrange(10**10):010d}"
        text = (
            "---\nlayout: post\n"
            f'title: "{title}"\n'
            f"date: {when:%Y-%m-%d %H:%M:%S %z}\n"
            f"categories: {flow(categories)}\n"
            f"tags: {flow(tags)}\n"
            "---\n"
            f"{body}\n"
            f"<http://{HOST}/html_News/NewsShare.html?infoCode={info}>\n\n"
            f"[返回{name}新闻](//{HOST}/category/{slug}.html)｜[返回首页](//{HOST}/)\n"
        )
        return f"{when:%Y-%m-%d}-{number:07d}.md", text


def flow(items: list[str]) -> str:
    """One item as a YAML scalar, more as a flow list."""
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def generate(out: Path, posts: int, *, seed: int = 1, tags: int = TOPICS) -> None:
    """Write the site: ``out/_config.yml`` and ``posts`` posts in ``out/_posts``."""
    folder = out / "_posts"
    folder.mkdir(parents=True, exist_ok=True)
    (out / "_config.yml").write_text(CONFIG, "utf-8")
    writer = Writer(seed, tags)
    for number in range(posts):
        name, text = writer.post(number)
        (folder / name).write_text(text, "utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, required=True, help="how many posts")
    parser.add_argument("--out", type=Path, required=True, help="the site folder (created)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--tags",
        type=int,
        default=TOPICS,
        help=f"topic tags to draw from (default {TOPICS}); e.g. 2000 for a tag-heavy site",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing")
    args = parser.parse_args(argv)
    if args.posts < 0 or args.tags < 1:
        parser.error("--posts must be 0 or more, --tags 1 or more")
    started = time.monotonic()
    generate(args.out, args.posts, seed=args.seed, tags=args.tags)
    if not args.quiet:
        seconds = time.monotonic() - started
        print(f"wrote {args.posts} posts to {args.out} in {seconds:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
