import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


# Prepared corpora go to a cache of the session's own, never the user's (subprocesses too).
os.environ["SEQRNN_CACHE"] = tempfile.mkdtemp(prefix="seqrnn-test-cache-")

# The tests run small models, where a second thread costs more in synchronisation than
# it gains (and much more on a busy machine).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def fixed_seeds():
    """Every test starts from the same random state."""
    torch.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def real_data_dir() -> Path:
    """The folder with the real datasets; tests that need it skip where it is absent."""
    path = Path(os.environ.get("SEQRNN_DATA", SHARED_DATA))
    if not path.is_dir():
        pytest.skip(f"real datasets not found at {path} (set SEQRNN_DATA)")
    return path
