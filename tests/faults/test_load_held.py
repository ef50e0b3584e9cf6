"""Load held: the online θ update under concurrent clients answers every call and loses no row.

(Speed under load is the throughput issue's; here only correctness: every request answered 200,
one θ history row per session, the counters agree.)"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, text
from tests.api.server import serving
from tests.api.test_update_theta import PATH, put_items
from tests.factories import load, steady_learner

from dreamseed.api.app import create_app
from dreamseed.settings import Settings

pytestmark = pytest.mark.faults
USERS = 8
CALLS_PER_CLIENT = 10


@pytest.mark.parametrize("clients", [8, 32])
def test_concurrent_theta_updates_are_all_answered_and_all_recorded(
    settings: Settings, engine: Engine, clients: int
) -> None:
    """8 and 32 clients on keep-alive connections (more than the service's 5 database connections)."""
    first = (datetime.now(UTC) - timedelta(days=20)).date().isoformat()
    load(engine, [line for n in range(USERS) for line in steady_learner(f"u{n}", first, 10)])
    put_items(engine)
    with serving(create_app(settings, engine, item_bank_check_secs=0)) as url:

        def client(index: int) -> list[int]:
            with httpx.Client(base_url=url, timeout=60) as http:
                return [
                    http.post(
                        PATH, json={"user_id": f"u{(index + call) % USERS}", "session_id": f"c{index}-{call}"}
                    ).status_code
                    for call in range(CALLS_PER_CLIENT)
                ]

        with ThreadPoolExecutor(clients) as pool:
            statuses = [status for batch in pool.map(client, range(clients)) for status in batch]
        metrics = httpx.get(url + "/metrics").text
    calls = clients * CALLS_PER_CLIENT
    assert statuses == [200] * calls
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT count(*), count(DISTINCT (user_id, run_id)) FROM mirt_ability_history")
        ).one()
    assert tuple(rows) == (calls, calls)
    assert f'dreamseed_theta_updates_total{{status="ok"}} {float(calls)}' in metrics
