"""All settings in one place, read from `INTAKE_*` environment variables.

Nothing else in the code reads the environment for configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SHIPPED_CERTS = PACKAGE_DIR / "data" / "certs"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "intake"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    broker_url: str | None
    certs_dir: Path
    # Limits on what an upload may be (CONTRACT.md: too large is `unsupported_file`).
    max_file_bytes: int = 50 * 1024 * 1024
    max_pages: int = 50
    max_pixels: int = 80_000_000
    max_dossier_files: int = 100
    # Rasterisation of PDFs.
    pdf_dpi: int = 200
    # Time limits: every tesseract call is shorter than a piece, a piece shorter than its actor.
    ocr_timeout: float = 30.0
    subprocess_timeout: float = 60.0
    piece_time_limit_ms: int = 300_000
    dossier_time_limit_ms: int = 60_000
    check_timeout: float = 900.0
    # Size limit of each file `intake export` writes for the ANTS site (README: formats and sizes).
    export_max_bytes: int = 2_000_000
    # Redis broker: how soon a dead worker's messages go back to the queue.
    redis_heartbeat_timeout_ms: int = 10_000
    redis_maintenance_chance: int = 1000
    # Transactional outbox: the worker's sweeper sends again, every `sweep_interval_s`, what is
    # still unsent or unfinished `outbox_resend_after_s` after it was written or last sent.
    outbox_resend_after_s: float = 30.0
    sweep_interval_s: float = 5.0
    # Retention: dossiers without activity for this many days are closed as `expired` by `intake purge`.
    close_idle_after_days: int = 180
    # Web: request body caps (uploads / everything else), at most this many previews rendered at once,
    # the session cookie's `Secure` flag (auto: when the request came over HTTPS), the /metrics token.
    max_upload_request_bytes: int = 2 * 50 * 1024 * 1024 + 1024 * 1024
    max_request_bytes: int = 1024 * 1024
    preview_concurrency: int = 2
    cookie_secure: str = "auto"
    metrics_token: str = ""
    # Parallelism of the embedded (in-process) worker.
    worker_threads: int = field(default_factory=lambda: max(2, os.cpu_count() or 2))
    # Pages read at once by one process (0: one per core it may use). `intake worker` gives each of
    # its processes its share of the cores, so that P processes do not run P x cores page threads.
    page_threads: int = 0
    secret_key: str = ""
    log_level: str = "WARNING"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("INTAKE_DATA_DIR") or _default_data_dir()).expanduser()
    database_url = os.environ.get("INTAKE_DATABASE_URL") or f"sqlite:///{data_dir / 'intake.db'}"
    certs = os.environ.get("INTAKE_2DDOC_CERTS")
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        broker_url=os.environ.get("INTAKE_BROKER_URL") or None,
        certs_dir=Path(certs) if certs else SHIPPED_CERTS,
        max_file_bytes=_int("INTAKE_MAX_FILE_BYTES", 50 * 1024 * 1024),
        max_pages=_int("INTAKE_MAX_PAGES", 50),
        max_pixels=_int("INTAKE_MAX_PIXELS", 80_000_000),
        max_dossier_files=_int("INTAKE_MAX_DOSSIER_FILES", 100),
        pdf_dpi=_int("INTAKE_PDF_DPI", 200),
        ocr_timeout=_float("INTAKE_OCR_TIMEOUT", 30.0),
        subprocess_timeout=_float("INTAKE_SUBPROCESS_TIMEOUT", 60.0),
        piece_time_limit_ms=_int("INTAKE_PIECE_TIME_LIMIT_MS", 300_000),
        dossier_time_limit_ms=_int("INTAKE_DOSSIER_TIME_LIMIT_MS", 60_000),
        check_timeout=_float("INTAKE_CHECK_TIMEOUT", 900.0),
        export_max_bytes=_int("INTAKE_EXPORT_MAX_BYTES", 2_000_000),
        redis_heartbeat_timeout_ms=_int("INTAKE_REDIS_HEARTBEAT_TIMEOUT_MS", 10_000),
        redis_maintenance_chance=_int("INTAKE_REDIS_MAINTENANCE_CHANCE", 1000),
        outbox_resend_after_s=_float("INTAKE_OUTBOX_RESEND_AFTER_S", 30.0),
        sweep_interval_s=_float("INTAKE_SWEEP_INTERVAL_S", 5.0),
        close_idle_after_days=_int("INTAKE_CLOSE_IDLE_AFTER_DAYS", 180),
        max_upload_request_bytes=_int("INTAKE_MAX_UPLOAD_REQUEST_BYTES",
                                      2 * _int("INTAKE_MAX_FILE_BYTES", 50 * 1024 * 1024) + 1024 * 1024),
        max_request_bytes=_int("INTAKE_MAX_REQUEST_BYTES", 1024 * 1024),
        preview_concurrency=max(1, _int("INTAKE_PREVIEW_CONCURRENCY", 2)),
        cookie_secure=(os.environ.get("INTAKE_COOKIE_SECURE") or "auto").strip().lower(),
        metrics_token=os.environ.get("INTAKE_METRICS_TOKEN", ""),
        worker_threads=_int("INTAKE_WORKER_THREADS", max(2, os.cpu_count() or 2)),
        page_threads=max(0, _int("INTAKE_PAGE_THREADS", 0)),
        secret_key=os.environ.get("INTAKE_SECRET_KEY", ""),
        log_level=os.environ.get("INTAKE_LOG_LEVEL", "WARNING"),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


def reset_settings() -> None:
    """Forget cached settings (tests that change the environment call this)."""
    get_settings.cache_clear()
