"""`seqrnn gradients`: placeholder registration, filled in by the gradient study."""
