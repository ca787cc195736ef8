"""Fidelity of the Mastodon emulator, checked against sources that are not our code:

1. the Mastodon OpenAPI description (abraham/mastodon-openapi ``dist/schema.json``, Mastodon
   4.7 docs) in ../shared/fixtures/specs/ (skipped, with the reason, when that folder is
   absent): each case's answer validates against the schema the spec gives for its endpoint
   and status (JSON Schema 2020-12, as OpenAPI 3.1 uses), and answers carry the headers the
   spec lists (``X-RateLimit-*`` with a date-time reset, ``Link`` on listings);
2. the real recorded payloads in tests/fixtures/mastodon/ (Mastodon.py's cassettes): the
   emulator's answer to the same request has the same keys with the same JSON types (``null``
   matches any type: the recordings and the emulator fill different optional values), the
   same ``Link`` structure and the same rate-limit header formats.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

import socialgate as sg
from socialgate.adapters.mastodon.sandbox import MastodonEmulator
from socialgate.sandbox import SandboxApp, create_app

from .shapes import json_shape
from .test_mastodon_emulator import PNG, emulator, mastodon_client, user_token

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = ROOT.parent / "shared/fixtures/specs/abraham+mastodon-openapi/dist/schema.json"
RECORDED = ROOT / "tests" / "fixtures" / "mastodon"
ISO_RESET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

# case: (method, path template with {names}, spec path, expected status)
CASES: dict[str, tuple[str, str, str, int]] = {
    "verify_credentials": ("GET", "/api/v1/accounts/verify_credentials",
                           "/api/v1/accounts/verify_credentials", 200),
    "account": ("GET", "/api/v1/accounts/{me}", "/api/v1/accounts/{id}", 200),
    "account.remote": ("GET", "/api/v1/accounts/{remote}", "/api/v1/accounts/{id}", 200),
    "account.missing": ("GET", "/api/v1/accounts/1", "/api/v1/accounts/{id}", 404),
    "lookup": ("GET", "/api/v1/accounts/lookup?acct=sandbox_demo", "/api/v1/accounts/lookup",
               200),
    "followers": ("GET", "/api/v1/accounts/{me}/followers?limit=5",
                  "/api/v1/accounts/{id}/followers", 200),
    "account_statuses": ("GET", "/api/v1/accounts/{me}/statuses",
                         "/api/v1/accounts/{id}/statuses", 200),
    "status.media": ("GET", "/api/v1/statuses/{with_media}", "/api/v1/statuses/{id}", 200),
    "status.reblog": ("GET", "/api/v1/statuses/{reblog}", "/api/v1/statuses/{id}", 200),
    "status.missing": ("GET", "/api/v1/statuses/12345", "/api/v1/statuses/{id}", 404),
    "context": ("GET", "/api/v1/statuses/{parent}/context", "/api/v1/statuses/{id}/context",
                200),
    "search": ("GET", "/api/v2/search?q=python", "/api/v2/search", 200),
    "notifications": ("GET", "/api/v1/notifications?types[]=mention", "/api/v1/notifications",
                      200),
    "create": ("POST", "/api/v1/statuses", "/api/v1/statuses", 200),
    "create.invalid": ("POST", "/api/v1/statuses", "/api/v1/statuses", 422),
    "delete": ("DELETE", "/api/v1/statuses/{created}", "/api/v1/statuses/{id}", 200),
    "media.image": ("POST", "/api/v2/media", "/api/v2/media", 200),
    "media.video": ("POST", "/api/v2/media", "/api/v2/media", 202),
    "media.get": ("GET", "/api/v1/media/{media}", "/api/v1/media/{id}", 200),
    "apps": ("POST", "/api/v1/apps", "/api/v1/apps", 200),
    "token": ("POST", "/oauth/token", "/oauth/token", 200),
    "unauthorized": ("GET", "/api/v1/accounts/verify_credentials",
                     "/api/v1/accounts/verify_credentials", 401),
    "too_many": ("GET", "/api/v1/accounts/verify_credentials",
                 "/api/v1/accounts/verify_credentials", 429),
}  # fmt: skip
LISTINGS = {"followers", "account_statuses", "notifications"}
# Where the spec and a real server disagree, the recording decides: a deleted status answers
# its source ``text`` *instead of* ``content`` (recording status_delete.json; the docs say so
# too), while the spec's Status schema requires ``content``.
DEVIATIONS = {"delete": {"[]: 'content' is a required property"}}


@pytest.fixture
async def sandbox() -> AsyncIterator[tuple[SandboxApp, httpx.AsyncClient, dict[str, str]]]:
    clock = sg.FakeClock()
    app = create_app(networks=("mastodon",), posts=2_000, clock=clock, seed=1)
    async with mastodon_client(app) as m:
        yield app, m, await names(app, m)


async def names(app: SandboxApp, m: httpx.AsyncClient) -> dict[str, str]:
    data = emulator(app).data
    me = (await m.get("/api/v1/accounts/verify_credentials")).json()["id"]
    indices = range(data.n_posts)
    return {
        "me": me,
        "remote": data.account(3).id,
        "with_media": str(next(data.status(i).id for i in indices if data.status(i).media)),
        "reblog": str(next(data.status_id(i) for i in indices if data.is_reblog(i))),
        "parent": str(next(data.status_id(i) for i in indices if data.direct_replies(i))),
    }


async def answer(
    case: str, app: SandboxApp, m: httpx.AsyncClient, names: dict[str, str]
) -> httpx.Response:
    method, template, _, _ = CASES[case]
    if case == "delete":
        names["created"] = (await m.post("/api/v1/statuses", json={"status": "x"})).json()["id"]
    if case == "media.get":
        upload = await m.post("/api/v2/media", files={"file": ("v.mp4", b"0" * 99, "video/mp4")})
        names["media"] = upload.json()["id"]
        clock = emulator(app).clock
        assert isinstance(clock, sg.FakeClock)
        clock.advance(5)  # past processing
    url, _, query = template.format(**names).partition("?")
    kwargs: dict[str, Any] = {"params": parse_qsl(query)}
    if case == "create":
        kwargs["json"] = {"status": "spec check #python @sandbox_demo", "visibility": "public"}
    elif case == "create.invalid":
        kwargs["json"] = {"status": ""}
    elif case == "media.image":
        kwargs["files"] = {"file": ("a.png", PNG, "image/png")}
        kwargs["data"] = {"description": "a picture"}
    elif case == "media.video":
        kwargs["files"] = {"file": ("v.mp4", b"0" * 99, "video/mp4")}
    elif case == "apps":
        kwargs["data"] = {"client_name": "spec", "redirect_uris": "https://cb.example/"}
    elif case == "token":
        kwargs["data"] = {"grant_type": "client_credentials", "client_id": "sandbox-demo-app",
                          "client_secret": "sandbox-demo-secret"}  # fmt: skip
    elif case == "unauthorized":
        kwargs["headers"] = {"Authorization": "Bearer wrong"}
    elif case == "too_many":
        app.faults.configure({"rate_limit_storm": 1.0})
    response = await m.request(method, url, **kwargs)
    app.faults.reset()
    return response


_SPEC: dict[str, Any] = {}


def spec() -> dict[str, Any]:
    if not _SPEC:
        if not SPEC_FILE.is_file():
            pytest.skip(f"Mastodon OpenAPI spec not found at {SPEC_FILE} (../shared is absent)")
        _SPEC.update(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
    return _SPEC


@pytest.mark.parametrize("case", sorted(CASES))
async def test_answers_match_the_openapi_schemas(
    case: str, sandbox: tuple[SandboxApp, httpx.AsyncClient, dict[str, str]]
) -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema validates the spec")
    document = spec()
    method, _, spec_path, status = CASES[case]
    documented = document["paths"][spec_path][method.lower()]["responses"][str(status)]
    schema = documented["content"]["application/json"]["schema"]
    response = await answer(case, *sandbox)
    assert response.status_code == status, response.text
    body = response.json()
    validator = jsonschema.Draft202012Validator({**schema, "components": document["components"]})
    errors = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in validator.iter_errors(body)]
    assert [e for e in errors if e not in DEVIATIONS.get(case, ())] == [], json.dumps(body)[:2000]
    assert body or body == []
    for header in documented.get("headers", {}):
        if header == "Link" and case not in LISTINGS:
            continue  # v2 search: documented, but Mastodon sends none (see search_* recordings)
        if header == "Mastodon-Async-Refresh" or case == "token":
            # Only while remote replies are being fetched; and the OAuth endpoints answer no
            # X-RateLimit-* (recordings oauth_token.json, oauth_server_metadata.json).
            continue
        assert header.lower() in response.headers, header
        if header == "X-RateLimit-Reset":
            assert datetime.fromisoformat(response.headers[header]).tzinfo is not None


# -- recorded payloads -----------------------------------------------------------------------------

# Keys a recording has that the emulator leaves out there: the recorded boost is of the
# recording user's own status, so its inner status has ``pinned`` (only shown to the author).
NOT_EMULATED: dict[str, set[str]] = {"status_reblog": {"pinned"}}


def _compare(recorded: Any, ours: Any, path: str, skip: frozenset[str] = frozenset()) -> list[str]:
    if "null" in (recorded, ours):
        return []
    if isinstance(recorded, dict) and isinstance(ours, dict):
        problems = [f"{path}.{k} missing" for k in recorded.keys() - ours.keys() if k not in skip]
        problems += [f"{path}.{k} extra" for k in ours.keys() - recorded.keys()]
        for key in recorded.keys() & ours.keys():
            problems += _compare(recorded[key], ours[key], f"{path}.{key}", skip)
        return problems
    if isinstance(recorded, list) and isinstance(ours, list):
        if recorded and ours:
            return _compare(recorded[0], ours[0], f"{path}[]", skip)
        return []
    if {recorded, ours} == {"int", "number"}:
        return []  # 1.0 vs 1.7778: JSON has one number type
    return [] if recorded == ours else [f"{path}: recorded {recorded}, emulated {ours}"]


def recorded(name: str) -> dict[str, Any]:
    return dict(json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8")))


async def ours_for(name: str, app: SandboxApp, m: httpx.AsyncClient, names: dict[str, str]) -> Any:
    """The emulator's answer to the request each recording made (as the same kind of user)."""
    emu: MastodonEmulator = emulator(app)
    data = emu.data
    if name == "verify_credentials":
        return await m.get("/api/v1/accounts/verify_credentials")
    if name in ("account_get", "account_lookup"):
        return await m.get("/api/v1/accounts/lookup", params={"acct": "sandbox_demo"})
    if name == "account_lookup_404":
        return await m.get("/api/v1/accounts/lookup", params={"acct": "nobody_here"})
    if name == "account_statuses_page":
        return await m.get(f"/api/v1/accounts/{names['me']}/statuses", params={"limit": 5})
    if name in ("status_get", "status_delete", "status_reply", "status_media", "status_reblog"):
        # Recorded as the author (POST answers and own statuses): use the author's token.
        if name == "status_media":
            i = next(i for i in range(data.n_posts) if any(
                x.type == "image" for x in data.status(i).media)
                and data.account(data.author(i)).domain is None)  # fmt: skip
        elif name == "status_reblog":
            i = next(i for i in range(data.n_posts) if data.is_reblog(i)
                     and data.account(data.author(i)).domain is None)  # fmt: skip
        elif name == "status_reply":
            i = next(i for i in range(data.n_posts) if data.is_reply(i)
                     and data.status(i).mentions and data.account(data.author(i)).domain is None
                     and not data.status(i).media)  # fmt: skip
        else:
            i = next(i for i in range(data.n_posts) if data.author(i) == 0
                     and not data.is_reblog(i) and not data.status(i).media)  # fmt: skip
        token = await user_token(m, data.author(i))
        headers = {"Authorization": f"Bearer {token}"}
        sid = data.status_id(i)
        if name == "status_delete":
            return await m.delete(f"/api/v1/statuses/{sid}", headers=headers)
        return await m.get(f"/api/v1/statuses/{sid}", headers=headers)
    if name == "notifications_mentions":
        return await m.get("/api/v1/notifications", params={"types[]": "mention"})
    if name == "search_accounts":
        return await m.get("/api/v2/search", params={"q": "sandbox_demo", "resolve": "1"})
    if name == "search_statuses":
        return await m.get("/api/v2/search", params={"q": "zzz", "type": "statuses"})
    if name == "media_upload":
        return await m.post("/api/v2/media", files={"file": ("a.png", PNG, "image/png")})
    if name in ("error_422_empty", "error_422_length", "error_422_media"):
        text = {"error_422_empty": "", "error_422_length": "a" * 600}.get(name, "x")
        media = ["1"] if name == "error_422_media" else []
        return await m.post("/api/v1/statuses", json={"status": text, "media_ids": media})
    if name == "apps_create":
        return await m.post("/api/v1/apps", data={"client_name": "t", "redirect_uris": "urn:x:y",
                                                  "scopes": "read write"})  # fmt: skip
    if name == "oauth_token":
        return await m.post("/oauth/token", data={"grant_type": "client_credentials",
                            "client_id": "sandbox-demo-app",
                            "client_secret": "sandbox-demo-secret", "scope": "read"})  # fmt: skip
    if name == "oauth_server_metadata":
        return await m.get("/.well-known/oauth-authorization-server")
    raise AssertionError(name)


# Recordings of requests the emulator does not serve (home timeline, favourited_by) or
# cannot make (quotes, link cards, a revoked token's 401 is covered in the emulator tests).
SHAPE_ONLY_ELSEWHERE = {"home_timeline", "status_quote", "status_link", "favourited_by_page",
                        "followers_empty", "error_401_revoked"}  # fmt: skip
RECORDINGS = sorted(p.stem for p in RECORDED.glob("*.json") if p.stem not in SHAPE_ONLY_ELSEWHERE)


@pytest.mark.parametrize("name", RECORDINGS)
async def test_answers_have_the_recorded_shape(
    name: str, sandbox: tuple[SandboxApp, httpx.AsyncClient, dict[str, str]]
) -> None:
    record = recorded(name)
    response = await ours_for(name, *sandbox)
    assert response.status_code == record["status"], response.text
    ours = response.json()
    theirs = record["body"]
    if name == "notifications_mentions":
        theirs, ours = theirs[:1], ours[:1]
    skip = frozenset(NOT_EMULATED.get(name, ()))
    assert _compare(json_shape(theirs), json_shape(ours), "$", skip) == []
    rate_headers = {h for h in record["headers"] if h.startswith("x-ratelimit")}
    assert rate_headers <= set(response.headers)
    if "x-ratelimit-reset" in record["headers"]:
        assert ISO_RESET.match(record["headers"]["x-ratelimit-reset"])
        assert ISO_RESET.match(response.headers["x-ratelimit-reset"])
    if "link" in record["headers"]:
        assert _link_shape(record["headers"]["link"]) == _link_shape(response.headers["link"])


def _link_shape(value: str) -> list[tuple[str, list[str]]]:
    """``[(rel, sorted query names)]``: what a Link header says, without the values."""
    shape = []
    for part in value.split(","):
        url, _, rel = part.partition(";")
        query = urlsplit(url.strip().strip("<>")).query
        names = sorted(k for k, _ in parse_qsl(query) if k != "limit")
        shape.append((rel.strip(), names))
    return shape
