"""One typed settings object for the whole product.

Every setting is read from the environment under the original system's variable name (see
`docs/CONFIGURATION.md`, generated from this module by `dreamseed config --markdown`). Settings are
built once at the edge (CLI, service, job entry point) and passed in; nothing reads the
environment at import time.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from dreamseed.settings.aliases import env_alias as _env
from dreamseed.settings.stream import StreamSettings


def default_home() -> Path:
    """The per-user data directory used when DREAMSEED_HOME is unset."""
    return Path(platformdirs.user_data_dir("dreamseed", appauthor=False))


class Settings(StreamSettings):
    """Every setting of DreamSeed Analytics, with its environment variable, default and help."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    # -- database and local state ------------------------------------------------------------
    database_url: SecretStr | None = Field(
        None,
        validation_alias=_env("DATABASE_URL"),
        description="PostgreSQL URL (postgresql://, postgresql+psycopg:// or postgresql+psycopg2://). "
        "Unset: an embedded PostgreSQL server under DREAMSEED_HOME is started on demand.",
    )
    dreamseed_home: Path = Field(
        default_factory=default_home,
        validation_alias=_env("DREAMSEED_HOME"),
        description="Directory for local state: the embedded database, demo data and local reports.",
    )

    # -- aggregate-features-daily -----------------------------------------------------------
    agg_lookback_days: int = Field(
        7,
        ge=0,
        validation_alias=_env("AGG_LOOKBACK_DAYS"),
        description="aggregate-features-daily: days before the anchor date to (re)aggregate.",
    )
    agg_include_theta: bool = Field(
        True,
        validation_alias=_env("AGG_INCLUDE_THETA"),
        description="aggregate-features-daily: fill theta_estimate/theta_sd from IRT results.",
    )

    # -- compute-daily-kpis ------------------------------------------------------------------
    kpi_lookback_days: int = Field(
        30,
        ge=1,
        validation_alias=_env("KPI_LOOKBACK_DAYS"),
        description="compute-daily-kpis: users active within this many days get KPIs.",
    )
    kpi_batch_answers: int = Field(
        500_000,
        ge=1,
        validation_alias=_env("KPI_BATCH_ANSWERS"),
        description="compute-daily-kpis and detect-inactivity: answers (of the 56-day window) read and "
        "computed at a time; above it, the users are cut into parts (id ranges) computed one after "
        "the other in one transaction. Bounds memory: peak 0.36–0.38 GB at 500,000 (the CronJob's "
        "limit is 512Mi).",
    )
    metrics_default_target: float = Field(
        0.0,
        validation_alias=_env("METRICS_DEFAULT_TARGET"),
        description="Target θ for the goal probability P when a user has no interest_goal.",
    )
    metrics_use_irt_theta: bool = Field(
        True,
        validation_alias=_env("METRICS_USE_IRT_THETA"),
        description="I_t uses the θ history (theta mode) when available; else accuracy only.",
    )
    metrics_churn_horizon_days: int = Field(
        14,
        ge=1,
        validation_alias=_env("METRICS_CHURN_HORIZON_DAYS"),
        description="Churn horizon H (days) of the churn risk S.",
    )

    metrics_p_method: Literal["trend_or_static", "static", "trend"] = Field(
        "trend_or_static",
        validation_alias=_env("METRICS_P_METHOD"),
        description="Form of the goal probability P: trend_or_static (θ-trend projection to the goal "
        "date when there is a θ: from the user's answers, else their θ history; else the static form), static (the original 1 − Φ((θ*−μ)/σ)) or "
        "trend. Default chosen by `dreamseed evaluate` (docs/EVALUATION.md).",
    )
    metrics_p_process_noise: float = Field(
        0.01,
        ge=0,
        validation_alias=_env("METRICS_P_PROCESS_NOISE"),
        description="q (θ² per day) in the trend form of P: σ_T² = s_now² + Δt²·Var(β) + 2Δt·Cov + q·Δt, the "
        "projection's uncertainty beyond the θ standard errors. Default calibrated by `dreamseed evaluate` "
        "(docs/EVALUATION.md).",
    )
    metrics_p_slope_prior: Literal["auto", "off"] = Field(
        "auto",
        validation_alias=_env("METRICS_P_SLOPE_PRIOR"),
        description="The population prior on θ growth in the trend form of P (each user's θ now and slope are "
        "fitted to their own answers under it, or their θ history's slope is shrunk towards it): auto "
        "estimates it on every run from the answers of a fixed sample of up to 1000 users (empirical Bayes, "
        "the same for every shard and job); off uses N(0, 0.02²) per day. Default chosen by "
        "`dreamseed evaluate` (docs/EVALUATION.md).",
    )
    churn_model: Literal["auto", "off"] = Field(
        "auto",
        validation_alias=_env("CHURN_MODEL"),
        description="S: auto = the active learned churn model's probability when one is active and beat "
        "S_v1 on held-out weeks (AUC and Brier), else the heuristic S_v1; off = always S_v1.",
    )

    # -- mirt-calibrate ----------------------------------------------------------------------
    mirt_lookback_days: int = Field(
        30,
        ge=1,
        validation_alias=_env("MIRT_LOOKBACK_DAYS", "IRT_CALIB_LOOKBACK_DAYS"),
        description="mirt-calibrate: days of attempts before the run date to calibrate on.",
    )
    mirt_model: Literal["1PL", "2PL", "3PL"] = Field(
        "2PL",
        validation_alias=_env("MIRT_MODEL", "IRT_MODEL"),
        description="mirt-calibrate: IRT model (1PL, 2PL or 3PL).",
    )
    mirt_max_obs: int = Field(
        0,
        ge=0,
        validation_alias=_env("MIRT_MAX_OBS"),
        description="mirt-calibrate: keep at most this many most recent observations (0 = no cap).",
    )
    mirt_statistics_max_obs: int = Field(
        2_000_000,
        ge=0,
        validation_alias=_env("MIRT_STATISTICS_MAX_OBS"),
        description="mirt-calibrate: compute the fit-report statistics (infit/outfit, Zh, LD X2, Q3, "
        "reliability, EAP-sum table: mirt_fit_meta.metrics.statistics) only for windows of at most this "
        "many answers (0 = always); larger windows skip them (statistics null, a log line says so): at 10⁷ "
        "answers they took longer than the calibration, LD X2 most of it. `dreamseed irt fit` computes them.",
    )
    mirt_topic_id: str | None = Field(
        None,
        validation_alias=_env("MIRT_TOPIC_ID", "IRT_TOPIC_ID"),
        description="mirt-calibrate: only calibrate attempts of this topic.",
    )
    mirt_subject_id: int | None = Field(
        None,
        validation_alias=_env("MIRT_SUBJECT_ID", "IRT_SUBJECT_ID"),
        description="mirt-calibrate: only calibrate attempts of this subject (exam_results.exam_id).",
    )
    job_completion_index: int | None = Field(
        None,
        ge=0,
        validation_alias=_env("JOB_COMPLETION_INDEX"),
        description="Batch jobs: this worker's shard index (set by Kubernetes Indexed Jobs); with "
        "JOB_COMPLETION_COUNT the default of --shard.",
    )
    job_completion_count: int | None = Field(
        None,
        ge=1,
        validation_alias=_env("JOB_COMPLETION_COUNT", "SHARD_COUNT"),
        description="Batch jobs: the number of shards (set by Kubernetes Indexed Jobs; SHARD_COUNT is "
        "read when it is unset).",
    )
    mirt_max_retries: int = Field(
        3,
        ge=0,
        validation_alias=_env("MIRT_MAX_RETRIES"),
        description="mirt-calibrate: retries of a remote IRT service call (exponential backoff).",
    )
    mirt_retry_delay_secs: float = Field(
        5.0,
        ge=0,
        validation_alias=_env("MIRT_RETRY_DELAY_SECS"),
        description="mirt-calibrate: first retry delay in seconds; doubles on each retry.",
    )
    mirt_version: str = Field(
        "v1",
        validation_alias=_env("MIRT_VERSION"),
        description="Version label written with item parameters and abilities.",
    )
    mirt_dif_group: Literal["org_id"] | None = Field(
        None,
        validation_alias=_env("MIRT_DIF_GROUP"),
        description="mirt-calibrate: test every item for DIF between these user groups (org_id: each "
        "user's latest exam_results.org_id) and flag them on the item bank (params.dif, console flag dif).",
    )
    irt_update_question_meta: bool = Field(
        False,
        validation_alias=_env("IRT_UPDATE_QUESTION_META"),
        description="mirt-calibrate: also write question.meta.irt = {a,b,c,model,version}.",
    )
    r_irt_base_url: str | None = Field(
        None,
        validation_alias=_env("R_IRT_BASE_URL"),
        description="Remote IRT service (this product's `dreamseed serve` or the original R Plumber). "
        "Unset: calibrate in-process.",
    )
    r_irt_internal_token: SecretStr | None = Field(
        None,
        validation_alias=_env("R_IRT_INTERNAL_TOKEN"),
        description="Bearer token: sent to the remote IRT service, and required by `dreamseed serve` "
        "on every non-health endpoint when set.",
    )
    r_irt_timeout_secs: float = Field(
        300.0,
        gt=0,
        validation_alias=_env("R_IRT_TIMEOUT_SECS"),
        description="Timeout in seconds of one remote IRT service call.",
    )
    api_max_body_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        validation_alias=_env("API_MAX_BODY_BYTES"),
        description="`dreamseed serve`: largest request body accepted (bytes) by endpoints without "
        "their own limit below (ingestion); larger ones get 413 before they are read.",
    )
    api_max_calibrate_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        validation_alias=_env("API_MAX_CALIBRATE_BYTES"),
        description="`dreamseed serve`: largest `POST /irt/calibrate` body (bytes; 413 beyond). "
        "10^6 observations take about 30-60 MB.",
    )
    api_max_small_body_bytes: int = Field(
        1024 * 1024,
        ge=1024,
        validation_alias=_env("API_MAX_SMALL_BODY_BYTES"),
        description="`dreamseed serve`: largest body of `POST /irt/score` and of the online θ update "
        "(bytes; 413 beyond).",
    )

    # -- adaptive testing (CAT) ----------------------------------------------------------------
    cat_max_items: int = Field(
        20,
        ge=1,
        le=500,
        validation_alias=_env("CAT_MAX_ITEMS"),
        description="Adaptive next-item service: a session stops after this many answers (a request's "
        "max_items may lower it).",
    )
    cat_se_stop: float = Field(
        0.3,
        ge=0,
        validation_alias=_env("CAT_SE_STOP"),
        description="Adaptive next-item service: a session stops once the SE of θ is at most this "
        "(0: no SE stop).",
    )
    cat_target_p: float = Field(
        0.7,
        gt=0,
        lt=1,
        validation_alias=_env("CAT_TARGET_P"),
        description="Adaptive next-item service, policy practice: the P(correct) the next item aims at.",
    )
    cat_exposure: Literal["none", "randomesque", "sympson-hetter"] = Field(
        "none",
        validation_alias=_env("CAT_EXPOSURE"),
        description="Adaptive next-item service: exposure control (randomesque: one of the "
        "CAT_RANDOMESQUE_K best; sympson-hetter: the K of CAT_EXPOSURE_PARAMETERS).",
    )
    cat_randomesque_k: int = Field(
        5,
        ge=1,
        validation_alias=_env("CAT_RANDOMESQUE_K"),
        description="Adaptive next-item service, CAT_EXPOSURE=randomesque: how many best items to pick among.",
    )
    cat_exposure_parameters: Path | None = Field(
        None,
        validation_alias=_env("CAT_EXPOSURE_PARAMETERS"),
        description="Adaptive next-item service, CAT_EXPOSURE=sympson-hetter: the K.csv (item_id,k) of "
        "`dreamseed cat exposure`; items missing from it get K = 1.",
    )
    cat_exclude_answered_days: int = Field(
        7,
        ge=0,
        validation_alias=_env("CAT_EXCLUDE_ANSWERED_DAYS"),
        description="Adaptive next-item service: never serve an item the student answered in the last "
        "N days (exams or other adaptive sessions; a request's exclude_answered_days overrides; 0: off).",
    )
    cat_exclude_anchors: bool = Field(
        False,
        validation_alias=_env("CAT_EXCLUDE_ANCHORS"),
        description="Adaptive next-item service: keep items tagged anchor (question.meta.tags) out of "
        "adaptive sessions, for calibration. Items tagged retired are never served.",
    )

    # -- ingestion ---------------------------------------------------------------------------
    ingest_min_date: date = Field(
        date(2000, 1, 1),
        validation_alias=_env("INGEST_MIN_DATE"),
        description="dreamseed ingest and the ingestion endpoint: records with a time (created_at, "
        "updated_at, target_date) before this date (YYYY-MM-DD) are quarantined as implausible.",
    )
    ingest_max_future_days: int = Field(
        2,
        ge=0,
        validation_alias=_env("INGEST_MAX_FUTURE_DAYS"),
        description="dreamseed ingest and the ingestion endpoint: records timed more than this many "
        "days after now are quarantined as implausible (goal target dates may be up to 20 years ahead).",
    )

    # -- detect-inactivity -------------------------------------------------------------------
    inactivity_threshold_days: int = Field(
        7,
        ge=1,
        validation_alias=_env("INACTIVITY_THRESHOLD_DAYS"),
        description="detect-inactivity: days without activity after which a user is inactive.",
    )

    # -- generate-weekly-report --------------------------------------------------------------
    report_format: str = Field(
        "html,pdf",
        validation_alias=_env("REPORT_FORMAT"),
        description="generate-weekly-report: comma-separated formats (html, pdf).",
    )
    report_lang: Literal["ko", "en"] = Field(
        "ko",
        validation_alias=_env("REPORT_LANG"),
        description="generate-weekly-report: report language (ko or en).",
    )
    report_dir: Path | None = Field(
        None,
        validation_alias=_env("REPORT_DIR"),
        description="generate-weekly-report: local directory when S3_BUCKET is unset; reports go to "
        "REPORT_DIR/reports/{user_id}/{week_start}/ (default: DREAMSEED_HOME).",
    )
    report_font_dir: Path | None = Field(
        None,
        validation_alias=_env("REPORT_FONT_DIR"),
        description="Directory of a Hangul font to set PDF reports in instead of the bundled Noto Sans KR "
        "(e.g. one holding NanumGothic.ttf); unset: the bundled font, the same on every machine.",
    )
    s3_bucket: str | None = Field(
        None,
        validation_alias=_env("S3_BUCKET"),
        description="generate-weekly-report: store reports in this S3 bucket instead of REPORT_DIR.",
    )
    aws_region: str = Field(
        "ap-northeast-2",
        validation_alias=_env("AWS_REGION"),
        description="S3 region. Credentials come from the standard AWS variables.",
    )
    s3_endpoint_url: str | None = Field(
        None,
        validation_alias=_env("S3_ENDPOINT_URL"),
        description="S3-compatible endpoint (MinIO, SeaweedFS, ...); unset for AWS S3.",
    )

    # -- console (dreamseed serve, /console/) ------------------------------------------------
    console_users: SecretStr | None = Field(
        None,
        validation_alias=_env("CONSOLE_USERS"),
        description="Console users: a JSON list of {name, role (admin or teacher), org_ids, password_hash}; "
        "`dreamseed console add-user` prints it. Unset: nobody can sign in to /console/.",
    )
    console_secret_key: SecretStr | None = Field(
        None,
        validation_alias=_env("CONSOLE_SECRET_KEY"),
        description="Key signing the console's session cookies and CSRF tokens (set the same value on every "
        "replica). Unset: a random key per process (sessions end when the service restarts).",
    )
    console_trusted_user_header: str = Field(
        "",
        validation_alias=_env("CONSOLE_TRUSTED_USER_HEADER"),
        description="Behind an authenticating proxy: the request header naming the signed-in console user "
        "(looked up in CONSOLE_USERS for the role). Empty (default): off; only the console's own sign-in.",
    )
    console_session_hours: float = Field(
        12.0,
        gt=0,
        validation_alias=_env("CONSOLE_SESSION_HOURS"),
        description="Console: hours a sign-in lasts.",
    )
    console_login_max_failures: int = Field(
        5,
        ge=1,
        validation_alias=_env("CONSOLE_LOGIN_MAX_FAILURES"),
        description="Console: failed sign-ins allowed per client address and per user name in 5 minutes "
        "before further attempts get 429.",
    )

    # -- operations --------------------------------------------------------------------------
    pushgateway_url: str | None = Field(
        None,
        validation_alias=_env("PUSHGATEWAY_URL"),
        description="Prometheus Pushgateway to push job metrics to (grouped by job).",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        validation_alias=_env("LOG_FORMAT"),
        description="Log format: text ([LEVEL] message) or json (one object per line).",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        validation_alias=_env("LOG_LEVEL"),
        description="Lowest log level printed.",
    )
    dry_run: bool = Field(
        False,
        validation_alias=_env("DRY_RUN"),
        description="Every job: compute and report, write nothing (same as --dry-run).",
    )

    @field_validator("mirt_model", mode="before")
    @classmethod
    def _model_upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator(
        "mirt_topic_id",
        "mirt_dif_group",
        "r_irt_base_url",
        "s3_bucket",
        "s3_endpoint_url",
        "pushgateway_url",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        return None if value == "" else value

    @property
    def reports_dir(self) -> Path:
        return self.report_dir or self.dreamseed_home


def env_name(field_name: str) -> str:
    """The primary environment variable of a settings field."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, AliasChoices):
        first = alias.choices[0]
        assert isinstance(first, str)
        return first
    assert isinstance(alias, str)
    return alias


def field_names() -> list[str]:
    """Every settings field in the reference's order (the stream group after object storage)."""
    own = [name for name in Settings.model_fields if name not in StreamSettings.model_fields]
    at = own.index("console_users")
    return [*own[:at], *StreamSettings.model_fields, *own[at:]]
