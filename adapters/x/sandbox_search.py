"""Recent search's query language, the part the X emulator understands, compiled into a
source of candidate posts (a user's, a conversation's, or all) and a predicate.

Supported: words, #hashtags, @mentions, "quoted phrases", ``-negation``, ``from:``, ``to:``,
``conversation_id:``, ``is:reply|retweet|quote``, ``has:media|images|videos|mentions|hashtags|
links`` and ``lang:``. Boolean ``OR``, ``AND`` and parentheses are refused with a 400 that says
the sandbox does not emulate them; an unknown operator gets X's "Reference to invalid operator"
error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .sandbox_data import PostRec, XDataset
from .sandbox_wire import Params

__all__ = ["compile_query"]

_WORD = re.compile(r"[#@]?\w+")
Predicate = Callable[[PostRec], bool]


_IS: dict[str, Predicate] = {
    "reply": lambda p: p.reply_to is not None,
    "retweet": lambda p: False,
    "quote": lambda p: False,
}
_HAS: dict[str, Predicate] = {
    "media": lambda p: bool(p.media_keys),
    "images": lambda p: any(k.startswith("3_") for k in p.media_keys),
    "videos": lambda p: any(k.startswith(("7_", "16_")) for k in p.media_keys),
    "mentions": lambda p: bool(p.mentions),
    "hashtags": lambda p: bool(p.hashtags),
    "links": lambda p: False,
}


def compile_query(
    data: XDataset, q: Params, query: str
) -> tuple[tuple[Any, ...], Predicate | None]:
    """X's search syntax, its common part: words, #hashtags, @mentions, "phrases", -negation,
    ``from:``, ``to:``, ``conversation_id:``, ``is:reply``, ``has:media|images|videos|mentions|
    hashtags|links``, ``lang:``. Boolean ``OR`` and parentheses are refused (not emulated)."""
    if not query.strip():
        q.add("query", query, "The `query` query parameter can not be empty")
        return ("all",), None
    if len(query) > 4096:
        q.add("query", query, "The `query` query parameter value is too long (max 4096)")
    source: tuple[Any, ...] = ("all",)
    tests: list[Predicate] = []
    positive = False
    for token in re.findall(r'-?"[^"]*"|\S+', query):
        negate = token.startswith("-") and len(token) > 1
        body = token[1:] if negate else token
        op, sep, value = body.partition(":")
        test: Predicate | None = None
        problem_text = None
        if body.startswith('"'):
            phrase = body.strip('"').lower()
            test = lambda p, s=phrase: s in p.text.lower()  # noqa: E731
        elif body.upper() in ("OR", "AND") or body.startswith("(") or body.endswith(")"):
            problem_text = f"the sandbox does not emulate '{body}' (boolean grouping)"
        elif sep and op in ("from", "to"):
            found = data.user_by_username(value) or data.user_by_id(value)
            j = -1 if found is None else found.index
            if op == "from":
                if not negate:
                    source = ("user", j) if j >= 0 else ("none",)
                test = lambda p, u=j: p.author == u  # noqa: E731
            else:
                test = lambda p, u=j: p.reply_to_user == u  # noqa: E731
        elif sep and op == "conversation_id" and value.isdigit():
            if not negate:
                source = ("conversation", int(value))
            test = lambda p, c=int(value): p.conversation == c  # noqa: E731
        elif sep and op == "is" and value in _IS:
            test = _IS[value]
        elif sep and op == "has" and value in _HAS:
            test = _HAS[value]
        elif sep and op == "lang":
            test = lambda p, lang=value: p.lang == lang  # noqa: E731
        elif sep and op:
            problem_text = (
                f"Reference to invalid operator '{op}'. Operator is not available in current "
                "product or product packaging. Please refer to complete available operator list "
                "at https://developer.twitter.com/en/docs/twitter-api/enterprise/rules-and-"
                "filtering/operators-by-product."
            )
        else:
            test = lambda p, w=body.lower(): w in _words(p.text)  # noqa: E731
        if test is None:
            q.add("query", query, f"There were errors processing your request: {problem_text}")
            continue
        positive = positive or not negate
        tests.append(_negated(test) if negate else test)
    if tests and not positive:
        q.add(
            "query",
            query,
            "There were errors processing your request: Rules must contain a non-negation term",
        )
    return source, (lambda p: all(t(p) for t in tests))


def _negated(test: Predicate) -> Predicate:
    return lambda p: not test(p)


def _words(text: str) -> set[str]:
    found = {w.lower() for w in _WORD.findall(text)}
    return found | {w.lstrip("#@") for w in found}
