"""What one request to `seqrnn serve` may ask for."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from seqrnn.configs.checks import normalise_fields
from seqrnn.configs.generation import MAX_BEAM
from seqrnn.errors import field_error

MAX_SEQ2SEQ_SOURCES = 64  # per request to POST /api/seq2seq

# JSON may spell one character as a 12-byte surrogate-pair escape; bodies above this many bytes
# per allowed character (plus room for the other fields) are refused before they are parsed.
_BYTES_PER_CHAR = 12
_BODY_SLACK = 4096
_CHARS_PER_NUMBER = 2  # a forecast's series: 24 bytes a value (-1.2345678901234567e+300,)


@dataclass(frozen=True)
class ServeLimits:
    """What one request to `seqrnn serve` may ask for, and all of them at once; its flags set
    them."""

    max_review_chars: int = 5000
    max_generate_length: int = 2000
    max_prime_chars: int = 500
    max_inspect_chars: int = 2000
    max_source_chars: int = 100  # per source of POST /api/seq2seq
    max_series_points: int = 5000  # values of the series POST /api/forecast reads
    max_tag_chars: int = 5000  # characters of all the sentences of one POST /api/tag
    # Hypotheses generated or transduced at once, all requests together: a sample counts 1,
    # a beam its width, a transduction its sources times its beam. Beyond it: 503.
    max_generation_work: int = MAX_BEAM

    def __post_init__(self) -> None:
        normalise_fields(self)
        for name, value in asdict(self).items():
            if value < 1:
                raise field_error(name, f"{{}} must be at least 1, got {value}")

    @property
    def max_body_bytes(self) -> int:
        longest = max(self.max_review_chars, self.max_prime_chars, self.max_inspect_chars,
                      MAX_SEQ2SEQ_SOURCES * self.max_source_chars,
                      _CHARS_PER_NUMBER * self.max_series_points, self.max_tag_chars)
        return _BYTES_PER_CHAR * longest + _BODY_SLACK
