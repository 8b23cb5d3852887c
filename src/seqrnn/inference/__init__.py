"""Using a trained language model fast: generation in compiled code, beam search, stop strings.

- `generation`: `sample_ids`, seeded streams sampled in chunks, and `StopAt`.
- `stepper`: a character model's weights laid out for the compiled sampler.
- `native`: builds `sampler.c` with the machine's C compiler and loads it (or says it cannot).
- `beam`: beam search with length normalisation.
- `deadline`: generation time limits, on a clock tests can replace.
"""
