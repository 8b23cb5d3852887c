"""seqrnn: recurrent neural networks for sequential data, on PyTorch.

`seqrnn.train(kind, out=..., preset=..., resume=..., **settings)` trains any kind of task
(seqrnn.training.train); `seqrnn.load(run_dir)` loads the model of any run folder
(seqrnn.api.loading.load). Both are imported on first use, so `import seqrnn` stays light.
"""

import importlib

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "train":
        return importlib.import_module("seqrnn.training").train
    if name == "load":
        return importlib.import_module("seqrnn.api.loading").load
    raise AttributeError(f"module 'seqrnn' has no attribute {name!r}")
