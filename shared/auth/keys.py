"""Ed25519 key pairs for signing tokens.

Production reads its keys from configuration. Development creates one key pair on first
use under the data directory, shared by the three local services so that a token booking
issues verifies everywhere.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    private_pem: str
    public_pem: str


def generate_keypair() -> KeyPair:
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return KeyPair(private_pem, public_pem)


def ensure_dev_keypair(directory: Path) -> KeyPair:
    """Return the development key pair in `directory`, creating it atomically if absent."""
    private_path = directory / "token-signing.pem"
    public_path = directory / "token-signing.pub.pem"
    if not private_path.exists():
        directory.mkdir(parents=True, exist_ok=True)
        pair = generate_keypair()
        tmp = directory / f".token-signing.{os.getpid()}.tmp"
        tmp.write_text(pair.private_pem)
        tmp.chmod(0o600)
        try:
            os.link(tmp, private_path)  # fails if another process won the race
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    private_pem = private_path.read_text()
    key = serialization.load_pem_private_key(private_pem.encode(), password=None)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    if not public_path.exists():
        public_path.write_text(public_pem)
    return KeyPair(private_pem, public_pem)
