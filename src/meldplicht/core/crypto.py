"""Encryption and keyed hashing of personal data (BSN, document numbers): UAVG art. 46.

The only module that sees a BSN in clear text next to its stored form. Keys come from
settings; several encryption keys may be configured (newest first) so keys can be rotated.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from meldplicht.core.config import Settings


def _derive(secret: str, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret.encode()
    )


class PersonalDataCipher:
    def __init__(self, encryption_keys: list[bytes], hash_key: bytes) -> None:
        if not encryption_keys:
            raise ValueError("at least one encryption key is needed")
        self._newest = Fernet(encryption_keys[0])
        self._fernet = MultiFernet([Fernet(k) for k in encryption_keys])
        self._hash_key = hash_key

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonalDataCipher:
        secret = settings.secret_key.get_secret_value()
        keys = [k.get_secret_value().encode() for k in settings.pii_encryption_keys]
        if not keys:
            keys = [base64.urlsafe_b64encode(_derive(secret, b"meldplicht pii encryption"))]
        hash_key = (
            settings.pii_hash_key.get_secret_value().encode()
            if settings.pii_hash_key
            else _derive(secret, b"meldplicht pii hash")
        )
        return cls(keys, hash_key)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self._fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt under the newest key (old keys stay readable until removed)."""
        return self._fernet.rotate(token.encode()).decode()

    def is_current(self, token: str) -> bool:
        """Whether `token` is already encrypted under the newest key (rotation can skip it).

        Fernet tokens do not name their key, so the newest key is simply tried; a rotation
        that stopped half-way is resumed without re-writing what it already did.
        """
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def keyed_hash(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()


def mask_bsn(bsn: str) -> str:
    """Show only the last three digits: the form used in every list, log and export."""
    return "******" + bsn[-3:] if len(bsn) >= 3 else "*********"


@lru_cache(maxsize=4)
def _cached(secret: str, keys: tuple[str, ...], hash_key: str | None) -> PersonalDataCipher:
    from pydantic import SecretStr

    s = Settings(
        secret_key=SecretStr(secret),
        pii_encryption_keys=[SecretStr(k) for k in keys],
        pii_hash_key=SecretStr(hash_key) if hash_key else None,
    )
    return PersonalDataCipher.from_settings(s)


def cipher_for(settings: Settings) -> PersonalDataCipher:
    return _cached(
        settings.secret_key.get_secret_value(),
        tuple(k.get_secret_value() for k in settings.pii_encryption_keys),
        settings.pii_hash_key.get_secret_value() if settings.pii_hash_key else None,
    )
