"""Persistence of the AWS endpoint's data: moto's in-memory backends, pickled to one file.

moto's server keeps everything in memory. The endpoint process (moto_server.py) pickles the
backends of the services it offers into `$ALOFT_HOME/aws/snapshot.bin` at shutdown and
periodically, and loads them back at start. A few objects inside moto do not pickle as they
are (locks, private keys, defaultdicts with lambda factories): `_Pickler.reducer_override`
rebuilds them. The file is encrypted (Fernet, key in `aws/snapshot.key`, mode 0600) because
moto keeps SecureString values in clear inside its objects, and written then renamed, so a
crash while saving leaves the previous snapshot.
"""

from __future__ import annotations

import io
import os
import pickle
import pickletools
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aloft.local.services.account import ACCOUNT_ID, LEGACY_ACCOUNT_ID

SERVICES = ("s3", "sqs", "sns", "dynamodb", "dynamodbstreams", "kinesis", "ssm", "kms",
            "secretsmanager")
"""The services the endpoint offers and persists (a backend left out here is served by moto all
the same, but starts empty after every restart: Kinesis streams and records were lost so)."""

_RLOCK = type(threading.RLock())
_LOCK = type(threading.Lock())


def _new_rlock() -> Any:
    return threading.RLock()


def _new_lock() -> Any:
    return threading.Lock()


def _private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, None)


def _nested_dict() -> defaultdict[Any, dict[Any, Any]]:
    return defaultdict(dict)


def _defaultdict(cls: type[defaultdict[Any, Any]], factory: Callable[[], Any] | None,
                 items: dict[Any, Any], attrs: dict[str, Any]) -> defaultdict[Any, Any]:
    """A defaultdict (or a subclass with its own __init__, like moto's ParameterDict)."""
    obj = cls.__new__(cls)
    defaultdict.__init__(obj, factory)
    obj.update(items)
    for name, value in attrs.items():
        setattr(obj, name, value)
    return obj


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _RLOCK):
            return (_new_rlock, ())
        if isinstance(obj, _LOCK):
            return (_new_lock, ())
        if isinstance(obj, defaultdict):
            factory = obj.default_factory
            if getattr(factory, "__name__", "") == "<lambda>":
                factory = _nested_dict  # moto's only one: `lambda: defaultdict(dict)` (SSM tags)
            return (_defaultdict, (type(obj), factory, dict(obj), dict(getattr(obj, "__dict__",
                                                                                 {}))))
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        if isinstance(obj, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            pem = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            return (_private_key, (pem,))
        return NotImplemented


def dump_backends() -> bytes:
    """The moto backends of SERVICES, pickled. Retried when a request changes a dict while it is
    being walked (requests keep running during a periodic save)."""
    from moto.backends import get_backend

    for attempt in range(5):
        buf = io.BytesIO()
        try:
            _Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL).dump(
                {name: dict(get_backend(name)) for name in SERVICES})  # type: ignore[call-overload]
        except RuntimeError:  # "dictionary changed size during iteration"
            if attempt == 4:
                raise
            continue
        return buf.getvalue()
    raise AssertionError("unreachable")


def load_backends(data: bytes) -> bool:
    """Restore the backends; True when they were moved from the legacy account."""
    from moto.backends import get_backend

    migrated = from_legacy_account(data)
    for name, accounts in pickle.loads(migrated).items():
        backend = get_backend(name)
        backend.clear()
        backend.update(accounts)
    return migrated is not data


_STRINGS = {"SHORT_BINUNICODE": 2, "BINUNICODE": 5, "BINUNICODE8": 9}  # opcode -> header bytes


def from_legacy_account(data: bytes, old: str = LEGACY_ACCOUNT_ID,
                        new: str = ACCOUNT_ID) -> bytes:
    """A snapshot of a home made when the local cloud lived in moto's default account, moved to
    the local account: each pickled string that is the account id, or names it in an ARN
    (`:id:`, `:id` at the end) or a queue URL (`/id/`), says the new id. Both ids have the same
    length, so the strings are patched in place; bytes (object contents) are left alone, and so
    are strings that merely contain the digits. `data` itself when there is nothing to move."""
    if old.encode() not in data:
        return data
    buf = bytearray(data)
    changed = False
    for op, arg, pos in pickletools.genops(data):
        header = _STRINGS.get(op.name)
        if header is None or pos is None or not isinstance(arg, str) or old not in arg:
            continue
        moved = _moved(arg, old, new)
        if moved != arg:
            start = pos + header
            encoded = moved.encode("utf-8", "surrogatepass")
            buf[start:start + len(encoded)] = encoded
            changed = True
    return bytes(buf) if changed else data


def _moved(text: str, old: str, new: str) -> str:
    if text == old:
        return new
    out = text.replace(f":{old}:", f":{new}:").replace(f"/{old}/", f"/{new}/")
    return out[: -len(old)] + new if out.endswith(f":{old}") else out


class SnapshotFile:
    """The encrypted snapshot and its key in one directory."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path = directory / "snapshot.bin"
        self.key_path = directory / "snapshot.key"

    def _fernet(self) -> Any:
        from cryptography.fernet import Fernet

        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            key = self.key_path.read_bytes().strip()
        except FileNotFoundError:
            key = Fernet.generate_key()
            tmp = self.key_path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key)
            os.replace(tmp, self.key_path)
        return Fernet(key)

    def save(self, data: bytes) -> None:
        token = self._fernet().encrypt(data)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(token)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def load(self) -> bytes | None:
        try:
            token = self.path.read_bytes()
        except FileNotFoundError:
            return None
        data: bytes = self._fernet().decrypt(token)
        return data
