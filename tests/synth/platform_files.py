"""A small synthetic platform and its files read back, shared by the synth tests."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from dreamseed.synth import SynthConfig, SynthPlatform

END_DATE = dt.date(2026, 11, 1)
SMALL = SynthConfig(students=400, weeks=6, seed=11, end_date=END_DATE, bad_rows=18)


@dataclasses.dataclass(frozen=True)
class Written:
    """A platform and the directory it was written to, with the files read back."""

    platform: SynthPlatform
    out: Path
    lines: list[str]  # exam_results.jsonl, without newlines
    bad_rows: pd.DataFrame
    questions: pd.DataFrame
    goals: pd.DataFrame
    items: pd.DataFrame
    students: pd.DataFrame
    theta_weekly: pd.DataFrame
    meta: dict[str, Any]

    def session_records(self) -> list[dict[str, Any]]:
        """Parsed lines of the real sessions: all but the extra bad lines (some hold a bad question)."""
        extra = set(self.bad_rows.loc[self.bad_rows["question_index"] < 0, "line_no"])
        return [json.loads(line) for number, line in enumerate(self.lines, 1) if number not in extra]

    def clean_records(self) -> list[dict[str, Any]]:
        """Parsed lines not listed in bad_rows.csv at all."""
        bad = set(self.bad_rows["line_no"])
        return [json.loads(line) for number, line in enumerate(self.lines, 1) if number not in bad]


def read_written(platform: SynthPlatform, out: Path) -> Written:
    def csv(name: str) -> pd.DataFrame:
        return pd.read_csv(out / name, keep_default_na=False, na_values=[""], dtype={"user_id": str})

    return Written(
        platform=platform,
        out=out,
        lines=(out / "exam_results.jsonl").read_text("utf-8").splitlines(),
        bad_rows=pd.read_csv(out / "truth" / "bad_rows.csv", keep_default_na=False),
        questions=csv("questions.csv"),
        goals=csv("goals.csv"),
        items=csv("truth/items.csv"),
        students=pd.read_csv(out / "truth" / "students.csv", keep_default_na=False, dtype=str),
        theta_weekly=csv("truth/theta_weekly.csv"),
        meta=json.loads((out / "truth" / "meta.json").read_text("utf-8")),
    )
