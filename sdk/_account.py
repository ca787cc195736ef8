"""An Account (one network + one credential) and the base request path every call takes.

``Account.call`` is the one place that sends: it picks the bucket, attaches the budget
context for the rate-limiting transport, runs the tenacity retry loop with the client's
policy, turns transport failures and error answers into the error tree, and scrubs secrets.
"""

from __future__ import annotations

import functools
import json as jsonlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, unquote, urlencode, urlsplit

import httpx
from pydantic_core import from_json
from tenacity import AsyncRetrying, RetryCallState, stop_after_attempt

from ._adapter import Adapter
from ._auth import BearerAuth, LeanAuth, OAuth1Auth, OAuth2Auth, TokenManager
from ._budgets import StaticBudget
from ._credentials import AppPassword, BearerToken, Credential, OAuth1Token, OAuth2Token, OAuthApp
from ._errors import (
    APIError,
    RateLimited,
    ReauthorizationRequired,
    SocialGateError,
    TransportError,
    UpstreamSchemaError,
    error_class_for_status,
)
from ._models import Capability
from ._pagination import PageRequest
from ._ratelimit_headers import RateLimitInfo, parse_retry_after
from ._resources import MediaResource, MentionsResource, PostsResource, ProfilesResource
from ._spec import ErrorInfo, ProviderSpec
from ._transport import EXTENSION, RequestContext
from ._wire import answer, decode_body

if TYPE_CHECKING:
    from ._client import Client

__all__ = ["Account"]

T = TypeVar("T")


def _primitive(value: Any) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def encode_query(params: Mapping[str, Any]) -> str:
    """``params`` as a query string, the way httpx would encode it (``true``/``false``,
    lists repeated, spaces as ``%20``). Adapters send the same field lists on every call,
    so scalar-only parameter sets are encoded once and remembered."""
    try:
        return _encode_scalars(tuple(params.items()))
    except TypeError:  # a list value: not hashable, encode it every time
        return _encode(params)


@functools.lru_cache(maxsize=1024)
def _encode_scalars(items: tuple[tuple[str, Any], ...]) -> str:
    return _encode(dict(items))


def _encode(params: Mapping[str, Any]) -> str:
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, _primitive(v)) for v in value)
        else:
            pairs.append((key, _primitive(value)))
    return urlencode(pairs, quote_via=quote)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname or "", parts.port or _DEFAULT_PORTS.get(scheme)


def _same_origin(url: str, base: str) -> bool:
    return _origin(url) == _origin(base)


def _header_dict(base: Mapping[str, str], extra: Mapping[str, str] | None) -> dict[str, str]:
    """``base`` updated by ``extra``, names compared case-insensitively (the later spelling
    is kept)."""
    merged = dict(base)
    if extra:
        lowered = {k.lower(): k for k in merged}
        for key, value in extra.items():
            old = lowered.get(key.lower())
            if old is not None:
                del merged[old]
            merged[key] = value
            lowered[key.lower()] = key
    return merged


_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


class Account:
    """One network and one credential. Resources: ``profiles``, ``posts``, ``mentions``,
    ``media``; escape hatch: ``request``."""

    def __init__(
        self,
        client: Client,
        adapter_cls: type[Adapter],
        credential: Credential,
        *,
        key: str,
        app: OAuthApp | None,
        base_url: str,
    ) -> None:
        self.client = client
        self.spec: ProviderSpec = adapter_cls.spec
        self.network = self.spec.name
        self.credential = credential
        self.key = key
        self.app = app
        self.base_url = base_url.rstrip("/")
        self._app_only = isinstance(credential, BearerToken) and adapter_cls.bearer_is_app_only
        self._app_id = app.client_id if app else f"cred-{credential.fingerprint()}"
        self._rate_limits: dict[str, RateLimitInfo] = {}
        self._contexts: dict[str, RequestContext] = {}
        self._manager: TokenManager | None = None
        if isinstance(credential, OAuth2Token):
            self._manager = client._token_manager(self.spec, key, credential, app, self.base_url)
        self.adapter = adapter_cls(self)
        self._headers = {**dict(self.spec.headers), **self.adapter.headers()}
        self._lean_headers: dict[str, str] | None = None
        self._auth = self.adapter.auth() or self._default_auth()
        self.profiles = ProfilesResource(self)
        self.posts = PostsResource(self)
        self.mentions = MentionsResource(self)
        self.media = MediaResource(self)

    def __repr__(self) -> str:
        return f"Account(network={self.network!r}, key={self.key!r})"

    # -- public surface ---------------------------------------------------------------------

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.spec.capabilities

    @property
    def token_manager(self) -> TokenManager | None:
        """The manager of this account's OAuth 2.0 token (``None`` for other credentials)."""
        return self._manager

    @property
    def rate_limits(self) -> dict[str, RateLimitInfo]:
        """The latest budget each bucket's responses reported (a copy)."""
        return dict(self._rate_limits)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Any endpoint, with the account's auth, budgets, retries and error mapping.
        ``path`` is relative to the network's base URL, or an absolute URL on it."""
        absolute = path.startswith(("http://", "https://"))
        return await self.call(
            method,
            path,
            params=params,
            json=json,
            data=data,
            files=files,
            content=content,
            headers=headers,
            idempotent=idempotent,
            absolute=absolute,
        )

    async def guard(self, awaitable: Awaitable[T]) -> T:
        """Await an adapter operation; errors it raises after ``call`` returned (a 200 that
        means "not found", a mapping failure) are scrubbed of secrets like any other."""
        try:
            return await awaitable
        except SocialGateError as error:
            self.scrub(error)
            raise

    def scrub(self, error: SocialGateError) -> None:
        error.scrub(self._secrets())

    def require(self, capability: Capability) -> None:
        if capability not in self.spec.capabilities:
            raise self.adapter.unsupported(f"{capability.value}()")

    # -- used by adapters and paginators -------------------------------------------------------

    async def call_json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.call(method, path, **kwargs)
        return self.decode(response)

    def decode(self, response: httpx.Response) -> Any:
        content = response.content
        if not content:
            return None
        try:
            # pydantic-core's parser is about three times faster than json.loads; what it
            # refuses (a BOM, UTF-16, lone surrogates) goes to json.loads, which decides.
            return from_json(content)
        except ValueError:
            pass
        try:
            return jsonlib.loads(content)
        except ValueError as exc:
            raise UpstreamSchemaError(
                f"{self.spec.display_name} answered HTTP {response.status_code} with a body that "
                "is not JSON; the raw body is attached as .body",
                network=self.network,
                status=response.status_code,
                body=response.text[:10_000],
            ) from exc

    async def fetch_page(
        self, request: PageRequest, bucket: str | None
    ) -> tuple[Any, httpx.Response]:
        if request.absolute and not _same_origin(request.path, self.base_url):
            # A next-page link is server-supplied: following it elsewhere would hand the
            # account's credentials to another host.
            raise UpstreamSchemaError(
                f"{self.spec.display_name} gave a next-page link to another host "
                f"({urlsplit(request.path).hostname}); it was not followed with this account's "
                "credentials",
                network=self.network,
                body=request.path,
            )
        response = await self.call(
            request.method,
            request.path,
            params=request.params or None,
            json=request.json,
            bucket=bucket,
            absolute=request.absolute,
        )
        return self.decode(response), response

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        bucket: str | None = None,
        idempotent: bool | None = None,
        absolute: bool = False,
        cost: float | None = None,
    ) -> httpx.Response:
        method = method.upper()
        if absolute:
            url = path
            route_path = unquote(urlsplit(path).path)
        else:
            url = self.base_url + path
            route_path = path.split("?", 1)[0]
        ctx = self._context(bucket or self.spec.bucket_for(method, route_path), cost)
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        if params and (type(params) is dict or isinstance(params, Mapping)):
            # Encoding once here, rather than letting httpx merge params into the URL and
            # re-parse it, is a third of the SDK's per-request cost on long X field lists.
            url += ("&" if "?" in url else "?") + encode_query(params)
            params = None
        send: Callable[[], Awaitable[httpx.Response]] | None = None
        if params is None and data is None and files is None:
            send = self._lean_sender(method, url, route_path, json, content, headers, ctx)
        if send is None:
            if self._headers:
                headers = {**self._headers, **(headers or {})}
            request = self.client.http.build_request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                files=files,
                content=content,
                headers=headers,
                extensions={EXTENSION: ctx},
            )
            send = functools.partial(self._send_once, request, ctx)
        try:
            try:
                return await send()
            except SocialGateError as first:
                # The retry loop is only built when the first attempt failed retryably.
                delay = self.client.retry_policy.decide(first, 1, idempotent=idempotent)
                if delay is None:
                    raise
                return await self._retry(send, idempotent, delay)
        except SocialGateError as error:
            if not idempotent and error.sent and isinstance(error, TransportError | APIError):
                if not isinstance(error, RateLimited) and (
                    isinstance(error, TransportError) or (error.status or 0) >= 500
                ):
                    error.outcome_unknown = True
                    error.message += (
                        " The request may have been applied upstream; it was not re-sent, to "
                        "avoid a duplicate. Check before trying again."
                    )
                    error.args = (error.message,)
            self.scrub(error)
            raise

    async def _retry(
        self,
        send: Callable[[], Awaitable[httpx.Response]],
        idempotent: bool,
        first_delay: float,
    ) -> httpx.Response:
        """Attempts 2.. in one tenacity loop, with the client's policy deciding each wait."""
        policy = self.client.retry_policy
        delays = [first_delay]

        def should_retry(state: RetryCallState) -> bool:
            error = state.outcome.exception() if state.outcome else None
            if error is None:
                return False
            # tenacity counts from this loop's start; attempt 1 already happened.
            delay = policy.decide(error, state.attempt_number + 1, idempotent=idempotent)
            if delay is None:
                return False
            delays.append(delay)
            return True

        await self.client.clock.sleep(first_delay)
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.max_retries),
            retry=should_retry,
            wait=lambda state: delays[-1],
            sleep=self.client.clock.sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await send()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def poll(
        self, check: Callable[[], Awaitable[float | None]], *, max_seconds: float, what: str
    ) -> None:
        """Wait for server-side processing: ``check`` returns ``None`` when done, or the
        seconds to wait before asking again. Waits go through the client's clock."""
        waited = 0.0
        while True:
            delay = await check()
            if delay is None:
                return
            delay = max(delay, 0.1)
            if waited + delay > max_seconds:
                raise SocialGateError(
                    f"{what} did not finish within {max_seconds:.0f}s; it may still complete "
                    "upstream, so check before starting it again",
                    network=self.network,
                )
            await self.client.clock.sleep(delay)
            waited += delay

    # -- internals -----------------------------------------------------------------------------

    async def _send_once(self, request: httpx.Request, ctx: RequestContext) -> httpx.Response:
        try:
            response = await self.client.http.send(request, auth=self._auth)
        except httpx.TransportError as exc:
            raise self._transport_error(exc, request.method, request.url.path) from exc
        except httpx.DecodingError as exc:
            raise self._undecodable(exc) from exc
        if response.status_code >= 400:
            raise await self._error_for(response, ctx)
        return response

    def _lean_sender(
        self,
        method: str,
        url: str,
        route_path: str,
        json: Any,
        content: bytes | str | None,
        headers: dict[str, str] | None,
        ctx: RequestContext,
    ) -> Callable[[], Awaitable[httpx.Response]] | None:
        """The send step of the lean path (straight to aiohttp, see ``_wire``), or ``None``
        when this call must go through httpx: another transport or a user's own client, a
        mock library installed, an auth without a lean form, or a form/multipart body."""
        lean = self.client._lean_path()
        if lean is None or not isinstance(self._auth, LeanAuth):
            return None
        base = self._lean_headers
        if base is None:
            # httpx's defaults, less "Connection: keep-alive" (HTTP/1.1's default anyway).
            defaults = {
                k.decode("latin-1"): v.decode("latin-1")
                for k, v in self.client.http.headers.raw
                if (k.lower(), v.lower()) != (b"connection", b"keep-alive")
            }
            base = self._lean_headers = _header_dict(defaults, self._headers)
        sent_headers = _header_dict(base, headers) if headers else dict(base)
        body: bytes | None = None
        if json is not None:
            body = jsonlib.dumps(
                json, ensure_ascii=False, separators=(",", ":"), allow_nan=False
            ).encode("utf-8")
            if not headers or not any(k.lower() == "content-type" for k in headers):
                sent_headers["Content-Type"] = "application/json"
        elif content is not None:
            body = content.encode("utf-8") if isinstance(content, str) else content
        return functools.partial(
            self._send_lean, lean, method, url, route_path, sent_headers, body, ctx
        )

    async def _send_lean(
        self,
        lean: tuple[Any, Any],
        method: str,
        url: str,
        route_path: str,
        sent_headers: dict[str, str],
        body: bytes | None,
        ctx: RequestContext,
    ) -> httpx.Response:
        """One attempt on the lean path: authorize, reserve, send, learn (and once more
        after a renewed credential)."""
        limiter, wire = lean
        auth = self._auth
        assert isinstance(auth, LeanAuth)
        timeout = self.client.options.timeout
        # The synchronous forms first (a static token, the in-memory budget store): each
        # await saved is a coroutine less per call.
        authorized = auth.lean_authorize_now(url, sent_headers)
        if authorized is None:
            authorized = await auth.lean_authorize(url, sent_headers)
        target, state = authorized
        renewed = False
        while True:
            keys = limiter.reserve_now(ctx) or await limiter.reserve(ctx)
            try:
                status, found, raw, received = await wire.send_raw(
                    method, target, sent_headers, body, timeout
                )
            except httpx.TransportError as exc:
                await limiter.release(ctx, keys)
                raise self._transport_error(exc, method, route_path) from exc
            except BaseException:
                await limiter.release(ctx, keys)
                raise
            if not limiter.settle_now(ctx, keys, status, found):
                await limiter.settle(ctx, keys, status, found)
            decoded = decode_body(found.get("Content-Encoding"), received)
            if status >= 400 and not renewed:
                again = await auth.lean_renew(
                    status, received if decoded is None else decoded, state, url, sent_headers
                )
                if again is not None:
                    target, state = again
                    renewed = True
                    continue
            break
        try:
            response = answer(
                status,
                raw,
                received,
                decoded,
                method=method,
                url=target,
                request_headers=sent_headers,
                request_body=body,
            )
        except httpx.DecodingError as exc:
            raise self._undecodable(exc) from exc
        if status >= 400:
            raise await self._error_for(response, ctx)
        return response

    def _transport_error(self, exc: httpx.TransportError, method: str, path: str) -> TransportError:
        return TransportError(
            f"{type(exc).__name__} talking to {self.spec.display_name} "
            f"({method} {path}): {exc or 'no detail'}",
            network=self.network,
            sent=not isinstance(exc, _NOT_SENT),
        )

    def _undecodable(self, exc: httpx.DecodingError) -> UpstreamSchemaError:
        return UpstreamSchemaError(
            f"{self.spec.display_name} answered with a body that could not be decompressed "
            f"({exc}); nothing was parsed. If it repeats, report it with the network's status.",
            network=self.network,
        )

    async def body_error(
        self, response: httpx.Response, info: ErrorInfo, *, bucket: str | None = None
    ) -> SocialGateError:
        """The error for a successful-looking answer whose body says it failed (Reddit's
        ``RATELIMIT`` in a 200, TikTok's non-zero ``code``). A body-level rate limit also
        empties the bucket's budget. The adapter raises what this returns."""
        route_path = response.request.url.path if response.request else ""
        ctx = self._context(bucket or self.spec.bucket_for(response.request.method, route_path))
        error = await self._error_for(response, ctx, info)
        self.scrub(error)
        return error

    async def _error_for(
        self, response: httpx.Response, ctx: RequestContext, info: ErrorInfo | None = None
    ) -> SocialGateError:
        status = response.status_code
        if info is None:
            try:
                body: Any = jsonlib.loads(response.content) if response.content else None
            except ValueError:
                body = None
            info = self.spec.parse_error(status, body, response.headers)
        effective = info.status_override or status
        what = f"{self.spec.display_name} answered HTTP {status}"
        if info.code:
            what += f" ({info.code})"
        if info.message:
            what += f": {info.message}"
        common: dict[str, Any] = {
            "network": self.network,
            "status": status,
            "code": info.code,
            "upstream_message": info.message,
        }
        raw_body = response.text[:10_000] if response.content else None
        if info.reauth:
            return ReauthorizationRequired(
                f"{what}. The credential is revoked or invalid; send the user through OAuth "
                "consent again.",
                **common,
            )
        if info.rate_limit_scope or effective == 429:
            return await self._rate_limited(response, ctx, what, info, common, raw_body)
        cls = error_class_for_status(effective)
        return cls(f"{what}.{_HINTS.get(cls.__name__, '')}", body=raw_body, **common)

    async def _rate_limited(
        self,
        response: httpx.Response,
        ctx: RequestContext,
        what: str,
        info: ErrorInfo,
        common: dict[str, Any],
        raw_body: str | None,
    ) -> RateLimited:
        store = self.client.budget_store
        now = self.client.clock.time()
        body_scope = info.rate_limit_scope
        retry_after = info.retry_after
        if "retry-after" in response.headers:
            retry_after = parse_retry_after(response.headers["retry-after"], now=now)
        scope = body_scope or "window"
        if scope == "window":
            budget = await store.get(ctx.key)
            # Only a reset the server stated counts; a locally guessed window does not.
            reset_epoch = None
            if budget is not None and budget.confirmed and (budget.reset_at or 0.0) > now:
                reset_epoch = budget.reset_at
            if body_scope and response.status_code != 429:
                # A body-level limit (a 200/400/403) carries no headers the transport read;
                # a wait the body states outlasts a sooner reset of the header window.
                if retry_after is not None:
                    reset_epoch = max(reset_epoch or 0.0, now + retry_after)
                reset_epoch = reset_epoch or now + _BODY_LIMIT_BACKOFF
                await store.exhaust(ctx.key, until=reset_epoch, now=now)
            todo = "the window resets soon; socialgate waits for it when on_rate_limit='wait'"
        else:
            # A quota's reset is only known when the server says so; the window headers on
            # the same answer describe another limit. Hold the bucket so that the next calls
            # fail fast, and probe again after a while.
            reset_epoch = now + retry_after if retry_after is not None else None
            await store.exhaust(
                ctx.key, until=reset_epoch or now + _QUOTA_PROBE_AFTER, now=now, scope=scope
            )
            todo = f"the {scope} quota is used up; reschedule the work after it resets"
        if retry_after is None and reset_epoch is not None:
            retry_after = max(reset_epoch - now, 0.0)
        reset_at = datetime.fromtimestamp(reset_epoch, UTC) if reset_epoch is not None else None
        return RateLimited(
            f"{what}. Rate limited on bucket '{ctx.bucket}': {todo}.",
            retry_after=retry_after,
            reset_at=reset_at,
            scope=scope,
            bucket=ctx.bucket,
            body=raw_body,
            **common,
        )

    def _context(self, bucket: str, cost: float | None = None) -> RequestContext:
        """The budget context for ``bucket``; ``cost`` overrides the spec's cost per call."""
        cache_key = bucket if cost is None else f"{bucket}#{cost}"
        ctx = self._contexts.get(cache_key)
        if ctx is None:
            spec_bucket = self.spec.buckets.get(bucket)
            static = None
            shared = False
            if spec_bucket is not None:
                limit = spec_bucket.limit_for(self._app_only)
                static = StaticBudget(limit, spec_bucket.window, spec_bucket.scope)
                shared = spec_bucket.shared_by_app or self._app_only
                if cost is None:
                    cost = float(spec_bucket.cost)
            app_key = f"{self.network}|{self._app_id}|*|{bucket}"
            cred_key = f"{self.network}|{self._app_id}|{self.credential.fingerprint()}|{bucket}"
            options = self.client.options
            ctx = RequestContext(
                network=self.network,
                bucket=bucket,
                key=app_key if shared else cred_key,
                static=static,
                app_key=app_key,
                reset_style=self.spec.reset_style,
                reset_margin=self.spec.reset_margin,
                on_rate_limit=options.on_rate_limit,
                max_wait=options.max_wait,
                cost=1.0 if cost is None else cost,
                observe=self._observe,
            )
            self._contexts[cache_key] = ctx
        return ctx

    def _observe(self, name: str, info: RateLimitInfo) -> None:
        self._rate_limits[name] = info

    def _default_auth(self) -> httpx.Auth:
        cred = self.credential
        if isinstance(cred, BearerToken):
            return BearerAuth(cred.token)
        if isinstance(cred, OAuth2Token):
            assert self._manager is not None
            return OAuth2Auth(self._manager)
        if isinstance(cred, OAuth1Token):
            return OAuth1Auth(cred)
        if isinstance(cred, AppPassword):
            raise self.adapter.unsupported("app passwords", "use an OAuth or bearer credential")
        raise TypeError(f"unknown credential type {type(cred).__name__}")

    def _secrets(self) -> tuple[str, ...]:
        secrets = list(self.credential.secrets())
        if self._manager is not None:
            secrets.extend(self._manager.secrets())
        if self.app is not None:
            secrets.extend(self.app.secrets())
        secrets.extend(self.adapter.secrets())
        return tuple(secrets)


# Hold a bucket this long after a body-level limit that gave no reset time.
_BODY_LIMIT_BACKOFF = 60.0
# After a daily/monthly quota refusal with no reset time, calls fail fast for this long and
# then one probe is let through.
_QUOTA_PROBE_AFTER = 3600.0

_HINTS = {
    "AuthenticationError": " The token is missing, expired or revoked; refresh it or reconnect.",
    "PermissionDenied": " The token lacks a scope or access level this call needs.",
    "NotFound": " It does not exist, was deleted, or is not visible to this credential.",
    "ServerError": " The network failed; idempotent calls were retried.",
}
