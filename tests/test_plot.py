"""Learning curves from metrics.jsonl: a damaged line costs its point, not the curve."""

import json

from seqrnn.plot import plot_metrics, read_metrics

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_lines_without_a_kind_or_a_value_are_left_out_and_the_rest_is_drawn(tmp_path):
    records = [{"kind": "train", "step": 1, "loss": 2.0},
               {"step": 2, "loss": 1.5},  # no "kind"
               {"kind": "train", "step": 3},  # no loss
               [1, 2], "text",
               {"kind": "eval", "step": 3, "val_loss": 1.2, "val_accuracy": 0.6},
               {"kind": "eval", "step": 4, "val_loss": 1.1},  # no accuracy this time
               {"kind": "train", "step": 4, "loss": 1.0}]
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert [(r["kind"], r["step"]) for r in read_metrics(metrics)] == [
        ("train", 1), ("eval", 3), ("eval", 4), ("train", 4)]
    plot_metrics(metrics, tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG_MAGIC
