"""Settings read from the environment (prefix MELDPLICHT_) and an optional .env file."""

from __future__ import annotations

import enum
import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"  # noqa: S105 - the value we refuse outside development


LOCAL_HOSTS = ("localhost", "127.0.0.1", "testserver")
HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting of the service; docs/OPERATIONS.md lists them."""

    model_config = SettingsConfigDict(
        env_prefix="MELDPLICHT_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT, description="development, test or production."
    )
    database_url: str = Field(
        "sqlite:///./var/meldplicht.db",
        description="SQLAlchemy URL: a SQLite file (default) or postgresql+psycopg://...",
    )
    secret_key: SecretStr = Field(
        SecretStr(PLACEHOLDER_SECRET),
        description="Signs sessions and derives the personal-data keys unless those are set.",
    )
    pii_encryption_keys: list[SecretStr] = Field(
        default_factory=list,
        description="Fernet keys for personal data, newest first (rotation: add a new key "
        "in front). Empty: derived from secret_key.",
    )
    pii_hash_key: SecretStr | None = Field(
        None,
        description="Key for the keyed hash that matches BSNs. Empty: derived from secret_key.",
    )
    timezone: str = Field("Europe/Amsterdam", description="The legal calendar's time zone.")
    scheduler_enabled: bool = Field(
        False, description="Run the nightly sweep scheduler inside `serve` (one machine only)."
    )
    sweep_cron: str = Field("0 2 * * *", description="When the nightly sweep runs (cron, local).")
    alerts_email_enabled: bool = Field(
        False, description="Send employer alerts by e-mail too (SMTP below); off by default."
    )
    smtp_host: str = Field("localhost", description="SMTP server for employer alert e-mail.")
    smtp_port: int = Field(25, description="SMTP port.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str | None = Field(None, description="SMTP login, if the server needs one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("meldplicht@localhost", description="Sender of alert e-mail.")
    alerts_max_attempts: int = Field(
        6, ge=1, description="Deliveries of one alert tried at most this often."
    )
    alerts_backoff_seconds: int = Field(
        60, ge=1, description="First retry delay; doubled after each failed attempt."
    )
    max_body_bytes: int = Field(
        256 * 1024, description="Largest JSON request body accepted by the API, in bytes."
    )
    max_upload_bytes: int = Field(
        20 * 1024 * 1024, description="Largest bulk CSV / JSON-lines upload, in bytes."
    )
    kvk_base_url: str | None = Field(
        None, description="Base URL of the KvK register API. Empty: offline (no look-ups)."
    )
    kvk_api_key: SecretStr | None = Field(None, description="API key for the KvK register.")
    nau_base_url: str | None = Field(
        None,
        description=(
            "Base URL of the register of admitted lenders (Nederlandse Autoriteit "
            "Uitleenmarkt, Wtta). Empty: offline (no look-ups)."
        ),
    )
    public_url: str | None = Field(
        None,
        description=(
            "The address the public reaches this service at (e.g. https://meldplicht.example.nl), "
            "printed in the QR code of every receipt. Empty: the address of the request."
        ),
    )
    page_size_max: int = Field(200, description="Largest page a list endpoint returns.")
    api_key_cache_seconds: float = Field(
        5.0,
        ge=0,
        description=(
            "How long a checked API key is trusted without asking the database again, in "
            "seconds (0: ask on every request). A revocation in another process takes effect "
            "within this time; in the same process at once."
        ),
    )

    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Comma-separated host names the service answers to (the Host header), e.g. "
            "meldplicht.example.nl; `*.example.nl` covers subdomains. Any other Host is "
            "refused (400), so no redirect or link is built from a forged one. Required in "
            "production; empty elsewhere: localhost, 127.0.0.1 and testserver."
        ),
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
            "X-Forwarded-For and X-Forwarded-Proto `serve` believes. Empty (default): no "
            "forwarded header is believed, the client is the peer of the connection."
        ),
    )
    session_max_hours: float = Field(
        8.0,
        gt=0,
        le=24,
        description="A page session ends this many hours after sign-in, however it is used.",
    )
    session_idle_minutes: float = Field(
        30.0,
        gt=0,
        le=24 * 60,
        description="A page session ends after this many minutes without a request.",
    )

    @model_validator(mode="after")
    def _refuse_insecure_defaults(self) -> Settings:
        if (
            self.environment is Environment.PRODUCTION
            and self.secret_key.get_secret_value() == PLACEHOLDER_SECRET
        ):
            raise ValueError(
                "MELDPLICHT_SECRET_KEY is still the placeholder: set a long random secret "
                "before running in production."
            )
        return self

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies_are_addresses(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("MELDPLICHT_TRUSTED_PROXIES: a comma-separated list of addresses")
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError:
                raise ValueError(
                    f"MELDPLICHT_TRUSTED_PROXIES: {entry!r} is not an IP address or network "
                    "(a name or '*' is refused: trusting every sender defeats the limit)."
                ) from None
        return [entry.strip() for entry in value]

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_are_names(cls, value: Any) -> list[str]:
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("MELDPLICHT_ALLOWED_HOSTS: a comma-separated list of host names")
        hosts = [v.strip().lower().rstrip(".") for v in value if v.strip()]
        for host in hosts:
            bare = host.removeprefix("*.")
            if not bare or "*" in bare or not HOST_NAME.fullmatch(bare):
                raise ValueError(
                    f"MELDPLICHT_ALLOWED_HOSTS: {host!r} is not a host name (a bare '*' is "
                    "refused: it would answer to any Host)."
                )
        return hosts

    @property
    def hosts(self) -> list[str]:
        """The host names answered to: `allowed_hosts`, or the local ones outside production."""
        if self.allowed_hosts or self.environment is Environment.PRODUCTION:
            return list(self.allowed_hosts)
        return list(LOCAL_HOSTS)

    def proxy_header_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: believed only from the trusted proxies."""
        if not self.trusted_proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": list(self.trusted_proxies)}

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def sqlite_path(self) -> Path | None:
        if not self.is_sqlite:
            return None
        tail = self.database_url.split("///", 1)[-1]
        return None if tail in ("", ":memory:") else Path(tail)


@lru_cache
def get_settings() -> Settings:
    return Settings()
