"""Settings: every option has a CREDITNET_ environment variable; nothing is read at import time."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "StoreKind"]


class StoreKind(StrEnum):
    MEMORY = "memory"
    NEO4J = "neo4j"


class Settings(BaseSettings):
    """creditnet's configuration. Build one with ``Settings()`` (reads the environment)."""

    model_config = SettingsConfigDict(env_prefix="CREDITNET_", extra="ignore")

    store: StoreKind = StoreKind.MEMORY
    data_dir: Path = Path("./creditnet-data")
    neo4j_uri: str = "bolt://127.0.0.1:7687"
    neo4j_user: str | None = None
    neo4j_password: SecretStr | None = None
    neo4j_database: str = "neo4j"
    rules: Path | None = Field(
        default=None, description="A rules YAML file to use instead of the shipped default."
    )
    id_hash_salt: SecretStr | None = Field(
        default=None,
        description="Secret salt for hashing national ID numbers on load; required to load them.",
    )
    keys_file: Path | None = None
    audit_file: Path | None = None
    batch_size: int = Field(default=5000, ge=1, le=100_000)
    load_writers: int | None = Field(
        default=None,
        ge=1,
        le=16,
        description="Batches written at once when loading (default: 2 on Neo4j, 1 embedded).",
    )
