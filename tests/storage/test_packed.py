"""Packed binary reads: every type round-trips exactly, NULLs are refused, groups keep their rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from sqlalchemy import Engine

from dreamseed.storage.packed import (
    PackedColumn,
    concatenated,
    only_keys,
    read_packed_groups,
    row_keys,
)

VALUES = """FROM (VALUES
    ('u2', 9223372036854775807, -2147483648, true,  TIMESTAMPTZ '1999-12-31 23:59:59.999999+00'),
    ('u1', -9223372036854775808, 2147483647, false, TIMESTAMPTZ '2026-11-01 12:34:56.123456+00'),
    ('u2', 0, 0, false, TIMESTAMPTZ '1970-01-01 00:00:00+00')
) AS v(k, big, small, flag, at) WHERE v.k <> :skip"""
COLUMNS = (
    PackedColumn("big", "v.big", "int8"),
    PackedColumn("small", "v.small", "int4"),
    PackedColumn("flag", "v.flag", "bool"),
    PackedColumn("at", "v.at", "timestamptz"),
)


def _microseconds(stamp: datetime) -> int:
    return (stamp - datetime(1970, 1, 1, tzinfo=UTC)) // np.timedelta64(1, "us").item()


def test_every_kind_round_trips_exactly_and_rows_stay_with_their_group(engine: Engine) -> None:
    with engine.connect() as connection:
        groups = read_packed_groups(
            connection, key="v.k", columns=COLUMNS, source=VALUES, params={"skip": ""}
        )
    rows = sorted(
        zip(
            row_keys(groups),
            groups.columns["big"].tolist(),
            groups.columns["small"].tolist(),
            groups.columns["flag"].tolist(),
            groups.columns["at"].tolist(),
            strict=True,
        )
    )
    assert rows == [
        (
            "u1",
            -(2**63),
            2**31 - 1,
            False,
            _microseconds(datetime(2026, 11, 1, 12, 34, 56, 123456, tzinfo=UTC)),
        ),
        ("u2", 0, 0, False, 0),
        (
            "u2",
            2**63 - 1,
            -(2**31),
            True,
            _microseconds(datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ),
    ]
    assert sorted(zip(groups.keys.tolist(), groups.counts.tolist(), strict=True)) == [("u1", 1), ("u2", 2)]


def test_a_null_value_is_an_error_not_a_lost_row(engine: Engine) -> None:
    nullable = (PackedColumn("big", "CASE WHEN v.k = 'u1' THEN NULL ELSE v.big END", "int8"),)
    with engine.connect() as connection, pytest.raises(ValueError, match="never be NULL"):
        read_packed_groups(connection, key="v.k", columns=nullable, source=VALUES, params={"skip": ""})


def test_no_rows_gives_empty_columns(engine: Engine) -> None:
    with engine.connect() as connection:
        groups = read_packed_groups(
            connection, key="v.k", columns=COLUMNS, source=VALUES + " AND false", params={"skip": ""}
        )
    assert len(groups.keys) == 0
    assert len(row_keys(groups)) == 0
    assert {name: len(values) for name, values in groups.columns.items()} == dict.fromkeys(
        ("big", "small", "flag", "at"), 0
    )


def test_parts_concatenate_and_filter_by_key(engine: Engine) -> None:
    with engine.connect() as connection:
        parts = [
            read_packed_groups(connection, key="v.k", columns=COLUMNS, source=VALUES, params={"skip": skip})
            for skip in ("u1", "u2")
        ]
    both = concatenated(parts)
    assert sorted(row_keys(both).tolist()) == ["u1", "u2", "u2"]
    only_u1 = only_keys(both, ["u1"])
    assert row_keys(only_u1).tolist() == ["u1"]
    assert only_u1.columns["small"].tolist() == [2**31 - 1]
