"""socialgate: one async interface to the social networks."""

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

__version__ = "0.1.0.dev0"
