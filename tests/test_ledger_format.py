"""The id ledger's file, read three ways that must agree (issue #18, point 1).

- the fast reading (one regular expression over the whole file, in C) answers exactly what
  the line-by-line reading answers, wherever it answers at all, and it answers for every
  plain file feedwright writes;
- one line read alone (the partial read at the offsets the cache keeps) is the row the
  whole file gives it;
- a file feedwright wrote (whole, then appended to), cut at any byte, gives the rows of
  an earlier whole file or stops; read as the file of a build that did not finish, it
  gives the rows of the file before the torn append.
"""

from __future__ import annotations

import zlib

from hypothesis import given, settings
from hypothesis import strategies as st

from feedwright.errors import LedgerError
from feedwright.ledger import (
    GONE,
    HEADER,
    Row,
    format_changes,
    format_ledger,
    load_ledger,
    parse_line,
)
from feedwright.ledger import file as ledger_file

WHERE = "out/.feedwright/ids"

#: Paths of posts, plain and awkward (escapes, a leading "#", not UTF-8, "end", empty).
PATHS = [
    "_posts/2022-03-07-a.md",
    "_posts/2022-03-07-b.md",
    "news/_posts/2022-03-08-株洲.md",
    "_posts/2022-03-09-with space.md",
    "_posts/tab\there.md",
    "_posts/new\nline.md",
    "_posts/back\\slash.md",
    "_posts/carriage\rreturn.md",
    "_posts/not-utf8-\udcff.md",
    " _posts/space-first.md",
    "#news/_posts/2022-03-07-a.md",
    "end",
    "",
]
SHAS = ["0" * 32, "0123456789abcdef" * 2, "f" * 32]
BAD_SHAS = ["F" * 32, "0" * 31, "0" * 33, "", "g" * 32, GONE]
IDS = [
    "https://news.example/news/2022/03/07/a.html",
    "tag:news.example,2022:own",
    "https://news.example/%E6%A0%AA.html",
    "https://news.example/a\\b",
    "https://news.example/株",
]
BAD_IDS = ["", "two words", "trailing ", GONE]


def sealed(body: str) -> str:
    """``body`` with the checksum feedwright gives it."""
    return f"{body}\t{zlib.crc32(body.encode('utf-8', 'surrogateescape')):08x}"


def text(line: bytes) -> str:
    return line.decode("utf-8", "surrogateescape").removesuffix("\n")


written = st.builds(
    lambda path, sha, entry_id: text(ledger_file.format_line(path, Row(sha, entry_id))),
    st.sampled_from(PATHS),
    st.sampled_from(SHAS),
    st.sampled_from(IDS),
)
removal = st.sampled_from(PATHS).map(lambda path: text(ledger_file.format_line(path, None)))
field = st.sampled_from(PATHS + SHAS + BAD_SHAS + IDS + BAD_IDS + ["\\x", "a\\", "\\\\t", "\\#"])
raw = st.lists(field, min_size=1, max_size=4).map("\t".join)
damaged = st.tuples(written, st.integers(0, 200), st.sampled_from(["", "x", "0", "\t"])).map(
    lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
)
other = st.sampled_from(["", "   ", "# a comment", "  # indented", "\t", "end", "end ", "END"])
lines = st.one_of(written, written, written, removal, raw.map(sealed), raw, damaged, other)
headers = st.sampled_from(
    [HEADER, HEADER, "feedwright-ids 1", "feedwright-ids 2", "feedwright-ids 4", "#" + HEADER]
)
#: Lines the fast reading reads (a few paths, so that rows repeat and are removed), and
#: now and then one it must leave to the line-by-line reading.
FEW = ["_posts/2022-03-07-a.md", "_posts/2022-03-07-b.md", "news/_posts/2022-03-08-株洲.md"]
plain_row = st.builds(
    lambda path, sha, entry_id: text(ledger_file.format_line(path, Row(sha, entry_id))),
    st.sampled_from(FEW),
    st.sampled_from(SHAS),
    st.sampled_from(IDS[:3]),
)
plain_removal = st.sampled_from(FEW).map(lambda path: text(ledger_file.format_line(path, None)))
plain = st.one_of(*[plain_row] * 6, plain_removal, st.just("end"), st.just("# a comment"))
#: One byte of a plain line changed (its checksum then does not match), or fields that
#: are wrong with a checksum that matches, or any line at all.
edited = st.tuples(plain_row | plain_removal, st.integers(0, 150), st.sampled_from("a0-/:")).map(
    lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1 :]
)
wrong = st.tuples(st.sampled_from(FEW), field, field).map(lambda t: sealed("\t".join(t)))
odd = st.one_of(edited, edited, wrong, lines)


def encode(header: str, body: list[str], newline: bool) -> bytes:
    return ("\n".join([header, *body]) + ("\n" if newline else "")).encode(
        "utf-8", "surrogateescape"
    )


def agree(data: bytes) -> bool:
    """The fast reading answers what the line-by-line one does, or nothing; whether it
    answered."""
    fast = ledger_file._fast(data) if data.startswith(HEADER.encode() + b"\n") else None
    try:
        slow: object = ledger_file._read(data, WHERE, False)
    except LedgerError as e:
        slow = str(e)
    if fast is not None:
        assert fast == slow, data
    try:
        loaded: object = load_ledger(data, WHERE)
    except LedgerError as e:
        loaded = str(e)
    assert loaded == slow
    return fast is not None


@settings(max_examples=1000, deadline=None)
@given(st.lists(plain, max_size=10), st.lists(st.tuples(st.integers(0, 10), odd), max_size=1))
def test_the_fast_reading_agrees_with_the_line_by_line_one_on_nearly_plain_files(body, odd):
    for at, line in odd:
        body.insert(at, line)
    agree(encode(HEADER, [*body, "end"], True))


@settings(max_examples=1000, deadline=None)
@given(headers, st.lists(lines, max_size=8), st.booleans())
def test_the_fast_reading_agrees_with_the_line_by_line_one_wherever_it_answers(
    header, body, newline
):
    data = encode(header, body, newline)
    agree(data)


# -- Files as feedwright writes them: whole, then appended to, build after build ------------
plain_paths = st.text(st.sampled_from(list("ab株洲-_/. 0")), min_size=1, max_size=6).map(
    lambda name: f"_posts/2022-03-07-{name}.md"
)
any_paths = st.one_of(plain_paths, st.sampled_from([p for p in PATHS if p]))


def histories(
    paths: st.SearchStrategy[str], ids: list[str] = IDS
) -> st.SearchStrategy[tuple[bytes, list[int], list]]:
    """A file written whole, then appended to by builds; where each write ends, and the
    rows the file holds there."""

    def make(start: dict[str, tuple[str, str]], builds: list) -> tuple[bytes, list[int], list]:
        current = {path: Row(*row) for path, row in start.items()}
        data = format_ledger(current)
        ends, states = [len(data)], [dict(current)]
        for changes in builds:
            appended: dict[str, Row | None] = {}
            for path, sha in changes.items():
                if sha is None:
                    if path in current:
                        appended[path] = None
                        del current[path]
                elif current.get(path, Row("", "")).sha != sha:
                    row = Row(sha, current[path].id if path in current else ids[0])
                    appended[path] = current[path] = row
            if appended:  # (a build that changes nothing appends nothing)
                data += format_changes(appended)
                ends.append(len(data))
                states.append(dict(current))
        return data, ends, states

    rows = st.dictionaries(paths, st.tuples(st.sampled_from(SHAS), st.sampled_from(ids)))
    changes = st.dictionaries(paths, st.none() | st.sampled_from(SHAS), max_size=4)
    return st.builds(make, rows, st.lists(changes, max_size=3))


@settings(max_examples=300, deadline=None)
@given(histories(plain_paths, IDS[:3]))  # (no escape, ASCII ids)
def test_the_fast_reading_answers_for_every_plain_file_feedwright_writes(history):
    data, _ends, states = history
    fast = ledger_file._fast(data)
    assert fast is not None and fast.rows == states[-1]
    assert fast == ledger_file._read(data, WHERE, False)


@settings(max_examples=300, deadline=None)
@given(histories(any_paths))
def test_one_line_read_alone_is_the_row_the_whole_file_gives(history):
    data, _ends, states = history
    assert load_ledger(data, WHERE).rows == states[-1]
    rows: dict[str, Row] = {}
    for raw in data.splitlines(keepends=True)[2:]:
        if raw == b"end\n":
            assert parse_line(raw) is None
            continue
        parsed = parse_line(raw)
        assert parsed is not None, raw
        path, row = parsed
        if row is None:
            del rows[path]
        else:
            rows[path] = row
        assert parse_line(raw[:-1]) is None  # without its newline: cut
        assert parse_line(raw[:-2] + bytes([raw[-2] ^ 1]) + b"\n") is None  # one bit off
    assert rows == states[-1]


@settings(max_examples=150, deadline=None)
@given(histories(any_paths))
def test_a_cut_at_any_byte_gives_the_rows_of_an_earlier_whole_file_or_stops(history):
    data, ends, states = history
    for cut in range(len(data)):
        try:
            loaded = load_ledger(data[:cut], WHERE)
        except LedgerError:
            pass
        else:  # exactly as an earlier write left it
            assert cut in ends and loaded.rows == states[ends.index(cut)], cut
        # as a build that did not finish left it: the lines after the last "end" (its torn
        # append) are dropped, never read
        try:
            loaded = load_ledger(data[:cut], WHERE, unfinished=True)
        except LedgerError:
            assert cut < ends[0], cut  # inside the file written whole: not an append
        else:
            before = max(i for i, end in enumerate(ends) if end <= cut)
            assert loaded.rows == states[before], cut
            assert (loaded.dropped is None) == (cut == ends[before]), cut
