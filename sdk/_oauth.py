"""Connecting a user account: authorization URL with PKCE + state, callback check, code exchange.

authlib provides the protocol mechanics (random tokens, the S256 code challenge, client
authentication at the token endpoint); the HTTP goes through the client's own pool.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from ._auth import client_auth_request
from ._credentials import OAuth2Token, OAuthApp
from ._errors import AuthenticationError, BadRequest, NotSupported
from ._spec import OAuthSpec, ProviderSpec

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["AuthorizationRequest", "OAuthFlow"]


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Send the user to ``url``; keep ``state`` and ``code_verifier`` (server side) for the
    callback."""

    url: str
    state: str
    code_verifier: str | None
    redirect_uri: str | None

    def __repr__(self) -> str:
        return f"AuthorizationRequest(url={self.url!r}, state='***', code_verifier='***')"


class OAuthFlow:
    def __init__(self, client: Client, spec: ProviderSpec, app: OAuthApp, base_url: str) -> None:
        if spec.oauth is None:
            raise NotSupported(f"{spec.display_name} has no OAuth 2.0 flow", network=spec.name)
        from ._client import _token_endpoint_on

        self._client = client
        self._spec = spec
        self._oauth: OAuthSpec = _token_endpoint_on(spec, base_url)
        self._app = app

    def authorization_url(
        self,
        *,
        scopes: tuple[str, ...] | list[str] | None = None,
        redirect_uri: str | None = None,
        state: str | None = None,
        **extra: str,
    ) -> AuthorizationRequest:
        oauth = self._oauth
        redirect_uri = redirect_uri or self._app.redirect_uri
        state = state or generate_token(32)
        params: dict[str, str] = {
            "response_type": "code",
            oauth.client_id_param: self._app.client_id,
            "state": state,
        }
        if redirect_uri:
            params["redirect_uri"] = redirect_uri
        chosen = tuple(scopes or self._app.scopes or oauth.default_scopes)
        if chosen:
            params["scope"] = oauth.scope_separator.join(chosen)
        verifier = None
        if oauth.pkce:
            verifier = generate_token(64)
            params["code_challenge"] = create_s256_code_challenge(verifier)
            params["code_challenge_method"] = "S256"
        params.update(dict(oauth.extra_authorize_params))
        params.update(extra)
        separator = "&" if "?" in oauth.authorize_url else "?"
        url = oauth.authorize_url + separator + urlencode(params, quote_via=quote)
        return AuthorizationRequest(url, state, verifier, redirect_uri)

    @staticmethod
    def parse_callback(url: str, expected_state: str) -> str:
        """The ``code`` from the redirect URL, after a constant-time ``state`` check."""
        query = parse_qs(urlsplit(url).query)
        if "error" in query:
            raise AuthenticationError(
                f"the user or the network refused authorization: {query['error'][0]}"
            )
        state = query.get("state", [""])[0]
        if not hmac.compare_digest(state.encode(), expected_state.encode()):
            raise BadRequest("OAuth state mismatch: the callback is not for this request (CSRF?)")
        code = query.get("code", [""])[0]
        if not code:
            raise BadRequest("the OAuth callback carries no code")
        return code

    async def exchange_code(
        self, code: str, *, code_verifier: str | None = None, redirect_uri: str | None = None
    ) -> OAuth2Token:
        form = {"grant_type": "authorization_code", "code": code}
        redirect_uri = redirect_uri or self._app.redirect_uri
        if redirect_uri:
            form["redirect_uri"] = redirect_uri
        if code_verifier:
            form["code_verifier"] = code_verifier
        headers, body = client_auth_request(self._oauth, self._app, form)
        response = await self._client._send_unauthenticated(self._oauth.token_url, headers, body)
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code >= 400 or not isinstance(data, dict) or "access_token" not in data:
            code_name = data.get("error") if isinstance(data, dict) else None
            error = AuthenticationError(
                f"exchanging the authorization code failed (HTTP {response.status_code}, "
                f"{code_name or 'no error code'}); codes are single-use and short-lived: start "
                "the flow again",
                network=self._spec.name,
                status=response.status_code,
                code=str(code_name) if code_name else None,
            )
            error.scrub([code, code_verifier or "", self._app.client_secret or ""])
            raise error
        return OAuth2Token.from_token_response(data, now=self._client.clock.now())

    async def revoke(self, token: OAuth2Token | str, *, hint: str = "access_token") -> None:
        """Revoke a token (RFC 7009) at the network's revocation endpoint; for an
        ``OAuth2Token`` its refresh token is revoked too where it has one."""
        if self._oauth.revoke_url is None:
            raise NotSupported(
                f"{self._spec.display_name} has no token revocation endpoint",
                network=self._spec.name,
            )
        pairs: list[tuple[str, str]]
        if isinstance(token, OAuth2Token):
            pairs = [(token.access_token, "access_token")]
            if token.refresh_token:
                pairs.append((token.refresh_token, "refresh_token"))
        else:
            pairs = [(token, hint)]
        for value, kind in pairs:
            headers, body = client_auth_request(
                self._oauth, self._app, {"token": value, "token_type_hint": kind}
            )
            response = await self._client._send_unauthenticated(
                self._oauth.revoke_url, headers, body
            )
            if response.status_code >= 400:
                error = AuthenticationError(
                    f"revoking the {kind} failed with HTTP {response.status_code}",
                    network=self._spec.name,
                    status=response.status_code,
                )
                error.scrub([v for v, _ in pairs] + [self._app.client_secret or ""])
                raise error
