"""Which conditioning mode carries a condition best at equal budget: a word model conditioned on
IMDb's rating with `--condition-mode input`, `state` and `both`, each trained `minutes`, then
its condition gap on up to 500 held-out reviews (true rating, none, a wrong one). Prints one JSON
line per mode, then one JSON object.

    python bench/conditional_modes.py imdb_train.csv runs/modes 5
"""

from __future__ import annotations

import json
import sys
import time

import seqrnn
from seqrnn.api.condition_evaluation import condition_gap, held_out_documents, known_documents


def main() -> None:
    data, out, minutes = sys.argv[1], sys.argv[2], float(sys.argv[3])
    results = {}
    for mode in ("input", "state", "both"):
        started = time.perf_counter()
        trained = seqrnn.train("wordlm", f"{out}/{mode}", data=data, condition="rating",
                               condition_dropout=0.1, condition_mode=mode, minutes=minutes,
                               epochs=1000, threads=2, progress=False, seed=1)
        lm = trained.model
        gap = condition_gap(lm, *known_documents(lm.conditions, *held_out_documents(lm), 500))
        results[mode] = {"steps": trained.result.step,
                         "train_seconds": round(time.perf_counter() - started, 1),
                         **{k: round(gap[k]["perplexity"], 2) for k in ("true", "none", "wrong")},
                         "gap": round(gap["gap"], 4), "wrong_gap": round(gap["wrong_gap"], 4)}
        print(json.dumps({mode: results[mode]}), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
