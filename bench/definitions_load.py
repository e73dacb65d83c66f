"""How long the code location takes to load (what `dagster dev` and every run worker pay at start).

Prints one JSON object: {"import_s": ..., "resolve_s": ..., "assets": ..., "checks": ...}.
Each figure is the median of several fresh interpreter runs.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

PROBE = """
import json, time
t0 = time.perf_counter()
from ppm_assets.definitions import defs
t1 = time.perf_counter()
graph = defs.resolve_asset_graph()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "resolve_s": t2 - t1,
                  "assets": len(graph.get_all_asset_keys()), "checks": len(graph.asset_check_keys)}))
"""


def main(runs: int = 5) -> None:
    samples = [
        json.loads(
            subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
        )
        for _ in range(runs)
    ]
    print(
        json.dumps(
            {
                "import_s": round(statistics.median(s["import_s"] for s in samples), 3),
                "resolve_s": round(statistics.median(s["resolve_s"] for s in samples), 3),
                "assets": samples[0]["assets"],
                "checks": samples[0]["checks"],
                "runs": runs,
            }
        )
    )


if __name__ == "__main__":
    main()
