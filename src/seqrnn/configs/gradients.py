"""What `seqrnn gradients` measures."""

from __future__ import annotations

from dataclasses import dataclass

from seqrnn.configs.checks import (
    normalise_fields,
    require_finite,
    require_seed,
)
from seqrnn.errors import UserError


@dataclass(frozen=True)
class GradientStudyConfig:
    """What `seqrnn gradients` measures (seqrnn.analysis.gradients explains the study).

    Its messages name each setting in words, as the command has always printed them; the
    fields still say which setting is wrong.
    """

    radii: tuple[float, ...] = (0.5, 1.0, 1.5)  # Elman: spectral radius of W_hh
    forget_biases: tuple[float, ...] = (0.0, 1.0, 4.0)  # LSTM: b_f; f = σ(b_f) at rest
    lstm_radius: float = 0.5  # LSTM: spectral radius of each W_h*
    elman_input_scale: float = 0.0  # std of W_xh x(t); 0 keeps the Elman at rest
    lstm_input_scale: float = 1.0  # std of each gate's W_x* x(t)
    steps: int = 100  # largest distance t - k
    hidden_size: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        normalise_fields(self)
        if self.steps < 1:
            raise UserError(f"steps must be at least 1, got {self.steps}", fields=("steps",))
        if self.hidden_size < 1:
            raise UserError(f"hidden size must be at least 1, got {self.hidden_size}",
                            fields=("hidden_size",))
        if not self.radii and not self.forget_biases:
            raise UserError("nothing to measure: give at least one radius or forget bias",
                            fields=("radii", "forget_biases"))
        require_seed(self.seed)
        for name in ("radii", "forget_biases"):
            for value in getattr(self, name):
                require_finite(**{name: value})
        require_finite(lstm_radius=self.lstm_radius, elman_input_scale=self.elman_input_scale,
                       lstm_input_scale=self.lstm_input_scale)
        for radius in self.radii:
            if radius <= 0:
                raise UserError(f"radius {radius} must be positive (0 zeroes every gradient)",
                                fields=("radii",))
        for name, words in (("radii", "radius"), ("forget_biases", "forget bias")):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise UserError(f"each {words} may be given once, got {list(values)}",
                                fields=(name,))
        checks = (
            ("lstm_radius", "LSTM radius"),
            ("elman_input_scale", "Elman input scale"),
            ("lstm_input_scale", "LSTM input scale"),
        )
        for name, words in checks:
            value = getattr(self, name)
            if value < 0:
                raise UserError(f"{words} must be 0 or more, got {value}", fields=(name,))
