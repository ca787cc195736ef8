"""socialgate: one async interface to the social networks.

import socialgate as sg

async with sg.Client() as client:
    acct = client.account("x", sg.BearerToken("..."))
    post = await acct.posts.get("20")
"""

from . import sandbox
from ._account import Account
from ._aiohttp import AiohttpTransport
from ._budgets import BudgetStore, MemoryBudgetStore
from ._client import Client
from ._clock import Clock, FakeClock, SystemClock
from ._credentials import AppPassword, BearerToken, OAuth1Token, OAuth2Token, OAuthApp
from ._errors import (
    APIError,
    AuthenticationError,
    BadRequest,
    Conflict,
    NotFound,
    NotSupported,
    PermissionDenied,
    RateLimited,
    ReauthorizationRequired,
    ServerError,
    SocialGateError,
    TransportError,
    UpstreamSchemaError,
)
from ._models import Capability, Draft, Media, Metrics, Post, Profile
from ._oauth import AuthorizationRequest, OAuthFlow
from ._pagination import Page, Paginator
from ._ratelimit_headers import RateLimitInfo
from ._registry import available_networks, register_adapter
from ._retry import RetryPolicy
from ._tokens import MemoryTokenStore, SQLiteTokenStore, TokenStore

__version__ = "0.1.0.dev0"

__all__ = [
    "APIError",
    "Account",
    "AiohttpTransport",
    "AppPassword",
    "AuthenticationError",
    "AuthorizationRequest",
    "BadRequest",
    "BearerToken",
    "BudgetStore",
    "Capability",
    "Client",
    "Clock",
    "Conflict",
    "Draft",
    "FakeClock",
    "Media",
    "MemoryBudgetStore",
    "MemoryTokenStore",
    "Metrics",
    "NotFound",
    "NotSupported",
    "OAuth1Token",
    "OAuth2Token",
    "OAuthApp",
    "OAuthFlow",
    "Page",
    "Paginator",
    "PermissionDenied",
    "Post",
    "Profile",
    "RateLimitInfo",
    "RateLimited",
    "ReauthorizationRequired",
    "RetryPolicy",
    "SQLiteTokenStore",
    "ServerError",
    "SocialGateError",
    "SystemClock",
    "TokenStore",
    "TransportError",
    "UpstreamSchemaError",
    "__version__",
    "available_networks",
    "register_adapter",
    "sandbox",
]
