"""What one request to `seqrnn serve` may ask for (no web framework needed to read them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from seqrnn.errors import UserError

# JSON may spell one character as a 12-byte surrogate-pair escape; bodies above this many bytes
# per allowed character (plus room for the other fields) are refused before they are parsed.
_BYTES_PER_CHAR = 12
_BODY_SLACK = 4096


@dataclass(frozen=True)
class ServeLimits:
    """Per-request limits; `seqrnn serve` flags set them."""

    max_review_chars: int = 5000
    max_generate_length: int = 2000
    max_prime_chars: int = 500
    max_inspect_chars: int = 2000

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value < 1:
                raise UserError(f"--{name.replace('_', '-')} must be at least 1, got {value}")

    @property
    def max_body_bytes(self) -> int:
        longest = max(self.max_review_chars, self.max_prime_chars, self.max_inspect_chars)
        return _BYTES_PER_CHAR * longest + _BODY_SLACK
