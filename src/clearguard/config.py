"""Settings: one place, from CLEARGUARD_* environment variables and an optional TOML file.

The TOML file is `clearguard.toml` in the working directory, or the path in CLEARGUARD_CONFIG.
Environment variables win over the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from clearguard.errors import ConfigurationError

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "placeholder", "xxx"})


def _toml_path() -> Path:
    return Path(os.environ.get("CLEARGUARD_CONFIG", "clearguard.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARGUARD_", extra="forbid", frozen=True)

    # --- core ---
    env: Literal["dev", "test", "prod"] = "dev"
    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/clearguard.db"
    database_echo: bool = False
    rules_pack: str = Field(default="default", description="rule pack name shipped in the package, or a path")
    country: str = Field(default="GB", description="default declaring country for MRNs without an office")
    max_request_bytes: int = 1_000_000
    max_import_line_bytes: int = 1_000_000
    secret_key: SecretStr | None = Field(
        default=None, description="server secret; required outside dev, never a placeholder"
    )
    redis_url: str | None = None
    risk_policy_file: Path | None = Field(default=None, description="risk policy YAML; None: the packaged one")
    retention_batch_size: int = Field(default=500, ge=1, le=10_000, description="declarations per disposal transaction")
    retention_policy_file: Path | None = Field(
        default=None, description="retention policies YAML; None: the packaged one (clearguard/retention/policies)"
    )
    risk_num_threads: int = Field(default=2, ge=1, le=64, description="LightGBM threads for risk training")

    # --- ledger (issue 5) ---
    ledger_origin: str = Field(
        default="clearguard.local/ledger", description="checkpoint origin line, also the log key's name"
    )
    ledger_key_file: Path | None = Field(
        default=None, description="log signing key; default <var_dir>/keys/ledger-log.key (mode 0600)"
    )
    ledger_batch_size: int = Field(default=1000, ge=1, description="integrate after this many entries")
    ledger_batch_interval_ms: int = Field(default=200, ge=1, description="...or after this many ms")
    ledger_witness_name: str = Field(default="clearguard.local/witness", description="this instance's cosigner name")
    ledger_witness_key_file: Path | None = Field(
        default=None, description="cosigning key; default <var_dir>/keys/ledger-witness.key (mode 0600)"
    )
    ledger_witness_timeout_s: float = Field(default=10.0, gt=0, description="HTTP timeout towards witnesses")
    ledger_witness_poll_s: float = Field(
        default=10.0, gt=0, description="how often the server offers witnesses checkpoints signed elsewhere (CLI)"
    )
    ledger_receipt_wait_s: float = Field(
        default=10.0, gt=0, le=120, description="with several workers, how long ?receipt=true waits for the signer"
    )
    duty_retry_s: float = Field(
        default=1.0, gt=0, le=300, description="how often a worker retries a background duty held elsewhere"
    )
    ledger_partner_ca_file: Path | None = Field(
        default=None,
        description="PEM bundle of the CAs of partners' HTTPS servers (witnessing, mirrors); None: the system's",
    )

    # --- crypto (clearguard.crypto) ---
    crypto_provider: Literal["file", "pkcs11"] = "file"
    crypto_pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    crypto_pkcs11_token: str = "clearguard"  # noqa: S105 - a token label, not a secret
    crypto_pkcs11_pin: SecretStr | None = None
    crypto_pkcs11_label: str = Field(default="clearguard", description="prefix of the KEK labels on the token")
    crypto_share_store_url: str | None = Field(
        default=None, description="party key shares, kept outside the data backups; default var/keys/shares.db"
    )
    crypto_key_cache_size: int = 10_000
    crypto_key_cache_seconds: float = 300.0
    crypto_rotate_batch: int = 200
    crypto_kek_rotation_days: int = Field(
        default=365, ge=1, le=3650, description="rotation period of the key-encryption key (self-audit fails past it)"
    )

    # --- TLS (clearguard.crypto.tls) ---
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_client_ca_file: Path | None = None
    tls_require_client_cert: bool = False

    # --- identity (auth_*) ---
    auth_argon2_time_cost: int = Field(default=2, ge=1, description="Argon2id passes (~135 ms/hash on 2 cores)")
    auth_argon2_memory_kib: int = Field(default=65536, ge=8192, description="Argon2id memory in KiB")
    auth_argon2_parallelism: int = Field(default=1, ge=1)
    auth_hash_concurrency: int = Field(default=2, ge=1, description="password hashes running at once")
    auth_access_token_seconds: int = Field(default=900, ge=60, description="bearer access token lifetime")
    auth_refresh_token_seconds: int = Field(default=8 * 3600, ge=300, description="refresh token lifetime")
    auth_session_seconds: int = Field(default=12 * 3600, ge=300, description="absolute session lifetime")
    auth_mfa_token_seconds: int = Field(default=300, ge=30, description="time to complete the second factor")
    auth_step_up_seconds: int = Field(default=300, ge=30, description="max age of the MFA proof for step-up")
    auth_issuer: str = "ClearGuard"
    auth_rp_id: str = Field(default="localhost", description="WebAuthn relying party id (the site's domain)")
    auth_origins: tuple[str, ...] = Field(
        default=("http://localhost:8000", "https://localhost:8443"), description="WebAuthn allowed origins"
    )
    # --- privacy (records of processing, GDPR Art. 30(1)(a)) ---
    privacy_controller_name: str = Field(
        default="ClearGuard customs administration", description="the controller named in the records"
    )
    privacy_controller_contact: str = Field(
        default="privacy@clearguard.local", description="the controller's contact address"
    )
    privacy_dpo_contact: str = Field(default="dpo@clearguard.local", description="the data protection officer")
    # --- REST API (api_*) ---
    api_hsts_seconds: int = Field(default=63072000, ge=0, description="HSTS max-age sent under TLS")
    # --- sharing with partner administrations (issue 15) ---
    administration_name: str = Field(
        default="ClearGuard customs administration",
        min_length=1,
        max_length=200,
        description="the administration this instance is, as partners see it",
    )
    public_url: str = Field(
        default="https://localhost:8443",
        pattern=r"^https://[^\s/?#]+(/[^\s?#]*)?$",
        description="the HTTPS base URL partners reach this instance at",
    )
    sharing_package_ttl_s: int = Field(default=3600, ge=60, le=7 * 86400, description="a package's lifetime")
    sharing_inbox_max_bytes: int = Field(default=2_000_000, ge=10_000, description="largest package accepted")
    sharing_timeout_s: float = Field(default=15.0, gt=0, description="HTTP timeout towards partners")
    # --- detection rules (detection_rules_dir, detection_thresholds, detection_timezone) ---
    detection_rules_dir: Path | None = Field(
        default=None, description="an administration's own Sigma rules, loaded beside the shipped ones"
    )
    detection_thresholds: dict[str, float] = Field(
        default_factory=dict, description='DetectionConfig overrides, e.g. {"brute_force_failures": 10}'
    )
    detection_timezone: str = Field(default="UTC", description="local time of usual hours and weekends")
    detection_locations_file: Path | None = Field(
        default=None, description="CSV cidr,city,country,lat,lon: where sources are (impossible travel needs it)"
    )
    detection_baseline_days: int = Field(
        default=14, ge=0, le=365, description="days of stored activity the anomaly model learns from (0: rules only)"
    )
    # --- detection online: responses to alerts, the API edge (detection_response_*, detection_edge_*) ---
    detection_response_confirmed: tuple[str, ...] = Field(
        default=("revoke_sessions", "lock"),
        description="responses on a confirmed alert: require_step_up, revoke_sessions, lock",
    )
    detection_response_high: tuple[str, ...] = Field(
        default=("require_step_up",), description="responses on a new high or critical alert, before triage"
    )
    detection_response_lock_seconds: int = Field(default=3600, ge=60, description="how long a lock lasts")
    detection_warm_hours: int = Field(default=24, ge=0, description="activity replayed into the detector at start")
    detection_edge_enabled: bool = Field(default=True, description="rate limits and payload checks at the API edge")
    # 50 and 200 a second, over a 10 s moving window: a client's bursts pass, a sustained flood does not.
    detection_edge_principal_rate: str = Field(default="500/10 seconds", description="requests per principal")
    detection_edge_source_rate: str = Field(default="2000/10 seconds", description="requests per source address")
    # --- training (issue 18): reminders before a completion expires ---
    training_reminder_days: int = Field(
        default=30, ge=0, le=365, description="days before expiry that `training due` and the self-audit remind"
    )

    # --- security self-audit (clearguard.posture) ---
    posture_schedule: bool = Field(default=True, description="run the self-audit daily inside the server")
    posture_interval_hours: float = Field(default=24.0, gt=0, le=24 * 7, description="time between scheduled audits")
    posture_advisory_timeout_s: float = Field(default=60.0, gt=0, le=600, description="pip-audit's network timeout")

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not (value.startswith("sqlite") or value.startswith("postgresql")):
            raise ValueError("database_url must be sqlite:/// or postgresql+psycopg://")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def keys_dir(self) -> Path:
        return self.var_dir / "keys"

    def check_for_production(self) -> None:
        """Refuse placeholder secrets outside dev; called when a server starts."""
        if self.env == "dev":
            return
        if self.secret_key is None or self.secret_key.get_secret_value().lower() in PLACEHOLDER_SECRETS:
            raise ConfigurationError(
                "secret_key: a real secret is required outside dev (set CLEARGUARD_SECRET_KEY)",
                field="secret_key",
            )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
