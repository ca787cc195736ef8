"""Bluesky sessions: app password -> session, persisted in the TokenStore and refreshed.

``createSession`` is limited to 30 calls per 5 minutes and 300 a day, so a session is created
once and kept in the client's ``TokenStore``: the JWT pair as an ``OAuth2Token`` under the
account's key (``expires_at`` from the access JWT's ``exp``, read without verifying it), and
the DID, handle and PDS in a sidecar entry under ``<key>#session``. Later runs reuse it.

Refresh mirrors ``socialgate._auth.TokenManager``: one ``SessionManager`` per (token store,
network, key) serves every account and coroutine using the credential (``auth.py`` holds the
registry and the ``httpx.Auth`` flow); a refresh takes its lock (created lazily inside the
running loop), re-reads the store (another process may have rotated the session already),
calls ``refreshSession`` at most once, and writes the rotated pair back *before* anyone uses
it, because refresh JWTs are single-use. Refresh happens 15
minutes before the access JWT expires and on an ``ExpiredToken`` answer. When the refresh JWT
is refused and an ``AppPassword`` is at hand, a new session is created with it; otherwise the
credential needs a new login (``ReauthorizationRequired``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from socialgate._credentials import AppPassword, BearerToken, Credential, OAuth2Token
from socialgate._errors import (
    APIError,
    AuthenticationError,
    ReauthorizationRequired,
    UpstreamSchemaError,
)
from socialgate._tokens import TokenStore

from .budgets import reserve_static
from .spec import SPEC

if TYPE_CHECKING:
    from socialgate._account import Account

__all__ = [
    "CREATE_SESSION",
    "REFRESH_SESSION",
    "SIDECAR_SUFFIX",
    "Session",
    "SessionManager",
    "jwt_claims",
    "pds_from_did_doc",
    "pds_route",
]

CREATE_SESSION = "com.atproto.server.createSession"
REFRESH_SESSION = "com.atproto.server.refreshSession"
GET_SESSION = "com.atproto.server.getSession"
# Refresh this long before the access JWT (about 2 hours) expires.
REFRESH_SKEW = 15 * 60.0
SIDECAR_SUFFIX = "#session"
_REFUSED = frozenset({"ExpiredToken", "InvalidToken", "AuthenticationRequired"})


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, decoded without verifying the signature (only the server can)."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    segment = parts[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, binascii.Error):
        return {}
    return data if isinstance(data, dict) else {}


def _expiry(token: str | None) -> datetime | None:
    if not token:
        return None
    exp = jwt_claims(token).get("exp")
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        return datetime.fromtimestamp(exp, UTC)
    return None


def pds_from_did_doc(doc: Any) -> str | None:
    """The ``#atproto_pds`` service endpoint of a DID document, if it names an http(s) URL."""
    if not isinstance(doc, dict) or not isinstance(doc.get("service"), list):
        return None
    own = f"{doc.get('id')}#atproto_pds"
    for service in doc["service"]:
        if not isinstance(service, dict):
            continue
        if service.get("id") in ("#atproto_pds", own) or (
            service.get("type") == "AtprotoPersonalDataServer"
        ):
            endpoint = service.get("serviceEndpoint")
            if isinstance(endpoint, str) and endpoint.startswith(("https://", "http://")):
                return endpoint.rstrip("/")
    return None


@dataclass(frozen=True, slots=True)
class Session:
    """One session: the JWT pair, who it belongs to and which PDS hosts the repo."""

    access_jwt: str
    refresh_jwt: str | None = None
    did: str | None = None
    handle: str | None = None
    pds: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None

    def __repr__(self) -> str:
        return f"Session(did={self.did!r}, handle={self.handle!r}, pds={self.pds!r})"

    def secrets(self) -> tuple[str, ...]:
        return tuple(t for t in (self.access_jwt, self.refresh_jwt) if t)

    @classmethod
    def from_server(cls, data: Any, previous: Session | None = None) -> Session:
        """From a createSession / refreshSession answer."""
        if not isinstance(data, dict) or not isinstance(data.get("accessJwt"), str):
            raise UpstreamSchemaError(
                "Bluesky's session answer has no accessJwt", network=SPEC.name
            )
        access, refresh = data["accessJwt"], data.get("refreshJwt")
        did = data.get("did") if isinstance(data.get("did"), str) else None
        handle = data.get("handle") if isinstance(data.get("handle"), str) else None
        return cls(
            access_jwt=access,
            refresh_jwt=refresh if isinstance(refresh, str) and refresh else None,
            did=did or (previous.did if previous else None),
            handle=handle or (previous.handle if previous else None),
            pds=pds_from_did_doc(data.get("didDoc")) or (previous.pds if previous else None),
            expires_at=_expiry(access),
            refresh_expires_at=_expiry(refresh if isinstance(refresh, str) else None),
        )

    @classmethod
    def from_token(cls, token: OAuth2Token, info: dict[str, Any] | None = None) -> Session:
        """From a stored token and its sidecar (ignored when it names another DID)."""
        sub = jwt_claims(token.access_token).get("sub")
        info = info or {}
        if isinstance(sub, str) and info.get("did") not in (None, sub):
            info = {}
        return cls(
            access_jwt=token.access_token,
            refresh_jwt=token.refresh_token,
            did=info.get("did") or (sub if isinstance(sub, str) else None),
            handle=info.get("handle"),
            pds=info.get("pds"),
            expires_at=token.expires_at or _expiry(token.access_token),
            refresh_expires_at=token.refresh_expires_at or _expiry(token.refresh_token),
        )

    def to_token(self) -> OAuth2Token:
        scope = jwt_claims(self.access_jwt).get("scope")
        return OAuth2Token(
            access_token=self.access_jwt,
            refresh_token=self.refresh_jwt,
            expires_at=self.expires_at,
            scopes=(scope,) if isinstance(scope, str) else (),
            refresh_expires_at=self.refresh_expires_at,
        )

    def info(self) -> dict[str, str | None]:
        return {"did": self.did, "handle": self.handle, "pds": self.pds}


def pds_route(base: str, pds: str | None) -> str | None:
    """The PDS to send ``base``'s XRPC calls to, or ``None`` to keep them on ``base``."""
    if not pds or pds == base:
        return None
    # Never send a session to a plain-http PDS that an https entry host pointed to.
    if pds.startswith("https://") or base.startswith("http://"):
        return pds
    return None


class SessionManager:
    """Owns the current session of one credential and renews it, once at a time."""

    def __init__(
        self, *, network: str, key: str, credential: Credential, store: TokenStore
    ) -> None:
        self.network = network
        self.key = key
        self.credential = credential
        self._store = store
        self._lock: asyncio.Lock | None = None
        self._session: Session | None = None
        self.create_count = 0
        self.refresh_count = 0

    @property
    def session(self) -> Session | None:
        return self._session

    @property
    def persistent(self) -> bool:
        """A plain bearer JWT is not stored: it cannot be refreshed or reused later."""
        return not isinstance(self.credential, BearerToken)

    def secrets(self) -> tuple[str, ...]:
        return self._session.secrets() if self._session else ()

    def renewable(self, session: Session) -> bool:
        return bool(session.refresh_jwt) or isinstance(self.credential, AppPassword)

    def _get_lock(self) -> asyncio.Lock:
        # Created on first use, inside the running loop, never at import or construction.
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def _needs_refresh(self, session: Session, now: datetime) -> bool:
        if session.expires_at is None or not self.renewable(session):
            return False
        margin = REFRESH_SKEW
        iat = jwt_claims(session.access_jwt).get("iat")
        if isinstance(iat, int | float):
            # A server with short-lived tokens: refresh in the last quarter of the lifetime,
            # never on every request.
            lifetime = session.expires_at.timestamp() - float(iat)
            margin = min(margin, max(lifetime, 0.0) / 4)
        return session.expires_at - now <= timedelta(seconds=margin)

    # -- the session to use --------------------------------------------------------------------

    async def current(self, account: Account) -> Session:
        """A session fit to send now: loaded, created or refreshed as needed."""
        session = self._session or await self._load(account)
        if self._needs_refresh(session, account.client.clock.now()):
            session = await self.refresh(account, stale=session)
        return session

    async def identity(self, account: Account) -> Session:
        """The current session with its DID and handle known (asks getSession if not)."""
        session = await self.current(account)
        if session.did and session.handle:
            return session
        data = await account.call_json("GET", "/xrpc/" + GET_SESSION)
        if not isinstance(data, dict) or not isinstance(data.get("did"), str):
            raise UpstreamSchemaError(
                "Bluesky's getSession answer has no did", network=self.network, body=str(data)
            )
        async with self._get_lock():
            base = self._session or session
            updated = replace(
                base,
                did=data["did"],
                handle=data.get("handle") or base.handle,
                pds=pds_from_did_doc(data.get("didDoc")) or base.pds,
            )
            self._session = updated
            if self.persistent:
                await self._store.set(self.network, self.key + SIDECAR_SUFFIX, _sidecar(updated))
        return updated

    async def _load(self, account: Account) -> Session:
        async with self._get_lock():
            if self._session is not None:
                return self._session
            session = await self._read_store() if self.persistent else None
            if session is None:
                session = await self._establish(account)
            self._session = session
            return session

    async def _establish(self, account: Account) -> Session:
        cred = self.credential
        if isinstance(cred, AppPassword):
            session = await self._create_session(account)
        elif isinstance(cred, OAuth2Token):
            session = Session.from_token(cred)
        elif isinstance(cred, BearerToken):
            return Session(access_jwt=cred.token, expires_at=_expiry(cred.token))
        else:
            raise account.adapter.unsupported(
                f"{type(cred).__name__} credentials",
                "use sg.AppPassword(handle, app_password), a session sg.BearerToken(accessJwt) "
                "or an sg.OAuth2Token(accessJwt, refreshJwt)",
            )
        await self._write(session)
        return session

    # -- refresh -------------------------------------------------------------------------------

    async def refresh(self, account: Account, *, stale: Session) -> Session:
        """Renew unless someone already replaced ``stale``; returns the session to use."""
        async with self._get_lock():
            now = account.client.clock.now()
            current = self._session
            if (
                current is not None
                and current.access_jwt != stale.access_jwt
                and not self._needs_refresh(current, now)
            ):
                return current
            stored = await self._read_store() if self.persistent else None
            if (
                stored is not None
                and stored.access_jwt != stale.access_jwt
                and not self._needs_refresh(stored, now)
            ):
                self._session = stored
                return stored
            new = await self._renew(account, stored or current or stale, now)
            # Written before use: the refresh JWT just spent is dead from now on.
            await self._write(new)
            self._session = new
            return new

    async def _renew(self, account: Account, base: Session, now: datetime) -> Session:
        refused: APIError | None = None
        refresh_alive = base.refresh_expires_at is None or base.refresh_expires_at > now
        if base.refresh_jwt and refresh_alive:
            try:
                new = await self._refresh_session(account, base)
            except APIError as error:
                if error.status not in (400, 401) or error.code not in _REFUSED:
                    error.scrub(base.secrets())
                    raise
                refused = error
            else:
                self.refresh_count += 1
                return new
        if isinstance(self.credential, AppPassword):
            return await self._create_session(account)
        why = (
            f"the refresh JWT was refused ({refused.code}: {refused.upstream_message})"
            if refused is not None
            else "the session expired and there is no usable refresh JWT"
        )
        failure = ReauthorizationRequired(
            f"Bluesky session for '{self.key}' cannot be renewed: {why}. Log in again, e.g. "
            "with sg.AppPassword(handle, app_password).",
            network=self.network,
            status=refused.status if refused else None,
            code=refused.code if refused else None,
            upstream_message=refused.upstream_message if refused else None,
        )
        failure.scrub(base.secrets())
        raise failure

    async def _refresh_session(self, account: Account, base: Session) -> Session:
        # At the entry host (the entryway manages sessions), never rerouted to the PDS.
        response = await account.call(
            "POST",
            "/xrpc/" + REFRESH_SESSION,
            headers={"Authorization": f"Bearer {base.refresh_jwt}"},
            idempotent=False,
        )
        return Session.from_server(account.decode(response), previous=base)

    async def _create_session(self, account: Account) -> Session:
        cred = self.credential
        assert isinstance(cred, AppPassword)
        # The daily createSession quota is reserved here; the request bucket has the 5-minute one.
        async with reserve_static(account, ("session.create.day",), key=cred.fingerprint()):
            try:
                data = await account.call_json(
                    "POST",
                    "/xrpc/" + CREATE_SESSION,
                    json={"identifier": cred.identifier, "password": cred.password},
                    # A second session is harmless; only the quota is spent.
                    idempotent=True,
                )
            except AuthenticationError as error:
                raise _login_refused(cred, error) from None
        self.create_count += 1
        return Session.from_server(data)

    # -- the store -----------------------------------------------------------------------------

    async def _read_store(self) -> Session | None:
        token = await self._store.get(self.network, self.key)
        if not isinstance(token, OAuth2Token):
            return None
        sidecar = await self._store.get(self.network, self.key + SIDECAR_SUFFIX)
        info: dict[str, Any] | None = None
        if isinstance(sidecar, BearerToken):
            try:
                loaded = json.loads(sidecar.token)
            except ValueError:
                loaded = None
            info = loaded if isinstance(loaded, dict) else None
        return Session.from_token(token, info)

    async def _write(self, session: Session) -> None:
        if not self.persistent:
            return
        await self._store.set(self.network, self.key, session.to_token())
        await self._store.set(self.network, self.key + SIDECAR_SUFFIX, _sidecar(session))


def _sidecar(session: Session) -> BearerToken:
    # The store keeps credentials only; the identity rides in one, encrypted like the rest.
    return BearerToken(json.dumps(session.info(), separators=(",", ":")))


def _login_refused(cred: AppPassword, error: AuthenticationError) -> AuthenticationError:
    if error.code == "AuthFactorTokenRequired":
        hint = (
            "the account asks for an email sign-in code, which means this is the main password;"
            " use an app password (Settings > Privacy and security > App passwords)"
        )
    else:
        hint = (
            "check the identifier (handle, DID or email) and the app password; revoked app "
            "passwords stop working, create a new one under Settings > Privacy and security > "
            "App passwords"
        )
    detail = f" ({error.code}: {error.upstream_message})" if error.code else ""
    refused = AuthenticationError(
        f"Bluesky refused the app password for '{cred.identifier}'{detail}: {hint}.",
        network=error.network,
        status=error.status,
        code=error.code,
        upstream_message=error.upstream_message,
        body=error.body,
    )
    refused.scrub(cred.secrets())
    return refused
