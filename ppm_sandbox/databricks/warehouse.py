"""The one SQL warehouse statements run on, and its state (RUNNING or STOPPED).

While it is STOPPED (`POST .../stop`, or the `warehouse_state` fault switch) statements stay PENDING, as on a
warehouse that never comes up, until it runs again (`POST .../start`). Workers wait on `condition`, which is
notified on every change, so that a start or a cancel is seen at once.
"""

import threading
from collections.abc import Callable
from typing import Any

RUNNING = "RUNNING"
STOPPED = "STOPPED"
STATES = (RUNNING, STOPPED)


class Warehouse:
    def __init__(self, warehouse_id: str) -> None:
        self.id = warehouse_id
        self.condition = threading.Condition()
        self._state = RUNNING

    @property
    def state(self) -> str:
        with self.condition:
            return self._state

    def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"warehouse_state must be one of {STATES}, got {state!r}")
        with self.condition:
            self._state = state
            self.condition.notify_all()

    def wake(self) -> None:
        """Let waiting workers re-check their statement (a cancel, a reset)."""
        with self.condition:
            self.condition.notify_all()

    def wait(self, ready: Callable[[], bool], timeout: float) -> None:
        """Wait up to `timeout` s for a change, unless `ready()` holds already."""
        with self.condition:
            if not ready():
                self.condition.wait(timeout)

    def to_json(self, host: str) -> dict[str, Any]:
        """`GET /api/2.0/sql/warehouses/{id}`."""
        hostname = host.split("://", 1)[-1].split("/", 1)[0]
        return {
            "id": self.id,
            "name": "Sandbox SQL warehouse",
            "state": self.state,
            "cluster_size": "2X-Small",
            "warehouse_type": "PRO",
            "enable_serverless_compute": True,
            "enable_photon": True,
            "auto_stop_mins": 10,
            "min_num_clusters": 1,
            "max_num_clusters": 1,
            "num_clusters": 1 if self.state == RUNNING else 0,
            "num_active_sessions": 0,
            "creator_name": "sandbox@example.com",
            "spot_instance_policy": "COST_OPTIMIZED",
            "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "health": {"status": "HEALTHY"},
            "tags": {},
            "jdbc_url": f"jdbc:databricks://{hostname};transportMode=http;ssl=1;httpPath=/sql/1.0/warehouses/{self.id}",
            "odbc_params": {
                "hostname": hostname,
                "path": f"/sql/1.0/warehouses/{self.id}",
                "port": 443,
                "protocol": "https",
            },
        }
