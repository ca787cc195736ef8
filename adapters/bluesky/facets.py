"""Rich-text facets: find mentions, links and #hashtags in post text, with UTF-8 byte offsets.

Follows the detection rules of Bluesky's own client (``@atproto/api`` ``RichText.detectFacets``):
a mention is ``@`` + a syntactically valid handle after a start, space or ``(``; a link is an
``http(s)://`` URL or a bare domain with a known top-level domain (which becomes ``https://``),
minus trailing punctuation; a tag is ``#`` (or the fullwidth number sign) + up to 64
characters that are not all digits or punctuation. Offsets count bytes of the UTF-8 text, as
the lexicon says (``app.bsky.richtext.facet#byteSlice``), so emoji and accented letters count
right.
Mentions come back with their handle; the adapter resolves handles to DIDs.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Candidate", "byte_offsets", "detect", "facet"]

FACET = "app.bsky.richtext.facet"
MAX_TAG_CHARS = 64

_MENTION = re.compile(r"(?:^|(?<=[\s(]))@([a-zA-Z0-9.-]+)\b")
_HANDLE = re.compile(
    r"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_URL = re.compile(
    r"(?:^|(?<=[\s(]))(?:(https?://\S+)|(([a-z][a-z0-9]*(?:\.[a-z0-9]+)+)\S*))", re.IGNORECASE
)
# Bare domains are only linked for these top-level domains (the official client uses the full
# IANA list; a short one avoids linking "file.py" or "v1.2").
_TLDS = frozenset(
    """ai app art au be blog br ca cat ch cloud cn co com de dev dk edu es eu fi fm fr gg gov
    id ie in info io it jp kr me mx net news nl no nz org pl pt ru se sh site social tech tv uk
    us xyz za""".split()
)
_TAG = re.compile(r"(?:^|(?<=\s))[#\uff03]([^\s\u00ad\u2060\u200a\u200b\u200c\u200d\u20e2]+)")
_TRAILING_LINK = ".,;:!?"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One detected feature; ``start``/``end`` are UTF-8 byte offsets, end exclusive."""

    kind: Literal["mention", "link", "tag"]
    start: int
    end: int
    value: str  # handle (no "@"), full URI, or tag (no "#")


def byte_offsets(text: str) -> list[int]:
    """``offsets[i]`` is the UTF-8 byte offset of character ``i`` (one past the end too)."""
    offsets = [0] * (len(text) + 1)
    total = 0
    for i, char in enumerate(text):
        offsets[i] = total
        total += len(char.encode("utf-8", "surrogatepass"))
    offsets[len(text)] = total
    return offsets


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char).startswith("P")


def detect(text: str) -> list[Candidate]:
    """Mentions, links and tags in ``text``, ordered by position, never overlapping."""
    at = byte_offsets(text)
    found: list[Candidate] = []
    for match in _MENTION.finditer(text):
        handle = match.group(1)
        if _HANDLE.match(handle):
            found.append(Candidate("mention", at[match.start()], at[match.end()], handle.lower()))
    for match in _URL.finditer(text):
        start = match.start(1) if match.group(1) else match.start(2)
        uri = match.group(1) or match.group(2)
        if not match.group(1):
            tld = match.group(3).rsplit(".", 1)[-1].lower()
            if tld not in _TLDS:
                continue
        while uri and (uri[-1] in _TRAILING_LINK or (uri[-1] == ")" and "(" not in uri)):
            uri = uri[:-1]
        end = start + len(uri)
        if not match.group(1):
            uri = "https://" + uri
        found.append(Candidate("link", at[start], at[end], uri))
    for match in _TAG.finditer(text):
        tag = match.group(1)
        while tag and _is_punctuation(tag[-1]):
            tag = tag[:-1]
        if (
            not tag
            or tag.startswith("\ufe0f")
            or len(tag) > MAX_TAG_CHARS
            or all(c.isdigit() or _is_punctuation(c) for c in tag)
        ):
            continue
        start = match.start()
        found.append(Candidate("tag", at[start], at[start + 1 + len(tag)], tag))
    found.sort(key=lambda c: (c.start, c.end))
    result: list[Candidate] = []
    for candidate in found:
        if result and candidate.start < result[-1].end:
            continue  # overlaps an earlier feature (a URL that contains a "#fragment")
        result.append(candidate)
    return result


def facet(candidate: Candidate, *, did: str | None = None) -> dict[str, Any]:
    """The ``app.bsky.richtext.facet`` object for a candidate (mentions need the DID)."""
    feature: dict[str, Any]
    if candidate.kind == "mention":
        if did is None:
            raise ValueError("a mention facet needs the mentioned account's DID")
        feature = {"$type": f"{FACET}#mention", "did": did}
    elif candidate.kind == "link":
        feature = {"$type": f"{FACET}#link", "uri": candidate.value}
    else:
        feature = {"$type": f"{FACET}#tag", "tag": candidate.value}
    return {
        "$type": FACET,
        "index": {"byteStart": candidate.start, "byteEnd": candidate.end},
        "features": [feature],
    }
