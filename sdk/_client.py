"""``sg.Client``: owns the HTTP connection pool, the transport stack and the stores.

One ``httpx.AsyncClient`` per ``Client``, shared by every account, created lazily inside the
running event loop. Stack: auth flow (per account) -> ``RateLimitTransport`` -> the inner
transport (httpx's own by default; pass ``transport=`` to change it). ``with_options`` gives a
copy that shares the pool, budgets, token managers and stores.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, replace
from http.cookiejar import CookieJar
from types import TracebackType
from typing import Any, Literal

import httpx

from ._account import Account
from ._aiohttp import AiohttpTransport, _mocked
from ._auth import TokenManager
from ._budgets import BudgetStore, MemoryBudgetStore
from ._clock import Clock, SystemClock
from ._credentials import Credential, OAuth2Token, OAuthApp
from ._oauth import OAuthFlow
from ._registry import load_adapter
from ._retry import RetryPolicy
from ._spec import ProviderSpec
from ._tokens import TokenStore, default_token_store
from ._transport import RateLimitTransport

__all__ = ["Client", "ClientOptions"]

DEFAULT_USER_AGENT = "socialgate/0.1 (+https://github.com/socialgate/socialgate)"


@dataclass(frozen=True, slots=True)
class ClientOptions:
    on_rate_limit: Literal["wait", "raise"] = "wait"
    # Longest a call may wait for a rate-limit window before raising RateLimited instead.
    max_wait: float = 900.0
    timeout: float = 30.0


class Client:
    """The entry point. Use as ``async with sg.Client(...) as client:``.

    - ``base_urls``: per-network base URL overrides (e.g. ``sg.sandbox.base_urls(...)``).
    - ``token_store``: where OAuth tokens live and rotations are written (default: an
      encrypted SQLite file under ``~/.socialgate``, opened only when first needed).
    - ``budget_store``: where rate-limit budgets live (in memory by default).
    - ``apps``: OAuth app settings per network, used for refresh and connect flows.
    - ``on_rate_limit``: ``"wait"`` (up to ``max_wait`` seconds) or ``"raise"``.
    - ``transport``: the inner httpx transport (default: ``AiohttpTransport``, aiohttp under
      httpx; pass ``httpx.AsyncHTTPTransport()`` for httpx's own), or ``http_client``: your
      own ``httpx.AsyncClient`` (proxies, certificates), whose transport gets the rate
      limiter wrapped around it; ``clock``: an injectable clock.
    """

    def __init__(
        self,
        *,
        base_urls: Mapping[str, str] | None = None,
        token_store: TokenStore | None = None,
        budget_store: BudgetStore | None = None,
        apps: Mapping[str, OAuthApp] | None = None,
        max_retries: int = 2,
        retry_policy: RetryPolicy | None = None,
        on_rate_limit: Literal["wait", "raise"] = "wait",
        max_wait: float = 900.0,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        user_agent: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if on_rate_limit not in ("wait", "raise"):
            raise ValueError("on_rate_limit must be 'wait' or 'raise'")
        self.base_urls = {k.lower(): v for k, v in (base_urls or {}).items()}
        self._token_store = token_store
        self.budget_store: BudgetStore = budget_store or MemoryBudgetStore()
        self.apps = {k.lower(): v for k, v in (apps or {}).items()}
        self.retry_policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self.options = ClientOptions(on_rate_limit, max_wait, timeout)
        self.clock: Clock = clock or SystemClock()
        if transport is not None and http_client is not None:
            raise ValueError("pass transport= or http_client=, not both")
        self._inner_transport = transport
        self._given_http = http_client
        self._headers = {"User-Agent": user_agent or DEFAULT_USER_AGENT, **(headers or {})}
        self._managers: dict[tuple[str, str], TokenManager] = {}
        self._shared = _Shared()

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Client:
        _ = self.http
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._shared.http is not None:
            if self._shared.owned:
                await self._shared.http.aclose()
            self._shared.http = None
            self._shared.lean = None
        store = self._token_store
        closer = getattr(store, "aclose", None)
        if closer is not None:
            await closer()

    @property
    def http(self) -> httpx.AsyncClient:
        """The shared ``httpx.AsyncClient`` (created on first use, inside the running loop)."""
        if self._shared.http is None and self._given_http is not None:
            # Your client keeps its settings (proxies, certificates, limits); its transport
            # is wrapped by the rate limiter. You own it: close it yourself.
            given = self._given_http
            given._transport = RateLimitTransport(given._transport, self.budget_store, self.clock)
            given.headers.setdefault("User-Agent", self._headers["User-Agent"])
            self._shared.http = given
            self._shared.owned = False
        if self._shared.http is None:
            inner = self._inner_transport or _default_transport()
            limiter = RateLimitTransport(inner, self.budget_store, self.clock)
            self._shared.http = httpx.AsyncClient(
                transport=limiter,
                timeout=self.options.timeout,
                headers=self._headers,
                follow_redirects=False,
            )
            # httpx copies a jar passed as cookies= into a standard one; replace it instead.
            self._shared.http.cookies.jar = _NoCookies()
            self._shared.lean = _lean_pair(limiter)
        return self._shared.http

    def _lean_path(self) -> tuple[RateLimitTransport, Any] | None:
        """The rate limiter and aiohttp transport that accounts send through directly when
        the stack is socialgate's default one and no mock library is installed."""
        if self._shared.http is None:
            _ = self.http
        lean = self._shared.lean
        if lean is None or _mocked():
            return None
        return lean

    @property
    def token_store(self) -> TokenStore:
        if self._token_store is None:
            self._token_store = default_token_store()
        return self._token_store

    # -- accounts ----------------------------------------------------------------------------

    def account(
        self,
        network: str,
        credentials: Credential,
        *,
        app: OAuthApp | None = None,
        key: str | None = None,
        base_url: str | None = None,
    ) -> Account:
        """An ``Account`` for ``network`` (``x``/``twitter``, ...) using ``credentials``.

        ``key`` names the credential in the token store; give a stable one (e.g. your user id)
        for OAuth2 tokens that rotate, so a restart finds the newest rotation.
        """
        adapter_cls = load_adapter(network)
        spec = adapter_cls.spec
        app = (
            app
            or self.apps.get(spec.name)
            or next((self.apps[a] for a in spec.aliases if a in self.apps), None)
        )
        url = base_url or self._base_url_for(spec)
        return Account(
            self,
            adapter_cls,
            credentials,
            key=key or credentials.fingerprint(),
            app=app,
            base_url=url,
        )

    def oauth(
        self, network: str, app: OAuthApp | None = None, *, base_url: str | None = None
    ) -> OAuthFlow:
        """Authorization-code (+PKCE) helpers for connecting a user account. ``base_url``
        selects the server for networks with many (a Mastodon instance)."""
        spec = load_adapter(network).spec
        app = app or self.apps.get(spec.name)
        if app is None:
            raise ValueError(f"no OAuthApp for {spec.name}: pass app= or Client(apps=...)")
        return OAuthFlow(self, spec, app, base_url or self._base_url_for(spec))

    def with_options(self, **changes: Any) -> Client:
        """A copy with other options (``on_rate_limit``, ``max_wait``, ``timeout``,
        ``max_retries``) sharing the pool, budgets, token managers and stores."""
        clone = copy.copy(self)
        option_fields = {
            k: changes.pop(k)
            for k in list(changes)
            if k in ("on_rate_limit", "max_wait", "timeout")
        }
        if option_fields:
            clone.options = replace(self.options, **option_fields)
        if "max_retries" in changes:
            clone.retry_policy = replace(self.retry_policy, max_retries=changes.pop("max_retries"))
        if "retry_policy" in changes:
            clone.retry_policy = changes.pop("retry_policy")
        if changes:
            raise TypeError(f"with_options() does not take {', '.join(sorted(changes))}")
        return clone

    def _base_url_for(self, spec: ProviderSpec) -> str:
        for name in (spec.name, *spec.aliases):
            if name in self.base_urls:
                return self.base_urls[name]
        return spec.base_url

    def _token_manager(
        self,
        spec: ProviderSpec,
        key: str,
        token: OAuth2Token,
        app: OAuthApp | None,
        base_url: str | None = None,
    ) -> TokenManager:
        manager = self._managers.get((spec.name, key))
        if manager is None:
            manager = TokenManager(
                network=spec.name,
                key=key,
                token=token,
                store=_LazyStore(self),
                oauth=_token_endpoint_on(spec, base_url or self._base_url_for(spec)),
                app=app,
                send=self._send_unauthenticated,
                clock=self.clock,
            )
            self._managers[(spec.name, key)] = manager
        return manager

    async def _send_unauthenticated(
        self, url: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        """POST a form to a token endpoint: the client's default headers (User-Agent, which
        Reddit requires) go along, auth and budgets do not."""
        request = self.http.build_request("POST", url, headers=headers, content=body)
        return await self.http.send(request)

    @property
    def user_agent(self) -> str:
        """The User-Agent every request carries (``user_agent=``, or a ``headers=`` entry)."""
        value = ""
        for name, header in self._headers.items():
            if name.lower() == "user-agent":
                value = header
        return value


class _NoCookies(CookieJar):
    """Keeps no cookies. One pool serves every account, so a cookie from one account's
    answer must never ride on another's request; no social API here authenticates by
    cookie; and httpx's cookie handling was a sixth of the client's per-request cost."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def add_cookie_header(self, request: Any) -> None:
        return None


def _default_transport() -> httpx.AsyncBaseTransport:
    """aiohttp under httpx when it is installed (several times less CPU per request),
    httpx's own transport otherwise. Either way respx intercepts as usual."""
    try:
        from ._aiohttp import AiohttpTransport

        return AiohttpTransport(limit=100)
    except ImportError:
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20)
        )


def _lean_pair(transport: httpx.AsyncBaseTransport) -> tuple[RateLimitTransport, Any] | None:
    """(limiter, aiohttp transport) when ``transport`` is the limiter over an unmodified
    ``AiohttpTransport``; the lean path must not skip a subclass's own sending."""
    if not isinstance(transport, RateLimitTransport):
        return None
    inner = transport._inner
    if (
        isinstance(inner, AiohttpTransport)
        and type(inner).handle_async_request is AiohttpTransport.handle_async_request
        and type(inner).send_raw is AiohttpTransport.send_raw
    ):
        return transport, inner
    return None


class _Shared:
    """State every ``with_options`` copy shares by reference."""

    def __init__(self) -> None:
        self.http: httpx.AsyncClient | None = None
        self.owned = True
        self.lean: tuple[RateLimitTransport, Any] | None = None


class _LazyStore:
    """Defers opening the default token store until a token is first read or written."""

    def __init__(self, client: Client) -> None:
        self._client = client

    async def get(self, network: str, key: str) -> Credential | None:
        return await self._client.token_store.get(network, key)

    async def set(self, network: str, key: str, credential: Credential) -> None:
        await self._client.token_store.set(network, key, credential)

    async def delete(self, network: str, key: str) -> None:
        await self._client.token_store.delete(network, key)


def _token_endpoint_on(spec: ProviderSpec, base_url: str) -> Any:
    """The spec's OAuth settings, with endpoints moved onto an overridden base URL (sandbox)."""
    oauth = spec.oauth
    if oauth is None or base_url == spec.base_url:
        return oauth
    return replace(
        oauth,
        authorize_url=_rebase(oauth.authorize_url, spec.base_url, base_url),
        token_url=_rebase(oauth.token_url, spec.base_url, base_url),
        revoke_url=_rebase(oauth.revoke_url, spec.base_url, base_url) if oauth.revoke_url else None,
    )


def _rebase(url: str, old_base: str, new_base: str) -> str:
    if url.startswith(old_base):
        return new_base.rstrip("/") + url[len(old_base.rstrip("/")) :]
    # A token endpoint on another host (e.g. Google's) keeps its path under the new base.
    return new_base.rstrip("/") + httpx.URL(url).path
