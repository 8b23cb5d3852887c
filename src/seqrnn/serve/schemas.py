"""The JSON bodies of the server's requests and answers, documented in its OpenAPI schema.

Requests are strict (`StrictRequest`): unknown fields refused, no value coerced to a field's
type. Text fields refuse lone surrogates, which are no characters.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from seqrnn.configs import MAX_BEAM, MAX_SEQ2SEQ_SOURCES, MAX_STOPS, SEED_LIMIT

TOP_MOVERS = 5
DEFAULT_GENERATE_LENGTH = 200
DEFAULT_WORDS = 50
MAX_GENERATE_SECONDS = 60  # a client wanting longer asks again with the text so far
MAX_INSPECT_CELLS = 16


class ErrorResponse(BaseModel):
    error: str = Field(description="What was wrong with the request, and how to fix it.")
    field: str | None = Field(None, description="The request field the error is about; absent "
                              "when it is not about one field.")


def _unicode_text(text: str) -> str:
    """JSON may escape half of a surrogate pair alone: no character, and no answer could echo it."""
    for position, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            raise ValueError(f"holds a lone surrogate (U+{ord(ch):04X}) at character {position}, "
                             "which is no character: send valid Unicode text")
    return text


UnicodeText = Annotated[str, AfterValidator(_unicode_text)]


class StrictRequest(BaseModel):
    """A request body: unknown fields refused, and no value coerced to a field's type (no true
    for a number, no "5" for 5, no "yes" for true), as the README's 422 promises."""

    model_config = ConfigDict(extra="forbid", strict=True)


class SentimentRequest(StrictRequest):
    text: UnicodeText = Field(description="The review to classify (at most the server's "
                      "max_review_chars characters, see /api/health).",
                      examples=["A wonderful film, with a clumsy ending."])


class SentimentResponse(BaseModel):
    label: str = Field(description="The predicted label: one of `classes`.")
    probability: float = Field(description="The probability of the predicted label.")
    positive_probability: float = Field(description="P(positive): the probability of classes[1].")
    classes: list[str] = Field(description="The two labels, negative first.")
    tokens: list[str] = Field(description="The words the model read, in order.")
    prefix_probabilities: list[float] = Field(
        description="P(positive) after reading each prefix: entry i is the prediction after "
        "tokens[0..i]. The many-to-one reading, made visible. Exact at `scored_prefixes`; "
        "between them (long reviews, bidirectional models) the last exact value is held.")
    scored_prefixes: list[int] = Field(
        description="The entries of prefix_probabilities scored exactly (every one, for a "
        "unidirectional model on a review it reads at once).")
    curve: str = Field(description="How the curve was computed, in words.")
    changes: list[float] = Field(
        description="How much each token moved P(positive): prefix_probabilities[i] minus the "
        "entry before it (minus 0.5, no evidence, for the first token).")
    top_movers: list[int] = Field(
        description=f"Indices of the (up to {TOP_MOVERS}) tokens with the largest |change|, "
        "largest first.")


class GenerateRequest(StrictRequest):
    prime: UnicodeText = Field(
        description="Text the generation starts from; every character must be in the model's "
        "vocabulary. It is not repeated in the answer.", examples=["The "])
    length: int | None = Field(
        None, ge=1, description=f"Characters to generate: at most the server's "
        f"max_generate_length; default {DEFAULT_GENERATE_LENGTH}, or that limit if it is lower.")
    temperature: float = Field(1.0, gt=0, allow_inf_nan=False,
                               description="Below 1 is more conservative, above 1 more "
                               "adventurous.")
    top_k: int = Field(5, ge=0, description="Draw from the k most likely characters; 0: all.")
    top_p: float = Field(1.0, gt=0, le=1, allow_inf_nan=False,
                         description="Nucleus sampling: draw from the fewest most likely "
                         "characters whose probabilities add up to top_p; 1: off.")
    beam: int = Field(1, ge=1, le=MAX_BEAM,
                      description="Beam search with this many hypotheses: the most likely text "
                      "by mean log-probability per character, deterministic (top_k, top_p, "
                      "temperature and seed do not apply); 1: sample.")
    stop: list[UnicodeText] = Field(
        [], max_length=MAX_STOPS, description="The generation ends after the first of these "
        "strings (each 1 to 100 characters).")
    time_limit: float | None = Field(None, gt=0, le=MAX_GENERATE_SECONDS, allow_inf_nan=False,
                                     description="The generation ends after this many seconds.")
    seed: int | None = Field(None, ge=0, lt=SEED_LIMIT,
                             description="Random seed, for a repeatable generation.")
    condition: str | None = Field(
        None, max_length=200, description="A conditioned model's condition (trained with "
        "--condition): a value it was trained with, such as a rating \"10\", or a mixture of "
        "their vectors such as \"1:0.5,10:0.5\"; none: its 'none' entry.", examples=["10"])

    @field_validator("stop")
    @classmethod
    def _stops_are_short(cls, stops: list[str]) -> list[str]:
        if any(not 1 <= len(stop) <= 100 for stop in stops):
            raise ValueError("each stop string must have 1 to 100 characters")
        return stops


class WordGenerateRequest(GenerateRequest):
    prime: UnicodeText = Field(
        "", description="Text the generation continues, read as words (a word the model never "
        "saw reads as its unknown word); empty: a new document. It is not repeated in the "
        "answer.", examples=["this movie was"])
    length: int | None = Field(
        None, ge=1, description=f"Words to generate: at most the server's "
        f"max_generate_length; default {DEFAULT_WORDS}, or that limit if it is lower. A "
        "generation also ends where the model ends its document.")
    top_k: int = Field(5, ge=0, description="Draw from the k most likely words; 0: all.")


class InspectRequest(StrictRequest):
    text: UnicodeText = Field(description="Text for the language model to read (at most the "
                              "server's max_inspect_chars characters).")
    cells: int = Field(4, ge=1, le=MAX_INSPECT_CELLS, description="How many cells to pick.")
    state: Literal["c", "h"] | None = Field(
        None, description="Colour by the LSTM cell state c (as tanh(c)) or the hidden state h; "
        "default: c for an LSTM, h otherwise.")


class InspectedCell(BaseModel):
    layer: int = Field(description="Layer, counted from 0.")
    unit: int = Field(description="Cell within the layer, counted from 0.")
    feature: str = Field(description="The text feature this cell correlates with most.")
    description: str = Field(description="What the feature means.")
    correlation: float = Field(description="Pearson r of the activation with the feature.")
    activations: list[float] = Field(description="The activation after each character of "
                                     "`text`, in [-1, 1].")


class InspectResponse(BaseModel):
    text: str = Field(description="The text that was read (characters the model never saw "
                      "are left out).")
    state: str = Field(description="c or h: which state the activations are.")
    dropped_chars: list[str] = Field(description="Characters left out of the text.")
    cells: list[InspectedCell]


class Seq2SeqRequest(StrictRequest):
    sources: list[UnicodeText] = Field(
        min_length=1, max_length=MAX_SEQ2SEQ_SOURCES,
        description=f"Up to {MAX_SEQ2SEQ_SOURCES} sources (words, for a G2P model), each "
        "with symbols the model has seen.", examples=[["seqrnn", "pronounce"]])
    beam: int = Field(1, ge=1, le=MAX_BEAM, description="Beam search with this many "
                      "hypotheses per source; 1: greedy.")
    attention: bool = Field(False, description="Also return the attention weights of each "
                            "output (a model with attention only).")


class Transduction(BaseModel):
    source: str
    output: str = Field(description="The output, tokens joined as the training data joins "
                        "them.")
    source_tokens: list[str] | None = Field(None, description="With attention: the source's "
                                            "tokens.")
    output_tokens: list[str] | None = Field(None, description="With attention: the output's "
                                            "tokens, then the end token.")
    attention: list[list[float]] | None = Field(
        None, description="With attention: row i is where the decoder looked to write "
        "output token i, one weight per source token (each row sums to 1).")


class Seq2SeqResponse(BaseModel):
    results: list[Transduction]


class HealthResponse(BaseModel):
    status: Literal["ok"]
    version: str
    models: dict[str, bool] = Field(description="Which models are loaded, by kind: sentiment, "
                                    "charlm, wordlm, seq2seq, forecast.")
    limits: dict[str, int] = Field(description="The server's limits on one request.")
    classes: list[str] | None = Field(None, description="The sentiment labels, negative "
                                      "first.")
    default_prime: str | None = Field(None, description="A prime the language model can read.")
    frequencies: list[str] | None = Field(None, description="The frequencies the forecaster "
                                          "knows.")
    horizon: int | None = Field(None, description="The longest horizon it forecasts.")
    tag_features: int | None = Field(None, description="The feature columns (e.g. parts of "
                                     "speech) the tagger reads beside each word: 0, or give "
                                     "them with tokens.")


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (400, 404, 413, 422)
}
BUSY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "Busy: too much generation work is under "
          "way (seqrnn serve --max-generation-work); retry after the Retry-After seconds."}
}




class ForecastRequest(StrictRequest):
    series: list[float] = Field(min_length=1, description="The series' values, oldest first.",
                                examples=[[112.0, 118.0, 132.0, 129.0, 121.0, 135.0, 148.0]])
    horizon: int | None = Field(None, ge=1, description="Steps to forecast (default: the "
                                "longest the model forecasts).")
    quantiles: list[float] | None = Field(None, min_length=1, max_length=99,
                                          description="Quantile levels (default: those the "
                                          "model learned).", examples=[[0.1, 0.5, 0.9]])
    frequency: str | None = Field(None, description="The series' frequency, one the model "
                                  "knows (default: its only one).")
    point: float | str | None = Field(
        None, description="Also answer a point forecast: a quantile level, the median, or mape "
        "(MAPE's Bayes point of each step's quantiles: the forecast of least expected "
        "percentage error).", examples=["mape"])


class ForecastResponse(BaseModel):
    quantiles: list[float]
    median: list[float] = Field(description="The median of each step.")
    point: list[float] | None = Field(None, description="The point forecast asked for.")
    forecast: dict[str, list[float]] = Field(description="Each quantile level (q0.1, ...): its "
                                             "value at each step.")


class TagRequest(StrictRequest):
    sentences: list[UnicodeText | list[UnicodeText]] = Field(
        min_length=1, description="Sentences: raw text (split into words and punctuation) or "
        "lists of tokens.", examples=[["Confidence in the pound is widely expected to take "
                                       "another sharp dive ."]])
    features: list[list[list[UnicodeText]]] | None = Field(
        None, description="For a tagger that reads feature columns: per sentence, one list per "
        "column (a value per token).")


class TaggedSpan(BaseModel):
    type: str
    start: int = Field(description="The first token of the span.")
    end: int = Field(description="The token after the span's last.")
    text: str


class Tagged(BaseModel):
    tokens: list[str]
    tags: list[str] = Field(description="A tag per token, in the scheme the model learned.")
    spans: list[TaggedSpan]


class TagResponse(BaseModel):
    results: list[Tagged]

