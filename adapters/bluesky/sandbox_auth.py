"""Sessions for the Bluesky sandbox: createSession, refreshSession, getSession and JWT checks.

JWTs are HS256-signed with a key derived from the seed and carry real ``iat``/``exp`` claims:
access JWTs (``typ: at+jwt``, scope ``com.atproto.appPass``) live two hours, refresh JWTs
(``typ: refresh+jwt``, scope ``com.atproto.refresh``, a ``jti``) ninety days. A refresh JWT is
single-use: refreshing rotates the pair and the old refresh JWT answers 400 ``ExpiredToken``
("Token has been revoked"), as the PDS does once its grace period is over (this emulator has
no grace period, so a double refresh shows up at once). Errors follow the PDS: a missing
token is 401 ``AuthenticationRequired``, a bad signature 401 ``InvalidToken``, an expired
token 400 ``ExpiredToken``, a refresh JWT used as an access token 400 ``InvalidToken``.

Every seeded account logs in with its handle, DID or e-mail and the app password
``sandbox-app-password`` (``options["password"]`` changes it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from socialgate._clock import Clock
from socialgate.sandbox.emulator import Reply

from .sandbox_data import BlueskyDataset, UserRec

__all__ = ["ACCESS_TTL", "DEMO_PASSWORD", "REFRESH_TTL", "Reply", "SessionServer", "xrpc_error"]

DEMO_PASSWORD = "sandbox-app-password"
ACCESS_TTL = 2 * 3600.0
REFRESH_TTL = 90 * 86_400.0


def xrpc_error(status: int, error: str, message: str) -> Reply:
    return status, {}, {"error": error, "message": message}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class Principal:
    did: str
    user: UserRec


class SessionServer:
    """Issues and checks the sandbox's JWTs. ``created``/``refreshed`` count successes."""

    def __init__(
        self,
        data: BlueskyDataset,
        clock: Clock,
        *,
        password: str = DEMO_PASSWORD,
        access_ttl: float = ACCESS_TTL,
        refresh_ttl: float = REFRESH_TTL,
    ) -> None:
        self.data = data
        self.clock = clock
        self.password = password
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._key = hashlib.blake2b(f"{data.seed}|bluesky-jwt".encode(), digest_size=32).digest()
        # jti -> did of refresh JWTs that may still be used once.
        self._live_refresh: dict[str, str] = {}
        self._issued = 0
        self.created = 0
        self.refreshed = 0

    # -- JWTs ----------------------------------------------------------------------------------

    def _sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        head = _b64(json.dumps(header, separators=(",", ":")).encode())
        body = _b64(json.dumps(claims, separators=(",", ":")).encode())
        mac = hmac.new(self._key, f"{head}.{body}".encode(), hashlib.sha256).digest()
        return f"{head}.{body}.{_b64(mac)}"

    def _verify(self, token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
        parts = token.split(".")
        if len(parts) != 3:
            return None
        mac = hmac.new(self._key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(_unb64(parts[2]), mac):
                return None
            header, claims = json.loads(_unb64(parts[0])), json.loads(_unb64(parts[1]))
        except (ValueError, TypeError):
            return None
        if not isinstance(header, dict) or not isinstance(claims, dict):
            return None
        return header, claims

    def _pair(self, user: UserRec, pds_url: str) -> tuple[str, str]:
        now = int(self.clock.time())
        self._issued += 1
        seed = f"{self.data.seed}|jti|{self._issued}".encode()
        jti = _b64(hashlib.blake2b(seed, digest_size=24).digest())
        host = pds_url.split("://", 1)[-1].split("/", 1)[0]
        access = self._sign(
            {"typ": "at+jwt", "alg": "HS256"},
            {
                "scope": "com.atproto.appPass",
                "sub": user.did,
                "iat": now,
                "exp": now + int(self.access_ttl),
                "aud": f"did:web:{host}",
                # Not in the PDS's claims; keeps two pairs issued in one second apart.
                "jti": jti + "a",
            },
        )
        refresh = self._sign(
            {"typ": "refresh+jwt", "alg": "HS256"},
            {
                "scope": "com.atproto.refresh",
                "sub": user.did,
                "aud": "did:web:bsky.social",
                "jti": jti,
                "iat": now,
                "exp": now + int(self.refresh_ttl),
            },
        )
        self._live_refresh[jti] = user.did
        return access, refresh

    # -- answers -------------------------------------------------------------------------------

    def did_doc(self, user: UserRec, pds_url: str) -> dict[str, Any]:
        key = base64.b32encode(hashlib.sha256(user.did.encode()).digest()).decode()
        return {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1",
            ],
            "id": user.did,
            "alsoKnownAs": [f"at://{user.handle}"],
            "verificationMethod": [
                {
                    "id": f"{user.did}#atproto",
                    "type": "Multikey",
                    "controller": user.did,
                    "publicKeyMultibase": "zQ3sh" + key[:44].lower(),
                }
            ],
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": pds_url,
                }
            ],
        }

    def _session(self, user: UserRec, pds_url: str, *, tokens: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {"did": user.did, "didDoc": self.did_doc(user, pds_url)}
        body["handle"] = user.handle
        body["email"] = f"{user.handle.split('.', 1)[0]}@sandbox.invalid"
        body["emailConfirmed"] = True
        body["emailAuthFactor"] = False
        if tokens:
            body["accessJwt"], body["refreshJwt"] = self._pair(user, pds_url)
        body["active"] = True
        return body

    def login(self, identifier: Any) -> UserRec | None:
        if not isinstance(identifier, str):
            return None
        value = identifier.strip().removeprefix("@")
        if "@" in value:  # e-mail
            value = value.split("@", 1)[0] + ".bsky.social"
        return self.data.actor(value)

    def create(self, body: Any, pds_url: str) -> Reply:
        if not isinstance(body, dict) or not isinstance(body.get("identifier"), str):
            return xrpc_error(400, "InvalidRequest", 'Input must have the property "identifier"')
        if not isinstance(body.get("password"), str):
            return xrpc_error(400, "InvalidRequest", 'Input must have the property "password"')
        user = self.login(body["identifier"])
        if user is None or not hmac.compare_digest(body["password"], self.password):
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        self.created += 1
        return 200, {}, self._session(user, pds_url)

    def refresh(self, authorization: str | None, pds_url: str) -> Reply:
        checked = self._bearer(authorization, refresh=True)
        if isinstance(checked, tuple):
            return checked
        jti = checked.get("jti")
        did = self._live_refresh.pop(jti, None) if isinstance(jti, str) else None
        user = self.data.actor(did) if did else None
        if user is None:
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        self.refreshed += 1
        return 200, {}, self._session(user, pds_url)

    def get_session(self, who: Principal, pds_url: str) -> Reply:
        return 200, {}, self._session(who.user, pds_url, tokens=False)

    def principal(self, authorization: str | None) -> Principal | Reply:
        """The account an access JWT belongs to, or the error answer."""
        checked = self._bearer(authorization, refresh=False)
        if isinstance(checked, tuple):
            return checked
        user = self.data.actor(str(checked.get("sub")))
        if user is None:
            return xrpc_error(401, "InvalidToken", "Token could not be verified")
        return Principal(user.did, user)

    def _bearer(self, authorization: str | None, *, refresh: bool) -> dict[str, Any] | Reply:
        if not authorization:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        verified = self._verify(token.strip())
        if verified is None:
            return xrpc_error(401, "InvalidToken", "Token could not be verified")
        header, claims = verified
        is_refresh = header.get("typ") == "refresh+jwt"
        if is_refresh != refresh:
            return xrpc_error(400, "InvalidToken", "Invalid token type")
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp <= self.clock.time():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return claims
