"""seqrnn: recurrent neural networks for sequential data, on PyTorch."""

__version__ = "0.1.0"
