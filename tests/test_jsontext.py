"""What seqrnn prints as JSON is JSON: no NaN, no Infinity."""

import json
import math

import numpy as np
import pytest

from seqrnn import jsontext


def test_undefined_numbers_become_null_everywhere_and_the_rest_is_kept():
    value = {"roc_auc": float("nan"), "perplexity": math.inf, "loss": np.float64(-np.inf),
             "rows": np.int64(3), "nested": [1.5, (np.float32(2.5), float("nan"))], "ok": "x"}
    text = jsontext.dumps(value)
    assert json.loads(text, parse_constant=pytest.fail) == {
        "roc_auc": None, "perplexity": None, "loss": None, "rows": 3,
        "nested": [1.5, [2.5, None]], "ok": "x"}
