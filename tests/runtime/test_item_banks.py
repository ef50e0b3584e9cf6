"""The process's item bank cache (dreamseed.runtime.item_banks): loaded once, re-checked at most every
interval, reloaded on change; the online scorer, the CAT bank and the stream's bank are values of it."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Connection, Engine, text

from dreamseed.runtime.item_banks import ItemBankCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def put(engine: Engine, item: int, b: float, version: str = "v1") -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_item_params (item_id, model, params, version) VALUES (:i, '2PL', CAST(:p AS jsonb), :v) "
                "ON CONFLICT (item_id) DO UPDATE SET params = EXCLUDED.params"
            ),
            {"i": str(item), "p": json.dumps({"a": 1.0, "b": b}), "v": version},
        )


def test_the_bank_is_reloaded_only_after_the_interval_and_a_change(engine: Engine) -> None:
    put(engine, 1, 0.0)
    clock = Clock()
    cache = ItemBankCache(check_interval=5.0, clock=clock)
    with engine.connect() as connection:
        first = cache.get(connection, "v1")
        assert (first.n_items, first.source, first.model) == (1, "mirt_item_params", "2PL")
        put(engine, 2, 1.0)
        clock.now = 4.0
        assert cache.get(connection, "v1") is first  # within the interval: no query at all
        clock.now = 6.0
        second = cache.get(connection, "v1")
        assert second.n_items == 2
        clock.now = 12.0
        assert cache.get(connection, "v1") is second  # checked, unchanged: same bank
        put(engine, 2, 1.5)  # same count and fitted_at, new row version
        clock.now = 18.0
        third = cache.get(connection, "v1")
        assert third is not second
        assert third.scorer is not None
        assert float(third.scorer.items.b[third.scorer.items.positions([2])[0]]) == 1.5


def test_without_calibrations_the_question_meta_parameters_are_used(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO question (id, topic_id, meta) VALUES "
                '(7, \'t\', \'{"irt": {"a": 1.1, "b": 0.2, "c": 0, "model": "2PL"}, "tags": ["anchor"]}\'), '
                "(8, 't', '{\"tags\": [\"anchor\"]}')"
            )
        )
        bank = ItemBankCache(0).get(connection, "v1")
    assert (bank.n_items, bank.source) == (1, "question.meta")
    put(engine, 9, 0.0)
    with engine.connect() as connection:
        assert ItemBankCache(0).get(connection, "v1").source == "mirt_item_params"


def test_non_numeric_item_ids_are_skipped(engine: Engine) -> None:
    put(engine, 3, 0.0)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_item_params (item_id, model, params, version) VALUES ('Q1', '2PL', '{\"b\": 0}', 'v1')"
            )
        )
        assert ItemBankCache(0).get(connection, "v1").n_items == 1


def test_every_value_of_a_version_is_reloaded_after_one_stamp_check(engine: Engine) -> None:
    put(engine, 1, 0.0)
    clock, loads = Clock(), []
    cache = ItemBankCache(check_interval=5.0, clock=clock)

    def sized(connection: Connection) -> int:
        loads.append(1)
        return int(connection.execute(text("SELECT count(*) FROM mirt_item_params")).scalar_one())

    with engine.connect() as connection:
        assert (cache.get(connection, "v1").n_items, cache.value(connection, "v1", "count", sized)) == (1, 1)
        put(engine, 2, 1.0)
        clock.now = 4.0
        assert cache.fresh_value("v1", "count") == 1  # within the interval, no connection needed
        clock.now = 6.0
        assert cache.fresh("v1") is None  # stale: ask with a connection
        assert cache.fresh_value("v1", "count") is None
        assert cache.value(connection, "v1", "count", sized) == 2
        assert cache.fresh("v1") is None  # the scorer's bank: loaded under the old stamp
        assert cache.get(connection, "v1").n_items == 2
        assert [bank.n_items for bank in cache.loaded()] == [2]
    assert len(loads) == 2


def test_a_failed_load_is_not_kept(engine: Engine) -> None:
    put(engine, 1, 0.0)
    cache = ItemBankCache(check_interval=60.0)

    def broken(_connection: Connection) -> int:
        raise ValueError("unreadable K.csv")

    with engine.connect() as connection:
        with pytest.raises(ValueError, match="unreadable"):
            cache.value(connection, "v1", "cat", broken)
        assert cache.fresh_value("v1", "cat") is None
        assert cache.value(connection, "v1", "cat", lambda _c: 7) == 7
