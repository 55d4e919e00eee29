"""Pure: the published groups → ``feeds.opml`` (OPML 2.0), so a reader can subscribe to a
whole site at once.

Each group is listed **once**, by its feed in ``feeds.opml_format`` (Atom unless configured
otherwise): a reader imports an OPML file as one subscription per outline, so listing every
format subscribed to each group three times over. ``feedwright feeds`` lists every file.
"""

from __future__ import annotations

from collections.abc import Sequence

from lxml import etree

from .config import Config
from .layout import LABELS, feed_relpath, feed_url, group_page, group_title
from .model import Group

_SECTIONS = (("site", None), ("category", "Categories"), ("tag", "Tags"))


def render_opml(config: Config, groups: Sequence[Group]) -> bytes:
    """The subscription list: the site's feed first, then a ``Categories`` and a ``Tags``
    outline holding one subscription per group (none without ``feeds.formats``)."""
    root = etree.Element("opml", version="2.0")
    head = etree.SubElement(root, "head")
    etree.SubElement(head, "title").text = config.site.title
    etree.SubElement(head, "ownerName").text = config.site.author.name
    if config.site.author.email:
        etree.SubElement(head, "ownerEmail").text = config.site.author.email
    body = etree.SubElement(root, "body")
    fmt = config.feeds.opml_format
    for kind, label in _SECTIONS:
        members = [g for g in groups if g.kind == kind]
        if not members or fmt is None:
            continue
        parent = body if label is None else etree.SubElement(body, "outline", text=label)
        for group in members:
            title = group_title(config, group.kind, group.name)
            etree.SubElement(
                parent,
                "outline",
                type="rss",  # OPML 2.0's type of a subscription, whatever the format
                version=LABELS[fmt],
                text=title,
                title=title,
                xmlUrl=feed_url(config, feed_relpath(group.key, fmt)),
                htmlUrl=group_page(config, group.key),
            )
    data: bytes = etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8")
    return data
