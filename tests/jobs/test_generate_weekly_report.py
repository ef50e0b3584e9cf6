"""generate-weekly-report end to end: hand-made week in PostgreSQL → HTML and PDF files (local
directory or a real S3-compatible server) → report_artifacts; re-runs, --user, shards, dry run,
missing KPIs, failed uploads."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from sqlalchemy import Engine, text
from tests.factories import at, exam_result, load, question, table_fingerprints
from tests.s3_server import S3Server, s3_server  # noqa: F401 - the session fixture

from dreamseed.cli.main import cli
from dreamseed.runtime.registry import load_job
from dreamseed.runtime.runner import EXIT_FAILED, EXIT_OK, execute
from dreamseed.settings import Settings
from dreamseed.storage.shard import Shard

WEEK = date(2026, 11, 16)  # Monday
SUNDAY = date(2026, 11, 22)
JOB = "generate-weekly-report"

ALICE_KPIS = {"I_t": 0.125, "E_t": 0.4, "R_t": 0.5, "A_t": 0.75, "P": 0.62, "S": 0.12, "P_target": 1.0}


def insert(engine: Engine, statement: str, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        connection.execute(text(statement), rows)


def kpi_rows(engine: Engine, rows: list[tuple[str, date, dict[str, Any]]]) -> None:
    insert(
        engine,
        "INSERT INTO weekly_kpi (user_id, week_start, kpis) VALUES (:u, :w, CAST(:k AS jsonb))",
        [{"u": u, "w": w, "k": json.dumps(k)} for u, w, k in rows],
    )


@pytest.fixture
def week(engine: Engine) -> Engine:
    """alice: everything; bob: a KPI row with no values; carol: inactive, high churn risk;
    dave: only last week's KPIs (not reported)."""
    kpi_rows(
        engine,
        [
            ("alice", WEEK, ALICE_KPIS),
            ("alice", WEEK - timedelta(days=7), {**ALICE_KPIS, "A_t": 0.5}),
            ("bob", WEEK, {}),
            (
                "carol",
                WEEK,
                {"S": 0.81, "inactive": True, "inactive_since": "2026-11-20", "days_inactive": 2},
            ),
            ("dave", WEEK - timedelta(days=7), {"S": 0.2}),
        ],
    )
    insert(
        engine,
        "INSERT INTO mirt_ability_history (user_id, run_id, theta, se, fitted_at) VALUES (:u, :r, :t, :s, :f)",
        [
            {
                "u": "alice",
                "r": f"run-{n}",
                "t": theta,
                "s": 0.3,
                "f": at((SUNDAY - timedelta(days=d)).isoformat()),
            }
            for n, (d, theta) in enumerate([(35, 0.1), (21, 0.3), (2, 0.55), (1, 0.6)])
        ],
    )
    insert(
        engine,
        "INSERT INTO features_topic_daily (user_id, topic_id, date, attempts, correct, theta_estimate, theta_sd) "
        "VALUES (:u, :t, :d, :n, :k, :th, 0.4)",
        [
            {"u": "alice", "t": "algebra", "d": WEEK, "n": 10, "k": 7, "th": 0.2},
            {"u": "alice", "t": "algebra", "d": WEEK + timedelta(days=2), "n": 6, "k": 3, "th": 0.35},
            {"u": "alice", "t": "geometry", "d": WEEK + timedelta(days=2), "n": 4, "k": 1, "th": None},
        ],
    )
    insert(
        engine,
        "INSERT INTO mirt_item_params (item_id, model, params) VALUES (:i, '2PL', CAST(:p AS jsonb))",
        [{"i": str(100 + k), "p": json.dumps({"a": 1.0, "b": -1.5 + 0.5 * k, "c": 0})} for k in range(7)],
    )
    insert(
        engine,
        "INSERT INTO interest_goal (user_id, topic_id, target_level, priority, target_date) "
        "VALUES ('alice', 'algebra', 1.2, 1, '2027-01-31')",
        [{}],
    )
    load(
        engine,
        [exam_result("alice-s1", "alice", at("2026-11-18"), [question(101, True), question(102, False)])],
    )
    return engine


def run(engine: Engine, settings: Settings, day: date = SUNDAY, **options: Any) -> int:
    dry_run = options.pop("dry_run", False)
    shard = options.pop("shard", None)
    return execute(
        load_job(JOB), settings, engine, run_date=day, dry_run=dry_run, shard=shard, options=options
    )


def artifacts(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM report_artifacts ORDER BY user_id, format")).mappings()
        return {(row["user_id"], row["format"]): dict(row) for row in rows}


def report_file(settings: Settings, user: str, extension: str) -> Path:
    return settings.reports_dir / "reports" / user / WEEK.isoformat() / f"report.{extension}"


def test_reports_are_written_and_recorded(
    week: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(week, settings) == EXIT_OK
    rows = artifacts(week)
    assert set(rows) == {(user, fmt) for user in ("alice", "bob", "carol") for fmt in ("html", "pdf")}
    for (user, fmt), row in rows.items():
        path = report_file(settings, user, fmt)
        body = path.read_bytes()
        assert row["url"] == str(path)
        assert row["week_start"] == WEEK
        assert row["bytes"] == len(body)
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
    out = capsys.readouterr().out
    assert "[INFO] Generating reports for 3 users; week=2026-11-16, format=html,pdf, dry_run=False" in out
    assert f"[SUCCESS] Report generated: {report_file(settings, 'alice', 'html')}" in out
    assert "[INFO] Summary: processed=3, failed=0, week=2026-11-16, duration_ms=" in out
    assert not report_file(settings, "dave", "html").exists()


def test_the_html_shows_the_students_week(week: Engine, settings: Settings) -> None:
    assert run(week, settings, report_format="html") == EXIT_OK
    alice = report_file(settings, "alice", "html").read_text(encoding="utf-8")
    for shown in ("+0.125", "0.750", "+0.250", "62%", "+0.60", "algebra", "geometry", "2027-01-31", "+1.20"):
        assert shown in alice, shown
    assert "+0.35" in alice  # algebra's latest θ of the week
    bob = report_file(settings, "bob", "html").read_text(encoding="utf-8")
    assert bob.count("N/A") >= 6  # every KPI missing
    carol = report_file(settings, "carol", "html").read_text(encoding="utf-8")
    assert "2026-11-20" in carol
    assert "0.810" in carol
    assert not report_file(settings, "alice", "pdf").exists()


def test_the_pdf_holds_the_students_values(week: Engine, settings: Settings) -> None:
    assert run(week, settings, report_format="pdf", user=("alice",)) == EXIT_OK
    pdf = PdfReader(io.BytesIO(report_file(settings, "alice", "pdf").read_bytes()))
    content = " ".join(page.extract_text() for page in pdf.pages)
    assert "alice" in content
    assert "+0.125" in content


def test_a_rerun_overwrites_files_and_rows(week: Engine, settings: Settings) -> None:
    assert run(week, settings, report_format="html") == EXIT_OK
    first = artifacts(week)
    assert run(week, settings, report_format="html") == EXIT_OK
    second = artifacts(week)
    assert set(second) == set(first)
    for key, row in second.items():
        assert row["id"] == first[key]["id"]
        assert row["generated_at"] > first[key]["generated_at"]
        assert hashlib.sha256(Path(row["url"]).read_bytes()).hexdigest() == row["sha256"]
    assert sorted(p.name for p in report_file(settings, "alice", "html").parent.iterdir()) == ["report.html"]


def test_user_option_renders_only_that_user(week: Engine, settings: Settings) -> None:
    assert run(week, settings, report_format="html", user=("bob",)) == EXIT_OK
    assert set(artifacts(week)) == {("bob", "html")}


def test_a_user_without_kpis_that_week_counts_as_failed(
    week: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(week, settings, report_format="html", user=("dave",)) == EXIT_FAILED
    out = capsys.readouterr().out
    assert "[WARN] No weekly_kpi row for user=dave week=2026-11-16" in out
    assert "processed=0, failed=1" in out
    assert artifacts(week) == {}


def test_dry_run_writes_nothing(week: Engine, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    before = table_fingerprints(week)
    assert run(week, settings, dry_run=True, report_format="html") == EXIT_OK
    assert table_fingerprints(week) == before
    assert not settings.reports_dir.exists()
    out = capsys.readouterr().out
    assert "dry_run=True" in out
    assert "[DRY_RUN] Would store 3 files for 3 users" in out


def test_no_users_that_week_is_not_a_failure(week: Engine, settings: Settings) -> None:
    assert run(week, settings, day=SUNDAY + timedelta(days=14)) == EXIT_OK
    assert artifacts(week) == {}


def test_any_day_of_the_week_and_the_default_mean_the_same_iso_week() -> None:
    job = load_job(JOB)
    assert job.default_date(date(2026, 11, 25)) == SUNDAY  # a Wednesday: the previous week
    assert job.default_date(date(2026, 11, 23)) == SUNDAY  # the Monday the CronJob runs


def test_shards_split_the_users(week: Engine, settings: Settings) -> None:
    for index in range(2):
        assert run(week, settings, report_format="html", shard=Shard(index, 2)) == EXIT_OK
    assert {user for user, _ in artifacts(week)} == {"alice", "bob", "carol"}


@pytest.mark.slow
def test_a_process_pool_renders_many_users(engine: Engine, settings: Settings) -> None:
    users = [f"user-{n:02d}" for n in range(30)]
    kpi_rows(engine, [(user, WEEK, {"S": n / 30}) for n, user in enumerate(users)])
    assert run(engine, settings, report_format="html", workers=2) == EXIT_OK
    rows = artifacts(engine)
    assert {user for user, _ in rows} == set(users)
    assert all(Path(row["url"]).read_bytes().startswith(b"<!") for row in rows.values())


def test_the_cli_accepts_week_and_format(week: Engine, cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        cli, ["run", JOB, "--week", "2026-11-18", "--format", "html", "--user", "alice"]
    )
    assert result.exit_code == 0, result.output
    assert (
        "[INFO] Generating reports for 1 users; week=2026-11-16, format=html, dry_run=False" in result.output
    )
    bad = CliRunner().invoke(cli, ["run", JOB, "--format", "docx"])
    assert bad.exit_code == 2
    assert "html,pdf" in bad.output


def s3_settings(settings: Settings, server: S3Server, bucket: str) -> Settings:
    return settings.model_copy(
        update={"s3_bucket": bucket, "s3_endpoint_url": server.endpoint_url, "aws_region": server.region}
    )


@pytest.mark.slow
def test_reports_go_to_a_real_s3_server(
    week: Engine,
    settings: Settings,
    s3_server: S3Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    bucket = s3_server.new_bucket()
    assert run(week, s3_settings(settings, s3_server, bucket)) == EXIT_OK
    client = s3_server.client()
    listed = client.list_objects_v2(Bucket=bucket, Prefix="reports/")
    keys = sorted(entry["Key"] for entry in listed["Contents"])
    assert keys == [
        f"reports/{u}/2026-11-16/report.{f}" for u in ("alice", "bob", "carol") for f in ("html", "pdf")
    ]
    rows = artifacts(week)
    for key in keys:
        user, fmt = key.split("/")[1], key.rsplit(".", 1)[1]
        stored = client.get_object(Bucket=bucket, Key=key)
        body = stored["Body"].read()
        assert stored["ContentType"] == {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}[fmt]
        row = rows[(user, fmt)]
        assert row["url"] == f"s3://{bucket}/{key}"
        assert row["bytes"] == len(body)
        assert row["sha256"] == hashlib.sha256(body).hexdigest()
    assert not settings.reports_dir.exists()


@pytest.mark.slow
def test_refused_credentials_stop_the_run_with_one_line_before_any_upload(
    week: Engine,
    settings: Settings,
    s3_server: S3Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "a-wrong-secret")
    bucket = s3_server.new_bucket()
    code = run(week, s3_settings(settings, s3_server, bucket), report_format="html", user=("alice", "bob"))
    assert code == EXIT_FAILED
    assert artifacts(week) == {}
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    out = capsys.readouterr().out
    assert (
        f"[FATAL] generate-weekly-report failed: ReportStoreError: S3 refused access to bucket '{bucket}'"
        in out
    )
    assert "attempts" not in out
    assert "Traceback" not in out


def test_a_bucket_that_does_not_exist_is_one_clear_line(
    week: Engine,
    settings: Settings,
    s3_server: S3Server,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    code = run(week, s3_settings(settings, s3_server, "no-such-bucket"), report_format="html")
    assert code == EXIT_FAILED
    assert artifacts(week) == {}
    out = capsys.readouterr().out
    assert "S3 bucket 'no-such-bucket' does not exist" in out
    assert "create it or fix S3_BUCKET" in out
    assert "Traceback" not in out
