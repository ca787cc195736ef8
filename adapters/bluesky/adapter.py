"""The Bluesky (AT Protocol) adapter: which XRPC method answers each contract call.

Reads and writes go to the account's PDS (from the session's DID document) where it differs
from the entry host (``https://bsky.social``): the auth flow re-addresses them (``auth.py``).
Posts are ``app.bsky.feed.post`` records: the contract's ``Post.id`` is the ``at://`` URI,
``Post.url`` the bsky.app link. Writes compute rich-text facets, upload images as blobs, carry
reply root/parent refs and are budgeted against the per-DID write points
(``budgets.reserve_static``).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from socialgate._adapter import Adapter
from socialgate._errors import APIError, BadRequest, NotFound, UpstreamSchemaError
from socialgate._models import Draft, Media, Post, Profile
from socialgate._pagination import PageQuery, PageRequest

from . import compose, facets, listing, mapping
from .auth import SessionAuth
from .budgets import reserve_static
from .session import Session, SessionManager
from .spec import IMAGE_MAX_BYTES, PAGE_SIZE, SPEC, WRITE_COST

if TYPE_CHECKING:
    from socialgate._account import Account

__all__ = ["BlueskyAdapter"]

POST = "app.bsky.feed.post"
# Options a Draft may carry: record fields, or "facets" to replace the detected ones.
CREATE_OPTIONS = frozenset({"langs", "facets", "tags", "labels"})
_WEB_POST = re.compile(r"^https://bsky\.app/profile/([^/]+)/post/([^/?#]+)")
_WEB_PROFILE = re.compile(r"^https://bsky\.app/profile/([^/?#]+)")


class BlueskyAdapter(Adapter):
    spec = SPEC

    def __init__(self, account: Account) -> None:
        super().__init__(account)
        self._session_auth = SessionAuth(account)

    def auth(self) -> httpx.Auth:
        return self._session_auth

    @property
    def sessions(self) -> SessionManager:
        """The credential's session manager (shared with other accounts on the same store)."""
        return self._session_auth.manager

    def secrets(self) -> tuple[str, ...]:
        """The session JWTs, for scrubbing errors. The core does not call this yet: it needs
        ``Account._secrets()`` to include ``adapter.secrets()``."""
        manager = self._session_auth._manager
        return manager.secrets() if manager is not None else ()

    # -- plumbing ----------------------------------------------------------------------------

    async def _me(self) -> Session:
        return await self.sessions.identity(self.account)

    async def _query(self, nsid: str, params: dict[str, Any]) -> Any:
        return await self.account.call_json("GET", f"/xrpc/{nsid}", params=params)

    @staticmethod
    def _page(nsid: str, params: dict[str, Any]) -> PageRequest:
        return PageRequest("GET", f"/xrpc/{nsid}", params)

    async def _write(self, kind: str, nsid: str, payload: dict[str, Any]) -> Any:
        me = await self._me()
        assert me.did is not None
        cost = WRITE_COST[kind]
        async with reserve_static(
            self.account, ("repo.write.hour", "repo.write.day"), key=me.did, cost=cost
        ):
            return await self.account.call_json(
                "POST",
                f"/xrpc/{nsid}",
                json=payload,
                # Deleting is "ensure it does not exist": safe to repeat. Creating is not.
                idempotent=kind == "delete",
            )

    async def _did_for(self, actor: str) -> str:
        if actor.startswith("did:"):
            return actor
        body = await self._query("com.atproto.identity.resolveHandle", {"handle": actor})
        did = body.get("did") if isinstance(body, dict) else None
        if not isinstance(did, str):
            raise UpstreamSchemaError(
                "Bluesky's resolveHandle answer has no did", network=SPEC.name, body=str(body)
            )
        return did

    async def _post_uri(self, post_id: str) -> str:
        """An ``at://`` URI with a DID authority, from an at:// URI or a bsky.app post link."""
        value = post_id.strip()
        web = _WEB_POST.match(value)
        if web:
            value = f"at://{web.group(1)}/{POST}/{web.group(2)}"
        try:
            authority, collection, rkey = mapping.parse_at_uri(value)
        except ValueError:
            raise BadRequest(
                f"Bluesky post ids are at:// URIs (or bsky.app post links), not {post_id!r}",
                network=SPEC.name,
            ) from None
        return f"at://{await self._did_for(authority)}/{collection}/{rkey}"

    @staticmethod
    def _actor(id_or_handle: str) -> str:
        value = id_or_handle.strip()
        web = _WEB_PROFILE.match(value)
        if web:
            value = web.group(1)
        return value.removeprefix("@")

    # -- profiles ----------------------------------------------------------------------------

    async def me(self) -> Profile:
        me = await self._me()
        assert me.did is not None
        return await self.get_profile(me.did)

    async def get_profile(self, id_or_handle: str) -> Profile:
        body = await self._query("app.bsky.actor.getProfile", {"actor": self._actor(id_or_handle)})
        return mapping.profile_from_view(body)

    async def followers(self, user_id: str, options: dict[str, Any]) -> PageQuery[Profile]:
        params = {
            "actor": self._actor(user_id),
            "limit": options.pop("page_size", PAGE_SIZE),
            **options,
        }

        def parse(body: Any, response: httpx.Response) -> list[Profile]:
            return [
                mapping.profile_from_view(v)
                for v in listing.items_of(body, "followers", "getFollowers")
            ]

        return PageQuery(self._page("app.bsky.graph.getFollowers", params), listing.CURSOR, parse)

    # -- posts -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        uri = await self._post_uri(post_id)
        posts = await self._posts_by_uri([uri])
        if uri not in posts:
            raise NotFound(
                f"Bluesky has no post {uri} (deleted, or not visible to this account)",
                network=SPEC.name,
            )
        return mapping.post_from_view(posts[uri])

    async def _posts_by_uri(self, uris: list[str]) -> dict[str, Any]:
        body = await self._query("app.bsky.feed.getPosts", {"uris": uris})
        return {
            v["uri"]: v
            for v in listing.items_of(body, "posts", "getPosts")
            if isinstance(v, dict) and isinstance(v.get("uri"), str)
        }

    async def list_posts(
        self, user_id: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        with_reposts = bool(options.pop("reposts", False))
        if options.pop("replies", True) is False:
            options.setdefault("filter", "posts_no_replies")
        params = {
            "actor": self._actor(user_id),
            "limit": options.pop("page_size", PAGE_SIZE),
            **options,
        }

        def parse(body: Any, response: httpx.Response) -> list[Post]:
            posts = []
            for item in listing.items_of(body, "feed", "getAuthorFeed"):
                reason = item.get("reason") if isinstance(item, dict) else None
                if (
                    isinstance(reason, dict)
                    and reason.get("$type") == listing.REPOST
                    and not with_reposts
                ):
                    continue
                if not listing.within(listing.feed_time(item), since, until):
                    continue
                posts.append(mapping.post_from_view(item.get("post")))
            return posts

        request = self._page("app.bsky.feed.getAuthorFeed", params)
        return PageQuery(
            request, listing.NewestFirst(listing.CURSOR, since, listing.feed_times), parse
        )

    async def search_posts(
        self, query: str, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        params: dict[str, Any] = {
            "q": query,
            "limit": options.pop("page_size", PAGE_SIZE),
            "sort": options.pop("sort", "latest"),
        }
        if since is not None:
            params["since"] = listing.iso_time(since)
        if until is not None:
            params["until"] = listing.iso_time(until)
        params.update(options)

        def parse(body: Any, response: httpx.Response) -> list[Post]:
            return [
                mapping.post_from_view(v) for v in listing.items_of(body, "posts", "searchPosts")
            ]

        return PageQuery(self._page("app.bsky.feed.searchPosts", params), listing.CURSOR, parse)

    async def replies(self, post_id: str, options: dict[str, Any]) -> PageQuery[Post]:
        uri = await self._post_uri(post_id)
        params = {"uri": uri, "depth": options.pop("depth", 1000), "parentHeight": 0, **options}

        def parse(body: Any, response: httpx.Response) -> list[Post]:
            thread = body.get("thread") if isinstance(body, dict) else None
            if isinstance(thread, dict) and thread.get("notFound"):
                raise NotFound(f"Bluesky has no post {uri}", network=SPEC.name)
            return list(mapping.thread_replies(thread))

        # One answer holds the whole tree; it has no cursor, so paging ends after it.
        return PageQuery(self._page("app.bsky.feed.getPostThread", params), listing.CURSOR, parse)

    async def mentions(
        self, since: datetime | None, until: datetime | None, options: dict[str, Any]
    ) -> PageQuery[Post]:
        reasons = list(options.pop("reasons", ["mention"]))
        params = {"limit": options.pop("page_size", PAGE_SIZE), "reasons": reasons, **options}

        def parse(body: Any, response: httpx.Response) -> list[Post]:
            return [
                mapping.post_from_notification(item)
                for item in listing.items_of(body, "notifications", "listNotifications")
                if isinstance(item, dict)
                and item.get("reason") in reasons
                and listing.within(listing.parse_time(item.get("indexedAt")), since, until)
            ]

        request = self._page("app.bsky.notification.listNotifications", params)
        return PageQuery(
            request, listing.NewestFirst(listing.CURSOR, since, listing.notification_times), parse
        )

    # -- writes ------------------------------------------------------------------------------

    async def create_post(self, draft: Draft) -> Post:
        unknown = set(draft.options) - CREATE_OPTIONS
        if unknown:
            raise BadRequest(
                f"Bluesky does not take Draft options {sorted(unknown)}; known: "
                f"{sorted(CREATE_OPTIONS)}",
                network=SPEC.name,
            )
        me = await self._me()
        created_at = self.account.client.clock.now()
        record: dict[str, Any] = {
            "$type": POST,
            "text": draft.text,
            "createdAt": listing.iso_time(created_at),
        }
        options = draft.options
        langs = options.get("langs")
        if langs:
            record["langs"] = [langs] if isinstance(langs, str) else list(langs)
        found = options["facets"] if "facets" in options else await self.build_facets(draft.text)
        if found:
            record["facets"] = found
        if options.get("tags"):
            record["tags"] = list(options["tags"])
        if options.get("labels"):
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": str(v)} for v in options["labels"]],
            }
        refs = await self._refs([u for u in (draft.reply_to_id, draft.quote_id) if u])
        root_uri = None
        if draft.reply_to_id:
            record["reply"] = compose.reply_refs(refs[draft.reply_to_id])
            root_uri = record["reply"]["root"]["uri"]
        embed = compose.embed(draft.media, refs.get(draft.quote_id) if draft.quote_id else None)
        if embed:
            record["embed"] = embed
        body = await self._write(
            "create",
            "com.atproto.repo.createRecord",
            {"repo": me.did, "collection": POST, "record": record},
        )
        if not isinstance(body, dict) or not isinstance(body.get("uri"), str):
            raise UpstreamSchemaError(
                "Bluesky accepted the post but its answer has no uri; the post may exist",
                network=SPEC.name,
                body=str(body)[:10_000],
            )
        uri = body["uri"]
        return Post(
            network=SPEC.name,
            id=uri,
            author_id=me.did,
            text=draft.text,
            created_at=created_at,
            url=mapping.post_url(uri, me.handle),
            reply_to_id=record["reply"]["parent"]["uri"] if draft.reply_to_id else None,
            conversation_id=root_uri or uri,
            lang=record["langs"][0] if record.get("langs") else None,
            media=draft.media,
            raw={**body, "record": record},
        )

    async def _refs(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        """Post views for reply parents and quoted posts, keyed by the id the caller gave."""
        if not ids:
            return {}
        uris = {i: await self._post_uri(i) for i in ids}
        views = await self._posts_by_uri(sorted(set(uris.values())))
        refs = {}
        for given, uri in uris.items():
            view = views.get(uri)
            if view is None or not isinstance(view.get("cid"), str):
                raise NotFound(
                    f"Bluesky has no post {uri} to reply to or quote (deleted, or not visible)",
                    network=SPEC.name,
                )
            refs[given] = view
        return refs

    async def build_facets(self, text: str) -> list[dict[str, Any]]:
        """Facets for ``text``: links and tags as found, mentions whose handle resolves."""
        result = []
        dids: dict[str, str | None] = {}
        for candidate in facets.detect(text):
            if candidate.kind != "mention":
                result.append(facets.facet(candidate))
                continue
            if candidate.value not in dids:
                dids[candidate.value] = await self._resolve(candidate.value)
            did = dids[candidate.value]
            if did is not None:
                result.append(facets.facet(candidate, did=did))
        return result

    async def _resolve(self, handle: str) -> str | None:
        try:
            return await self._did_for(handle)
        except APIError as error:
            if error.status in (400, 404):
                return None  # not a Bluesky handle: the text stays plain, as in the app
            raise

    async def delete_post(self, post_id: str) -> None:
        me = await self._me()
        uri = await self._post_uri(post_id)
        authority, collection, rkey = mapping.parse_at_uri(uri)
        if authority != me.did:
            raise BadRequest(
                f"{uri} belongs to {authority}; an account can delete only its own posts",
                network=SPEC.name,
            )
        await self._write(
            "delete",
            "com.atproto.repo.deleteRecord",
            {"repo": me.did, "collection": collection, "rkey": rkey},
        )

    # -- media -------------------------------------------------------------------------------

    async def upload_media(
        self, data: bytes, mime_type: str, alt_text: str | None, options: dict[str, Any]
    ) -> Media:
        width, height = options.pop("width", None), options.pop("height", None)
        if options:
            raise BadRequest(
                f"Bluesky media.upload() does not take options {sorted(options)}; known: "
                "['height', 'width'] (the image's size, sent as its aspect ratio)",
                network=SPEC.name,
            )
        if not mime_type.startswith("image/"):
            raise self.unsupported(
                f"uploading {mime_type}",
                "posts embed images from uploadBlob; video goes through a separate service",
            )
        if len(data) > IMAGE_MAX_BYTES:
            raise BadRequest(
                f"Bluesky images may be at most {IMAGE_MAX_BYTES:,} bytes (got {len(data):,})",
                network=SPEC.name,
            )
        body = await self.account.call_json(
            "POST",
            "/xrpc/com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": mime_type},
            # Blobs are content-addressed: sending the same bytes again yields the same CID.
            idempotent=True,
        )
        blob = body.get("blob") if isinstance(body, dict) else None
        cid = mapping.blob_cid(blob)
        if not isinstance(blob, dict) or cid is None:
            raise UpstreamSchemaError(
                "Bluesky's uploadBlob answer has no blob ref", network=SPEC.name, body=str(body)
            )
        return Media(
            id=cid,
            kind="image",
            alt_text=alt_text,
            width=int(width) if width else None,
            height=int(height) if height else None,
            network=SPEC.name,
            raw={"blob": blob},
        )
