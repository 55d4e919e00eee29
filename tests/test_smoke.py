from conftest import NOW


def test_seed_like_post_builds_valid_feeds(make_site):
    site = make_site()
    site.post(
        "2022-03-07-NW1.md",
        {
            "title": "切实提高",
            "date": "2022-03-07 08:30:46 +0800",
            "categories": "zhuzhouribao",
            "tags": "株洲日报新闻",
        },
    )
    report = site.build(now=NOW)
    assert report.rejected == 0
    feed = site.feed("atom.xml")
    assert feed.entries[0].title == "切实提高"
    assert feed.entries[0].link == "https://news.example/zhuzhouribao/2022/03/07/NW1.html"
