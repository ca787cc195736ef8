"""Credentials (what proves who is calling) and OAuth app settings.

Credentials are frozen values whose ``repr`` never shows a secret. ``to_dict`` / ``from_dict``
give the form a ``TokenStore`` persists (encrypted at rest by the SQLite store).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

__all__ = [
    "AppPassword",
    "BearerToken",
    "Credential",
    "OAuth1Token",
    "OAuth2Token",
    "OAuthApp",
    "credential_from_dict",
]


def _mask(value: str | None) -> str:
    return "None" if value is None else "'***'"


class _Secretive:
    """Mixin: a repr that names the fields but masks every secret one."""

    _secret_fields: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            shown = _mask(value) if f.name in self._secret_fields else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"

    def secrets(self) -> tuple[str, ...]:
        """Every secret string this object holds (used to scrub error messages)."""
        return tuple(v for n in self._secret_fields if isinstance(v := getattr(self, n), str) and v)


@dataclass(frozen=True, repr=False)
class BearerToken(_Secretive):
    """A static bearer token (X app-only, Mastodon, API keys that go in ``Authorization``)."""

    token: str
    kind: ClassVar[str] = "bearer"
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"token"})

    def fingerprint(self) -> str:
        return _fingerprint(self.token)


@dataclass(frozen=True, repr=False)
class OAuth2Token(_Secretive):
    """An OAuth 2.0 access token with optional refresh token and expiry.

    ``expires_at`` must be timezone-aware; ``from_token_response`` builds one from a token
    endpoint answer (``expires_in`` relative to ``now``).
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "bearer"
    refresh_expires_at: datetime | None = None
    kind: ClassVar[str] = "oauth2"
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"access_token", "refresh_token"})

    def __post_init__(self) -> None:
        for name in ("expires_at", "refresh_expires_at"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise ValueError(f"OAuth2Token.{name} must be timezone-aware")
        if isinstance(self.scopes, list | str):
            scopes = self.scopes.split() if isinstance(self.scopes, str) else self.scopes
            object.__setattr__(self, "scopes", tuple(scopes))

    def fingerprint(self) -> str:
        return _fingerprint(self.refresh_token or self.access_token)

    def expires_within(self, seconds: float, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at - now <= timedelta(seconds=seconds)

    @classmethod
    def from_token_response(
        cls, data: dict[str, Any], *, now: datetime, previous: OAuth2Token | None = None
    ) -> OAuth2Token:
        """Build from a token endpoint's JSON. Keeps the previous refresh token when the
        server does not rotate it (it sends none)."""
        expires_in = data.get("expires_in")
        refresh_in = data.get("refresh_expires_in") or data.get("refresh_token_expires_in")
        scope = data.get("scope")
        scopes: tuple[str, ...]
        if isinstance(scope, str):
            scopes = tuple(scope.replace(",", " ").split())
        elif isinstance(scope, list):
            scopes = tuple(str(s) for s in scope)
        else:
            scopes = previous.scopes if previous else ()
        refresh_token = data.get("refresh_token") or (previous.refresh_token if previous else None)
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=refresh_token,
            expires_at=now + timedelta(seconds=float(expires_in)) if expires_in else None,
            scopes=scopes,
            token_type=str(data.get("token_type") or "bearer"),
            refresh_expires_at=(now + timedelta(seconds=float(refresh_in)) if refresh_in else None),
        )


@dataclass(frozen=True, repr=False)
class OAuth1Token(_Secretive):
    """OAuth 1.0a user context (X v1.1 endpoints such as some media uploads)."""

    consumer_key: str
    consumer_secret: str
    token: str
    token_secret: str
    kind: ClassVar[str] = "oauth1"
    _secret_fields: ClassVar[frozenset[str]] = frozenset(
        {"consumer_secret", "token", "token_secret"}
    )

    def fingerprint(self) -> str:
        return _fingerprint(self.consumer_key + ":" + self.token)


@dataclass(frozen=True, repr=False)
class AppPassword(_Secretive):
    """Bluesky handle + app password, exchanged for a session by the adapter."""

    identifier: str
    password: str
    kind: ClassVar[str] = "app_password"
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"password"})

    def fingerprint(self) -> str:
        return _fingerprint(self.identifier)


Credential = BearerToken | OAuth2Token | OAuth1Token | AppPassword

_KINDS: dict[str, type[Any]] = {
    c.kind: c for c in (BearerToken, OAuth2Token, OAuth1Token, AppPassword)
}


@dataclass(frozen=True, repr=False)
class OAuthApp(_Secretive):
    """An OAuth client registered with a network (one per network, or per Mastodon instance)."""

    client_id: str
    client_secret: str | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    _secret_fields: ClassVar[frozenset[str]] = frozenset({"client_secret"})

    def __post_init__(self) -> None:
        if isinstance(self.scopes, list | str):
            scopes = self.scopes.split() if isinstance(self.scopes, str) else self.scopes
            object.__setattr__(self, "scopes", tuple(scopes))


def _fingerprint(value: str) -> str:
    """A short, non-reversible id for a secret: used in budget keys and store keys."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def credential_to_dict(cred: Credential) -> dict[str, Any]:
    data = asdict(cred)
    for key, value in list(data.items()):
        if isinstance(value, datetime):
            data[key] = value.isoformat()
        elif isinstance(value, tuple):
            data[key] = list(value)
    data["kind"] = cred.kind
    return data


def credential_from_dict(data: dict[str, Any]) -> Credential:
    data = dict(data)
    cls = _KINDS[data.pop("kind")]
    for key in ("expires_at", "refresh_expires_at"):
        if isinstance(data.get(key), str):
            data[key] = datetime.fromisoformat(data[key]).astimezone(UTC)
    if "scopes" in data:
        data["scopes"] = tuple(data["scopes"])
    obj: Credential = cls(**data)
    return obj


def with_refreshed(token: OAuth2Token, **changes: Any) -> OAuth2Token:
    return replace(token, **changes)
