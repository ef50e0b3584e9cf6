"""`write_platform`: the files under --out (what the ingestion commands load) and the truth/ folder."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pandas as pd

from dreamseed.synth.jsonl import exam_results_chunks
from dreamseed.synth.platform import SynthPlatform
from dreamseed.synth.simulate import Progress


@dataclasses.dataclass(frozen=True)
class WrittenFile:
    """One file written: its path, data rows (lines for JSONL, rows without the header for CSV), bytes."""

    path: Path
    rows: int
    bytes: int


def write_platform(
    platform: SynthPlatform, out_dir: Path, progress: Progress | None = None
) -> tuple[WrittenFile, ...]:
    """Write exam_results.jsonl, questions.csv, goals.csv and truth/{items,students,theta_weekly,
    bad_rows}.csv + truth/meta.json under `out_dir` (created if needed; existing files replaced).

    Byte-identical for identical platforms. `progress("write", sessions_done, sessions)` reports
    the JSONL, which is written in chunks.
    """
    out_dir = Path(out_dir)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    written = [_write_exam_results(platform, out_dir / "exam_results.jsonl", progress)]
    tables = {
        "questions.csv": platform.questions,
        "goals.csv": platform.goals,
        "truth/items.csv": platform.truth_items,
        "truth/students.csv": platform.truth_students,
        "truth/theta_weekly.csv": platform.truth_theta_weekly,
        "truth/bad_rows.csv": platform.bad_rows,
    }
    written += [_write_csv(frame, out_dir / name) for name, frame in tables.items()]
    meta_path = out_dir / "truth" / "meta.json"
    meta_path.write_text(
        json.dumps(platform.meta, indent=2, sort_keys=True, ensure_ascii=False) + "\n", "utf-8"
    )
    written.append(WrittenFile(meta_path, 1, meta_path.stat().st_size))
    return tuple(written)


def _write_exam_results(platform: SynthPlatform, path: Path, progress: Progress | None) -> WrittenFile:
    total = len(platform.exam_results)

    def report(done: int) -> None:
        if progress is not None:
            progress("write", done, total)

    chunks = exam_results_chunks(platform.exam_results, platform.exam_questions, platform.bad_rows, report)
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for text in chunks:
            handle.write(text)
    lines = total + int((platform.bad_rows["question_index"] < 0).sum())
    return WrittenFile(path, lines, path.stat().st_size)


def _write_csv(frame: pd.DataFrame, path: Path) -> WrittenFile:
    frame.to_csv(path, index=False, lineterminator="\n", na_rep="")
    return WrittenFile(path, len(frame), path.stat().st_size)
