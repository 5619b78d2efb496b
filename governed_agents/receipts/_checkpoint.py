"""Signed checkpoints: tree size + root hash + time, signed with Ed25519.

The signed message is ``governed-agents checkpoint v1\\n<size>\\n<root hex>\\n<timestamp>\\n``.
Verification needs only the public key.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, ValidationError

__all__ = ["SignedCheckpoint", "create_key", "load_checkpoint", "load_private_key", "load_public_key",
           "public_key_hex", "public_key_pem"]


class SignedCheckpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    size: int
    root: str  # hex
    timestamp: str
    signature: str  # hex
    public_key: str  # hex of the raw Ed25519 public key

    def message(self) -> bytes:
        return f"governed-agents checkpoint v1\n{self.size}\n{self.root}\n{self.timestamp}\n".encode()

    @classmethod
    def sign(cls, key: Ed25519PrivateKey, size: int, root: bytes) -> SignedCheckpoint:
        timestamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        unsigned = cls(size=size, root=root.hex(), timestamp=timestamp, signature="", public_key="")
        public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return unsigned.model_copy(update={"signature": key.sign(unsigned.message()).hex(), "public_key": public.hex()})

    def verify(self, public_key: Ed25519PublicKey | None = None) -> bool:
        """Check the signature with ``public_key`` (or, weaker, the key the checkpoint names)."""
        try:
            key = public_key or Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))
            key.verify(bytes.fromhex(self.signature), self.message())
        except (InvalidSignature, ValueError):
            return False
        return True


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The signing key at ``path`` (PEM, PKCS#8). Only appending and signing need it."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 private key")
    return key


def create_key(path: Path) -> Ed25519PrivateKey:
    """A new key at ``path`` (mode 0600) with its public half at ``path.pub``.

    Neither file is ever overwritten: a second process racing to create the same key gets
    ``FileExistsError`` and loads the winner's, which is complete by then (see ``_write_new``).
    """
    key = Ed25519PrivateKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(path, pem, 0o600)
    _write_new(Path(str(path) + ".pub"), public, 0o644)
    return key


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` holding ``data``: written aside, then hard-linked into place, so another
    process sees no file or the whole of it, and an existing file raises ``FileExistsError``."""
    fd, aside = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.link(aside, path)
    finally:
        os.unlink(aside)


def public_key_hex(key: Ed25519PublicKey) -> str:
    """The raw public key as hex: how checkpoints and the log's meta table name a key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """The PEM public key at ``path``; ``ValueError`` naming the file when it holds something else."""
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def load_checkpoint(path: str | os.PathLike[str]) -> SignedCheckpoint:
    """A checkpoint saved as JSON (``audit checkpoint --out``); ``ValueError`` saying what is wrong."""
    try:
        return SignedCheckpoint.model_validate_json(Path(path).read_bytes())
    except ValidationError as exc:
        raise ValueError(f"{path}: not a signed checkpoint ({_why(exc)})") from None


def _why(exc: ValidationError) -> str:
    errors = exc.errors()
    missing = [str(e["loc"][0]) for e in errors if e["type"] == "missing" and e["loc"]]
    if missing:
        return "missing " + ", ".join(missing)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])
