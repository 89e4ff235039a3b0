"""Settings: every option has a CREDITNET_ environment variable; nothing is read at import time.

``CREDITNET_ENV=production`` changes the defaults of the options that expose the server to
strangers (GraphiQL, introspection, ``/openapi.json``, ``/metrics``) to their safe values and
makes ``CREDITNET_ID_HASH_SALT`` required; an option set explicitly always wins.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from queries.due_process import ReviewSettings

__all__ = ["Environment", "MetricsAccess", "Settings", "StoreKind"]


class StoreKind(StrEnum):
    MEMORY = "memory"
    NEO4J = "neo4j"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class MetricsAccess(StrEnum):
    """Who may read ``/metrics``: nobody (404), anyone, or callers with an admin key."""

    OFF = "off"
    PUBLIC = "public"
    ADMIN = "admin"


class Settings(BaseSettings):
    """creditnet's configuration. Build one with ``Settings()`` (reads the environment)."""

    model_config = SettingsConfigDict(
        env_prefix="CREDITNET_", env_nested_delimiter="__", extra="ignore"
    )

    env: Environment = Field(
        default=Environment.DEVELOPMENT,
        description="production: safe defaults for the HTTP API, and the ID hash salt required.",
    )
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
    graphiql: bool | None = Field(
        default=None, description="Serve GraphiQL on GET /graphql (default: on, off in production)."
    )
    introspection: bool | None = Field(
        default=None,
        description="Answer introspection queries, with a key (default: on, off in production).",
    )
    openapi: bool | None = Field(
        default=None, description="Serve /openapi.json (default: on, off in production)."
    )
    metrics: MetricsAccess | None = Field(
        default=None, description="Who may read /metrics (default: public, admin in production)."
    )
    review: ReviewSettings = Field(
        default_factory=ReviewSettings,
        description="Market-ban review and shell-signal thresholds, due-process deadlines "
        "(CREDITNET_REVIEW__WINDOW_MONTHS, CREDITNET_REVIEW__SHELL__NOMINEE_MIN_POSITIONS, ...).",
    )
    max_query_cost: int = Field(
        default=50_000, ge=100, description="The largest estimated cost of one GraphQL operation."
    )
    request_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Seconds one GraphQL request may run."
    )

    @model_validator(mode="after")
    def _production_needs_salt(self) -> Settings:
        if self.production and self.id_hash_salt is None:
            raise ValueError(
                "CREDITNET_ENV=production needs CREDITNET_ID_HASH_SALT: set it to a long random "
                "secret shared by every loader (for example `openssl rand -hex 32`)"
            )
        return self

    @property
    def production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production

    @property
    def openapi_enabled(self) -> bool:
        return self.openapi if self.openapi is not None else not self.production

    @property
    def metrics_access(self) -> MetricsAccess:
        if self.metrics is not None:
            return self.metrics
        return MetricsAccess.ADMIN if self.production else MetricsAccess.PUBLIC
