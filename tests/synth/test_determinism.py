"""Same config → byte-identical files; another seed or end date → other data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from pathlib import Path

from dreamseed.synth import SynthConfig, generate_platform, write_platform

CONFIG = SynthConfig(students=80, weeks=3, seed=5, end_date=dt.date(2026, 11, 1), bad_rows=6)


def digests(config: SynthConfig, out: Path) -> dict[str, str]:
    write_platform(generate_platform(config), out)
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_the_same_config_gives_byte_identical_files(tmp_path: Path) -> None:
    first = digests(CONFIG, tmp_path / "a")
    second = digests(CONFIG, tmp_path / "b")
    assert len(first) == 8
    assert first == second


def test_another_seed_changes_every_data_file(tmp_path: Path) -> None:
    first = digests(CONFIG, tmp_path / "a")
    other = digests(dataclasses.replace(CONFIG, seed=6), tmp_path / "b")
    assert all(first[name] != other[name] for name in first if name != "truth/bad_rows.csv")


def test_another_end_date_moves_the_period(tmp_path: Path) -> None:
    later = dataclasses.replace(CONFIG, end_date=CONFIG.end_date + dt.timedelta(days=7))
    first, moved = generate_platform(CONFIG), generate_platform(later)
    shift = moved.exam_results["created_at"].min() - first.exam_results["created_at"].min()
    assert shift.days in range(0, 14)
    assert moved.meta["start_date"] == (CONFIG.start_date + dt.timedelta(days=7)).isoformat()


def test_progress_reports_every_week_and_the_whole_file(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []
    platform = generate_platform(CONFIG, lambda stage, done, total: calls.append((stage, done, total)))
    write_platform(platform, tmp_path, lambda stage, done, total: calls.append((stage, done, total)))
    weeks = [call for call in calls if call[0] == "simulate"]
    assert weeks == [("simulate", week, CONFIG.weeks) for week in range(1, CONFIG.weeks + 1)]
    sessions = len(platform.exam_results)
    assert calls[-1] == ("write", sessions, sessions)
