"""Token stores: round-trips, encryption at rest, key handling and concurrency."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from socialgate import SocialGateError
from socialgate._credentials import AppPassword, BearerToken, Credential, OAuth1Token, OAuth2Token
from socialgate._tokens import (
    MemoryTokenStore,
    SQLiteTokenStore,
    TokenStore,
    TokenStoreError,
    default_token_store,
)

ACCESS = "ACCESS-plaintext-9f8e7d6c5b4a"
REFRESH = "REFRESH-plaintext-0a1b2c3d4e5f"

CREDENTIALS: list[Credential] = [
    OAuth2Token(
        access_token=ACCESS,
        refresh_token=REFRESH,
        expires_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        scopes=("tweet.read", "tweet.write", "offline.access"),
        token_type="bearer",
        refresh_expires_at=datetime(2030, 6, 1, tzinfo=UTC),
    ),
    OAuth2Token(access_token="bare-access-token"),
    BearerToken(token="bearer-secret-123456"),
    OAuth1Token(
        consumer_key="ck", consumer_secret="cs-secret", token="t-secret", token_secret="ts-secret"
    ),
    AppPassword(identifier="alice.bsky.social", password="abcd-efgh-ijkl-mnop"),
]


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.fixture(autouse=True)
def _no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALGATE_TOKEN_KEY", raising=False)
    monkeypatch.delenv("SOCIALGATE_TOKEN_DB", raising=False)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TokenStore]:
    if request.param == "memory":
        yield MemoryTokenStore()
        return
    s = SQLiteTokenStore(tmp_path / "tokens.sqlite3")
    try:
        yield s
    finally:
        await s.aclose()


def wal_exists(db: Path) -> bool:
    return Path(f"{db}-wal").exists()


def default_path() -> Path:
    return Path("~/.socialgate/tokens.sqlite3").expanduser()


def all_bytes(db: Path) -> bytes:
    """The database file plus its WAL and shared-memory files, whichever exist."""
    return b"".join(
        p.read_bytes() for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()
    )


# --- behaviour shared by every store -------------------------------------------------------


@pytest.mark.parametrize("cred", CREDENTIALS, ids=lambda c: type(c).__name__)
async def test_round_trip_every_credential_type(store: TokenStore, cred: Credential) -> None:
    await store.set("x", "alice", cred)
    got = await store.get("x", "alice")
    assert got == cred
    assert type(got) is type(cred)
    if isinstance(got, OAuth2Token) and got.expires_at is not None:
        assert got.expires_at.tzinfo is not None
        assert isinstance(got.scopes, tuple)


async def test_unknown_is_none_and_upsert_and_delete(store: TokenStore) -> None:
    assert await store.get("x", "nobody") is None
    await store.set("x", "alice", BearerToken("first-token-value"))
    await store.set("x", "alice", BearerToken("second-token-value"))
    assert await store.get("x", "alice") == BearerToken("second-token-value")
    # The same key under another network is another entry.
    await store.set("mastodon", "alice", BearerToken("mastodon-token-value"))
    await store.delete("x", "alice")
    assert await store.get("x", "alice") is None
    assert await store.get("mastodon", "alice") == BearerToken("mastodon-token-value")
    await store.delete("x", "alice")  # deleting twice is not an error


async def test_set_rejects_non_credentials(store: TokenStore) -> None:
    with pytest.raises(TypeError, match="dict"):
        await store.set("x", "alice", {"token": "nope"})  # type: ignore[arg-type]


async def test_concurrent_sets_all_land(store: TokenStore) -> None:
    async def put(i: int) -> None:
        await store.set("x", f"user{i}", BearerToken(f"token-number-{i}"))

    await asyncio.gather(*(put(i) for i in range(50)))
    got = await asyncio.gather(*(store.get("x", f"user{i}") for i in range(50)))
    assert got == [BearerToken(f"token-number-{i}") for i in range(50)]


def test_stores_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(MemoryTokenStore(), TokenStore)
    assert isinstance(SQLiteTokenStore(tmp_path / "t.db"), TokenStore)  # nothing opened yet


# --- SQLite: encryption at rest ------------------------------------------------------------


async def test_plaintext_never_reaches_disk(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    s = SQLiteTokenStore(db)
    try:
        await s.set("x", "alice", CREDENTIALS[0])
        await s.set("bsky", "alice", CREDENTIALS[4])
        # While open the row sits in the WAL, which must be just as opaque.
        assert wal_exists(db)
        on_disk = all_bytes(db)
    finally:
        await s.aclose()
    on_disk_after_checkpoint = all_bytes(db)
    for blob in (on_disk, on_disk_after_checkpoint):
        for secret in (ACCESS, REFRESH, "abcd-efgh-ijkl-mnop", "tweet.write"):
            assert secret.encode() not in blob
        assert b"alice" in blob  # sanity: we really are looking at the data
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


async def test_row_layout(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    async with SQLiteTokenStore(db) as s:
        await s.set("x", "alice", CREDENTIALS[2])
        await s.set("x", "alice", CREDENTIALS[2])
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT network, key, ciphertext, updated_at FROM tokens").fetchall()
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    conn.close()
    assert mode == "wal"
    assert len(rows) == 1
    network, key, blob, updated_at = rows[0]
    assert (network, key) == ("x", "alice")
    assert blob[0] == 1  # version byte
    assert isinstance(updated_at, float)


async def test_each_write_uses_a_fresh_nonce(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    blobs = []
    async with SQLiteTokenStore(db) as s:
        for _ in range(2):
            await s.set("x", "alice", CREDENTIALS[2])
            with sqlite3.connect(db) as conn:
                blobs.append(conn.execute("SELECT ciphertext FROM tokens").fetchone()[0])
            conn.close()
    assert blobs[0] != blobs[1]


async def test_row_moved_to_another_name_does_not_decrypt(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    async with SQLiteTokenStore(db) as s:
        await s.set("x", "alice", CREDENTIALS[0])
        await s.set("x", "bob", BearerToken("bob-token-value"))
        with sqlite3.connect(db) as conn:
            conn.execute(
                "UPDATE tokens SET ciphertext = "
                "(SELECT ciphertext FROM tokens WHERE key = 'alice') WHERE key = 'bob'"
            )
            conn.execute(
                "INSERT INTO tokens SELECT 'linkedin', key, ciphertext, updated_at "
                "FROM tokens WHERE key = 'alice'"
            )
        conn.close()
        for network, key in (("x", "bob"), ("linkedin", "alice")):
            with pytest.raises(TokenStoreError, match="decryption failed") as info:
                await s.get(network, key)
            assert ACCESS not in str(info.value)
            assert "delete" in str(info.value)
        assert await s.get("x", "alice") == CREDENTIALS[0]


async def test_unknown_format_version_is_reported(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    async with SQLiteTokenStore(db) as s:
        await s.set("x", "alice", CREDENTIALS[2])
        with sqlite3.connect(db) as conn:
            conn.execute(
                "UPDATE tokens SET ciphertext = CAST(X'09' || substr(ciphertext, 2) AS BLOB)"
            )
        conn.close()
        with pytest.raises(TokenStoreError, match="unknown format"):
            await s.get("x", "alice")


# --- SQLite: keys --------------------------------------------------------------------------


async def test_key_file_is_created_private(tmp_path: Path) -> None:
    home = tmp_path / "home" / ".socialgate"
    async with SQLiteTokenStore(home / "tokens.sqlite3") as s:
        await s.set("x", "alice", CREDENTIALS[2])
    key_file = home / "token.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert len(base64.urlsafe_b64decode(key_file.read_bytes().strip())) == 32
    # Reopening reuses the same key file.
    async with SQLiteTokenStore(home / "tokens.sqlite3") as s:
        assert await s.get("x", "alice") == CREDENTIALS[2]


async def test_explicit_key_file_path(tmp_path: Path) -> None:
    key_file = tmp_path / "secrets" / "my.key"
    async with SQLiteTokenStore(tmp_path / "t.db", key_file=key_file) as s:
        await s.set("x", "alice", CREDENTIALS[2])
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not (tmp_path / "token.key").exists()


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
async def test_readable_key_file_is_refused(tmp_path: Path, mode: int) -> None:
    db = tmp_path / "tokens.sqlite3"
    async with SQLiteTokenStore(db) as s:
        await s.set("x", "alice", CREDENTIALS[2])
    key_file = tmp_path / "token.key"
    key_text = key_file.read_text().strip()
    key_file.chmod(mode)
    async with SQLiteTokenStore(db) as s:
        with pytest.raises(TokenStoreError, match="chmod 600") as info:
            await s.get("x", "alice")
    assert key_text not in str(info.value)
    assert isinstance(info.value, SocialGateError)


async def test_different_key_raises_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "tokens.sqlite3"
    k1, k2 = os.urandom(32), os.urandom(32)
    async with SQLiteTokenStore(db, key=k1) as s:
        await s.set("x", "alice", CREDENTIALS[0])
    async with SQLiteTokenStore(db, key=b64(k2)) as s:
        with pytest.raises(TokenStoreError, match="decryption failed") as info:
            await s.get("x", "alice")
        # Writing is refused too, so one database never mixes two keys.
        with pytest.raises(TokenStoreError, match="decryption failed"):
            await s.set("x", "bob", CREDENTIALS[2])
    message = str(info.value)
    for secret in (b64(k1), b64(k2), ACCESS, REFRESH):
        assert secret not in message
    assert "original key" in message
    # The base64 form of the right key opens it.
    async with SQLiteTokenStore(db, key=b64(k1).rstrip("=")) as s:
        assert await s.get("x", "alice") == CREDENTIALS[0]


async def test_env_key_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "tokens.sqlite3"
    raw = os.urandom(32)
    monkeypatch.setenv("SOCIALGATE_TOKEN_KEY", b64(raw))
    async with SQLiteTokenStore(db) as s:
        await s.set("x", "alice", CREDENTIALS[0])
    assert not (tmp_path / "token.key").exists()  # no key file when the env supplies one
    monkeypatch.delenv("SOCIALGATE_TOKEN_KEY")
    async with SQLiteTokenStore(db, key=raw) as s:
        assert await s.get("x", "alice") == CREDENTIALS[0]
    # An explicit key beats the env var.
    monkeypatch.setenv("SOCIALGATE_TOKEN_KEY", b64(os.urandom(32)))
    async with SQLiteTokenStore(db, key=raw) as s:
        assert await s.get("x", "alice") == CREDENTIALS[0]
    async with SQLiteTokenStore(db) as s:
        with pytest.raises(TokenStoreError, match="decryption failed"):
            await s.get("x", "alice")


@pytest.mark.parametrize(
    "bad", [b"short", os.urandom(33), "not base64 !!", b64(os.urandom(16)), ""]
)
def test_malformed_key_is_rejected_without_echo(bad: bytes | str, tmp_path: Path) -> None:
    with pytest.raises(TokenStoreError, match="key") as info:
        SQLiteTokenStore(tmp_path / "t.db", key=bad)
    if isinstance(bad, str) and bad:
        assert bad not in str(info.value)


def test_malformed_env_key_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALGATE_TOKEN_KEY", "xyz-not-a-key")
    with pytest.raises(TokenStoreError, match="SOCIALGATE_TOKEN_KEY") as info:
        SQLiteTokenStore(tmp_path / "t.db")
    assert "xyz-not-a-key" not in str(info.value)


async def test_corrupt_key_file_is_reported(tmp_path: Path) -> None:
    key_file = tmp_path / "token.key"
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"definitely-not-a-key\n")
    os.close(fd)
    async with SQLiteTokenStore(tmp_path / "t.db") as s:
        with pytest.raises(TokenStoreError, match="key file") as info:
            await s.get("x", "alice")
    assert "definitely-not-a-key" not in str(info.value)


# --- SQLite: lifecycle ---------------------------------------------------------------------


async def test_closed_store_refuses_work(tmp_path: Path) -> None:
    s = SQLiteTokenStore(tmp_path / "t.db")
    await s.set("x", "alice", CREDENTIALS[2])
    await s.aclose()
    await s.aclose()  # idempotent
    with pytest.raises(TokenStoreError, match="closed"):
        await s.get("x", "alice")


async def test_repr_and_logs_hold_no_secrets(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = os.urandom(32)
    async with SQLiteTokenStore(tmp_path / "t.db", key=raw) as s:
        await s.set("x", "alice", CREDENTIALS[0])
        await s.get("x", "alice")
        assert b64(raw) not in repr(s) and "key" not in repr(s).split("path=")[0]
    async with SQLiteTokenStore(tmp_path / "u.db") as s:
        await s.set("x", "alice", CREDENTIALS[0])
    key_text = (tmp_path / "token.key").read_text().strip()
    for secret in (ACCESS, REFRESH, b64(raw), key_text):
        assert secret not in caplog.text


async def test_default_token_store_reads_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "env" / "db.sqlite3"
    monkeypatch.setenv("SOCIALGATE_TOKEN_DB", str(db))
    s = default_token_store()
    try:
        assert s.path == db
        assert s.key_file == db.parent / "token.key"
        await s.set("x", "alice", CREDENTIALS[2])
    finally:
        await s.aclose()
    assert db.exists()
    monkeypatch.delenv("SOCIALGATE_TOKEN_DB")
    assert default_token_store().path == default_path()
