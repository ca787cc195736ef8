"""Token stores: where credentials live between runs (in memory, or in SQLite encrypted at rest).

The SQLite store seals every row with AES-256-GCM. The row's ``(network, key)`` is bound as
associated data, so a ciphertext copied onto another row refuses to decrypt. The encryption key
comes from ``key=``, else ``SOCIALGATE_TOKEN_KEY``, else a 0600 key file next to the database.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._credentials import (
    AppPassword,
    BearerToken,
    Credential,
    OAuth1Token,
    OAuth2Token,
    credential_from_dict,
    credential_to_dict,
)
from ._errors import SocialGateError

__all__ = [
    "DEFAULT_TOKEN_DB",
    "MemoryTokenStore",
    "SQLiteTokenStore",
    "TokenStore",
    "TokenStoreError",
    "default_token_store",
]

logger = logging.getLogger("socialgate.tokens")

DEFAULT_TOKEN_DB = "~/.socialgate/tokens.sqlite3"
KEY_ENV = "SOCIALGATE_TOKEN_KEY"
DB_ENV = "SOCIALGATE_TOKEN_DB"
KEY_FILE_NAME = "token.key"

_KEY_LEN = 32
_NONCE_LEN = 12
# The first byte of every sealed blob names its layout, so a later format can coexist with
# rows written by this one.
_V1 = b"\x01"
_AAD_DOMAIN = b"socialgate/token/"
_CHECK_PLAINTEXT = b"socialgate token key check"
_CREDENTIAL_TYPES = (BearerToken, OAuth2Token, OAuth1Token, AppPassword)
_GENERATE_HINT = (
    'python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)

_T = TypeVar("_T")


class TokenStoreError(SocialGateError):
    """The token store cannot be used as configured (bad key, unsafe key file, corrupt row)."""


@runtime_checkable
class TokenStore(Protocol):
    """Where credentials are kept, addressed by network name and a caller-chosen key."""

    async def get(self, network: str, key: str) -> Credential | None: ...

    async def set(self, network: str, key: str, credential: Credential) -> None: ...

    async def delete(self, network: str, key: str) -> None: ...


def _check_credential(credential: object) -> None:
    if not isinstance(credential, _CREDENTIAL_TYPES):
        # Name only the type: the object itself may hold a secret in its repr.
        raise TypeError(f"expected a Credential, got {type(credential).__name__}")


class MemoryTokenStore:
    """Keeps credentials in a dict for the life of the process (tests, short scripts)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], Credential] = {}

    async def get(self, network: str, key: str) -> Credential | None:
        # Credentials are frozen, so handing out the stored object cannot let callers mutate it.
        return self._items.get((network, key))

    async def set(self, network: str, key: str, credential: Credential) -> None:
        _check_credential(credential)
        self._items[(network, key)] = credential

    async def delete(self, network: str, key: str) -> None:
        self._items.pop((network, key), None)

    def __repr__(self) -> str:
        return f"MemoryTokenStore(entries={len(self._items)})"


def _parse_key(key: bytes | str, source: str) -> bytes:
    """Turn a configured key into 32 raw bytes. Messages never echo the key itself."""
    if isinstance(key, bytes):
        if len(key) != _KEY_LEN:
            raise TokenStoreError(
                f"the token encryption key from {source} must be exactly {_KEY_LEN} raw bytes "
                f"(got {len(key)}); pass 32 bytes or a urlsafe-base64 string. "
                f"Generate one with: {_GENERATE_HINT}"
            )
        return key
    text = key.strip()
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _KEY_LEN:
        raise TokenStoreError(
            f"the token encryption key from {source} is not the urlsafe-base64 encoding of "
            f"{_KEY_LEN} bytes. Generate one with: {_GENERATE_HINT}"
        )
    return raw


def _aad(network: str, key: str) -> bytes:
    # JSON keeps the pair unambiguous ("a", "b/c") != ("a/b", "c").
    return _V1 + _AAD_DOMAIN + json.dumps([network, key]).encode()


def _insecure_bits(mode: int) -> bool:
    # POSIX permission bits mean nothing on Windows; there ACLs decide.
    return os.name != "nt" and bool(mode & 0o077)


class SQLiteTokenStore:
    """Credentials in a local SQLite file, each row AES-256-GCM encrypted.

    Opening is lazy: the first ``get``/``set``/``delete`` creates the directory, key file and
    database in a worker thread, so constructing the store never blocks the event loop. Call
    ``aclose()`` (or use ``async with``) when done.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = DEFAULT_TOKEN_DB,
        *,
        key: bytes | str | None = None,
        key_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self.path = Path(os.path.expanduser(os.fspath(path)))
        self.key_file = (
            Path(os.path.expanduser(os.fspath(key_file)))
            if key_file is not None
            else self.path.parent / KEY_FILE_NAME
        )
        self._aead: AESGCM | None = None
        # Explicit and env keys need no I/O, so a malformed one is reported right away.
        if key is not None:
            self._aead = AESGCM(_parse_key(key, "the key= argument"))
        elif env_key := os.environ.get(KEY_ENV):
            self._aead = AESGCM(_parse_key(env_key, f"${KEY_ENV}"))
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"SQLiteTokenStore(path={str(self.path)!r})"

    async def __aenter__(self) -> SQLiteTokenStore:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get(self, network: str, key: str) -> Credential | None:
        return await self._run(self._get_sync, network, key)

    async def set(self, network: str, key: str, credential: Credential) -> None:
        _check_credential(credential)
        await self._run(self._set_sync, network, key, credential)

    async def delete(self, network: str, key: str) -> None:
        await self._run(self._delete_sync, network, key)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close_sync)

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        # sqlite3 blocks; the lock serialises the one shared connection across worker threads.
        return await asyncio.to_thread(self._locked, fn, *args)

    def _locked(self, fn: Callable[..., _T], *args: Any) -> _T:
        with self._lock:
            return fn(self._connection(), *args)

    # Everything below runs in a worker thread, under self._lock (taken by _locked or here).

    def _close_sync(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                conn, self._conn = self._conn, None
                conn.close()

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise TokenStoreError(f"the token store at {self.path} is closed")
        if self._conn is None:
            if self._aead is None:
                self._aead = AESGCM(self._load_or_create_key_file())
            self._conn = self._open_db()
        return self._conn

    def _open_db(self) -> sqlite3.Connection:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # sqlite would create the file with the umask's mode; pre-creating it 0600 keeps the
        # account names private, and SQLite gives its -wal/-shm files the same mode.
        try:
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass
        # Autocommit: every statement is its own transaction, which is all a store needs.
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS tokens ("
                " network TEXT NOT NULL, key TEXT NOT NULL, ciphertext BLOB NOT NULL,"
                " updated_at REAL NOT NULL, PRIMARY KEY (network, key))"
            )
            conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)"
            )
            self._verify_key(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _verify_key(self, conn: sqlite3.Connection) -> None:
        # A canary sealed with the database's first key: a different key is caught at open,
        # before it can write rows the other key's users could never read.
        conn.execute(
            "INSERT OR IGNORE INTO meta(name, value) VALUES ('key_check', ?)",
            (self._seal(_CHECK_PLAINTEXT, b"key_check"),),
        )
        (blob,) = conn.execute("SELECT value FROM meta WHERE name = 'key_check'").fetchone()
        try:
            ok = self._open(blob, b"key_check") == _CHECK_PLAINTEXT
        except InvalidTag:
            ok = False
        if not ok:
            raise TokenStoreError(
                f"decryption failed: the token database {self.path} was encrypted with a "
                f"different key than the one configured. Use the original key (the key= "
                f"argument, ${KEY_ENV}, or the key file {self.key_file}), or move the database "
                f"aside to start afresh (every account will then need to authorise again)."
            )

    def _load_or_create_key_file(self) -> bytes:
        path = self.key_file
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        raw = os.urandom(_KEY_LEN)
        try:
            # O_EXCL makes creation atomic with its final mode: no window where the key exists
            # but is readable by others, and two processes cannot both write one.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return self._read_key_file()
        try:
            try:
                os.write(fd, base64.urlsafe_b64encode(raw) + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            # An empty key file left behind would stall every later open.
            path.unlink(missing_ok=True)
            raise
        logger.info("created token encryption key file %s", path)
        return raw

    def _read_key_file(self) -> bytes:
        path = self.key_file
        # Another process may have just created the file and not yet written it.
        for _ in range(50):
            fd = os.open(path, os.O_RDONLY)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise TokenStoreError(f"the token key file {path} is not a regular file")
                if _insecure_bits(st.st_mode):
                    raise TokenStoreError(
                        f"the token key file {path} is accessible to other users "
                        f"(mode {stat.S_IMODE(st.st_mode):03o}); restrict it with "
                        f"`chmod 600 {path}` and try again"
                    )
                data = os.read(fd, 4096)
            finally:
                os.close(fd)
            if data.strip():
                break
            time.sleep(0.02)
        if len(data) == _KEY_LEN:
            return data
        try:
            return _parse_key(data.decode("ascii"), f"the key file {path}")
        except UnicodeDecodeError:
            raise TokenStoreError(
                f"the token key file {path} holds neither 32 raw bytes nor urlsafe base64"
            ) from None

    def _seal(self, plaintext: bytes, aad: bytes) -> bytes:
        assert self._aead is not None
        nonce = os.urandom(_NONCE_LEN)
        return _V1 + nonce + self._aead.encrypt(nonce, plaintext, aad)

    def _open(self, blob: bytes, aad: bytes) -> bytes:
        assert self._aead is not None
        if blob[:1] != _V1:
            raise TokenStoreError(
                f"a row in the token database {self.path} uses an unknown format "
                f"(version byte {blob[:1].hex() or 'missing'}); it was probably written by a "
                f"newer socialgate: upgrade socialgate to read it"
            )
        nonce = blob[1 : 1 + _NONCE_LEN]
        return self._aead.decrypt(nonce, blob[1 + _NONCE_LEN :], aad)

    def _get_sync(self, conn: sqlite3.Connection, network: str, key: str) -> Credential | None:
        row = conn.execute(
            # CAST: a row edited by hand may hold TEXT, which sqlite3 would try to decode.
            "SELECT CAST(ciphertext AS BLOB) FROM tokens WHERE network = ? AND key = ?",
            (network, key),
        ).fetchone()
        if row is None:
            return None
        try:
            payload = self._open(bytes(row[0]), _aad(network, key))
        except InvalidTag:
            raise TokenStoreError(
                f"decryption failed for the stored {network!r} credential {key!r} in "
                f"{self.path}: it was written with another key or under another name, or was "
                f"altered. Use the key it was written with, or delete it "
                f"(store.delete({network!r}, {key!r})) and authorise the account again."
            ) from None
        try:
            return credential_from_dict(json.loads(payload))
        except (ValueError, KeyError, TypeError):
            # The payload is a secret: say what failed, never what it contained.
            raise TokenStoreError(
                f"the stored {network!r} credential {key!r} in {self.path} decrypted but is "
                f"not a credential this socialgate understands; delete it and authorise again"
            ) from None

    def _set_sync(
        self, conn: sqlite3.Connection, network: str, key: str, credential: Credential
    ) -> None:
        payload = json.dumps(credential_to_dict(credential), separators=(",", ":")).encode()
        conn.execute(
            "INSERT INTO tokens(network, key, ciphertext, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(network, key) DO UPDATE SET "
            "ciphertext = excluded.ciphertext, updated_at = excluded.updated_at",
            (network, key, self._seal(payload, _aad(network, key)), time.time()),
        )

    def _delete_sync(self, conn: sqlite3.Connection, network: str, key: str) -> None:
        conn.execute("DELETE FROM tokens WHERE network = ? AND key = ?", (network, key))


def default_token_store() -> SQLiteTokenStore:
    """The store socialgate uses when none is given: ``$SOCIALGATE_TOKEN_DB`` or the default."""
    return SQLiteTokenStore(os.environ.get(DB_ENV) or DEFAULT_TOKEN_DB)
