"""θ of every user of a batch moves in the batch's transaction, as the online update computes it."""

from __future__ import annotations

import asyncio
import json

import numpy as np
from sqlalchemy import Engine, text
from tests.stream.harness import ITEMS, consume_until, count, publish, sessions

from dreamseed.irt import ItemParameters, OnlineScorer
from dreamseed.settings import Settings


def put_items(engine: Engine) -> ItemParameters:
    b = np.linspace(-2, 2, len(ITEMS))
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO mirt_item_params (item_id, model, params, version, run_id, fitted_at) "
                "VALUES (:i, '2PL', CAST(:p AS jsonb), 'v1', 'run-1', now())"
            ),
            [
                {"i": str(i), "p": json.dumps({"a": 1.3, "b": float(d), "c": 0.0})}
                for i, d in zip(ITEMS, b, strict=True)
            ],
        )
    return ItemParameters.from_arrays(ITEMS, np.full(len(ITEMS), 1.3), b)


def test_each_user_of_a_batch_gets_the_online_theta(stream_settings: Settings, engine: Engine) -> None:
    scorer = OnlineScorer(put_items(engine), "EAP")
    publish(stream_settings, sessions(12, 3))
    consume_until(stream_settings, engine, lambda: count(engine, "SELECT count(*) FROM mirt_ability") == 12)
    with engine.connect() as connection:
        current = {
            u: (t, s, r)
            for u, t, s, r in connection.execute(
                text("SELECT user_id, theta, se, run_id FROM mirt_ability WHERE version = 'v1'")
            )
        }
        answers = connection.execute(
            text("SELECT user_id, array_agg(item_id), array_agg(correct) FROM attempt_fact GROUP BY user_id")
        ).all()
        sources = connection.execute(text("SELECT DISTINCT source FROM mirt_ability_history")).scalars().all()
    for user, items, correct in answers:
        expected = scorer.score(items, correct)
        theta, se, run_id = current[user]
        assert np.allclose([theta, se], [expected.theta, expected.se], atol=1e-9)
        assert run_id.startswith(f"online-{user}-s")
    assert sources == ["online"]


def test_redelivered_sessions_add_no_theta_rows(stream_settings: Settings, engine: Engine) -> None:
    put_items(engine)
    lines = sessions(4, 2)
    publish(stream_settings, lines)
    consume_until(stream_settings, engine, lambda: count(engine, "SELECT count(*) FROM mirt_ability") == 4)
    history = count(engine, "SELECT count(*) FROM mirt_ability_history")
    publish(stream_settings, [line.encode() + b"\n" for line in lines])  # deduplicated by message id

    from tests.stream.test_landing import publish_with_ids

    asyncio.run(publish_with_ids(stream_settings, lines, "again-"))  # delivered again, already landed
    consume_until(stream_settings, engine, lambda: False, timeout_s=1.5)
    assert count(engine, "SELECT count(*) FROM mirt_ability_history") == history


def test_without_calibrated_items_sessions_land_and_theta_waits(
    stream_settings: Settings, engine: Engine
) -> None:
    publish(stream_settings, sessions(3, 1))
    consume_until(stream_settings, engine, lambda: count(engine, "SELECT count(*) FROM exam_results") == 3)
    assert count(engine, "SELECT count(*) FROM mirt_ability") == 0
