"""The Bluesky ``httpx.Auth`` flow and the registry that gives each credential one manager.

``SessionAuth`` sends the session's access JWT to the session's PDS (XRPC calls addressed to
the entry host are re-addressed there, so adapters, paginators and ``acct.request`` all use
relative paths) and, on an expired-token answer, renews the session once (through the shared
``SessionManager``) and re-sends. One manager serves every account and client that use the
same token store and key, so "once per credential" holds across them too.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncGenerator, Generator
from typing import TYPE_CHECKING, Any

import httpx

from socialgate._auth import LeanAuth
from socialgate._credentials import AppPassword

from .session import CREATE_SESSION, REFRESH_SESSION, Session, SessionManager, pds_route

if TYPE_CHECKING:
    from socialgate._account import Account

__all__ = ["SessionAuth", "session_manager"]

# Answers after which a fresh access JWT may help. A 400 InvalidToken ("Bad token scope")
# means the token cannot do this at all, so it does not trigger a refresh.
_STALE = frozenset({"ExpiredToken"})
_STALE_401 = frozenset({"ExpiredToken", "InvalidToken"})

_MANAGERS: weakref.WeakKeyDictionary[Any, dict[tuple[str, str], SessionManager]] = (
    weakref.WeakKeyDictionary()
)


def session_manager(account: Account) -> SessionManager:
    """The one manager of ``account``'s credential, shared by every account (and every
    client) that uses the same token store and key."""
    store = account.client.token_store
    try:
        managers = _MANAGERS.setdefault(store, {})
    except TypeError:  # a store that cannot be weakly referenced: share per account only
        managers = {}
    ident = (account.network, account.key)
    manager = managers.get(ident)
    cred = account.credential
    if manager is not None and manager.credential != cred:
        same_login = (
            isinstance(cred, AppPassword)
            and isinstance(manager.credential, AppPassword)
            and manager.credential.identifier == cred.identifier
        )
        if same_login:
            manager.credential = cred  # a new app password for the same account
        else:
            manager = None
    if manager is None:
        manager = SessionManager(
            network=account.network, key=account.key, credential=cred, store=store
        )
        managers[ident] = manager
    return manager


class SessionAuth(httpx.Auth, LeanAuth):
    """Sends the session's access JWT; on an expired-token answer renews once and re-sends.
    The session endpoints themselves pass through untouched (createSession carries the
    password in its body, refreshSession the refresh JWT its caller set)."""

    def __init__(self, account: Account) -> None:
        self._account = account
        self._manager: SessionManager | None = None

    @property
    def manager(self) -> SessionManager:
        if self._manager is None:
            self._manager = session_manager(self._account)
        return self._manager

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("socialgate is async-only")
        yield request  # pragma: no cover

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        nsid = request.url.path.rsplit("/", 1)[-1]
        if nsid in (CREATE_SESSION, REFRESH_SESSION):
            yield request
            return
        manager = self.manager
        session = await manager.current(self._account)
        self._authorize(request, session)
        response = yield request
        if response.status_code in (400, 401) and manager.renewable(session):
            await response.aread()
            if _stale(response):
                session = await manager.refresh(self._account, stale=session)
                self._authorize(request, session)
                yield request

    async def lean_authorize(self, url: str, headers: dict[str, str]) -> tuple[str, object]:
        nsid = url.split("?", 1)[0].rsplit("/", 1)[-1]
        if nsid in (CREATE_SESSION, REFRESH_SESSION):
            return url, None
        session = await self.manager.current(self._account)
        return self._lean_target(url, headers, session), session

    async def lean_renew(
        self, status: int, content: bytes, state: object, url: str, headers: dict[str, str]
    ) -> tuple[str, object] | None:
        if not isinstance(state, Session) or status not in (400, 401):
            return None
        manager = self.manager
        if not manager.renewable(state) or not _stale_body(status, content):
            return None
        session = await manager.refresh(self._account, stale=state)
        return self._lean_target(url, headers, session), session

    def _lean_target(self, url: str, headers: dict[str, str], session: Session) -> str:
        """``_authorize`` on plain values: the lean path's URL for ``url``."""
        headers["Authorization"] = f"Bearer {session.access_jwt}"
        base = self._account.base_url
        pds = pds_route(base, session.pds)
        if pds is not None and url.startswith(base + "/xrpc/"):
            return pds + url[len(base) :]
        return url

    def _authorize(self, request: httpx.Request, session: Session) -> None:
        """Bearer the access JWT, on the session's PDS: XRPC calls addressed to the entry host
        go to the PDS its DID document names, as Bluesky's own client does after login."""
        request.headers["Authorization"] = f"Bearer {session.access_jwt}"
        base = self._account.base_url
        pds = pds_route(base, session.pds)
        url = str(request.url)
        if pds is not None and url.startswith(base + "/xrpc/"):
            request.url = httpx.URL(pds + url[len(base) :])
            request.headers["Host"] = request.url.netloc.decode("ascii")


def _stale(response: httpx.Response) -> bool:
    return _stale_body(response.status_code, response.content)


def _stale_body(status: int, content: bytes) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    code = body.get("error") if isinstance(body, dict) else None
    allowed = _STALE_401 if status == 401 else _STALE
    return code in allowed
