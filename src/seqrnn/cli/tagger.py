"""`seqrnn tag train|evaluate|predict`: the sequence tagger (synchronized many-to-many)."""

from __future__ import annotations

import argparse
from functools import partial

from seqrnn import jsontext
from seqrnn.cli import kind_commands, options
from seqrnn.data.files import parse_json
from seqrnn.errors import UserError

add = partial(options.add, kind="tag")  # flags whose defaults are the tagger's own


def register(subparsers) -> None:
    kind_commands.kind_group(
        subparsers, "tag", help="sequence tagger (chunking, named entities): train, "
        "evaluate, predict",
        description="The lecture's synchronized many-to-many: a label for every word. A "
        "bidirectional LSTM reads each sentence's words, their characters and any feature "
        "columns (a part of speech), and a CRF picks the best tag sequence (Huang et al. "
        "2015, Lample et al. 2016). Default data: CoNLL-2000 chunking (conll2000.zip in "
        "$SEQRNN_DATA).",
        commands=[_register_train, _register_evaluate, _register_predict])


def _register_train(commands) -> None:
    kind_commands.train_command(
        commands, "tag", "Train a tagger; the best checkpoint is the one of highest validation "
        "span F1 (as conlleval counts it). The test sentences are never read.", _train_flags,
        lambda best: f"F1 {best['f1']:.4f}, accuracy {best['accuracy']:.4f} "
        f"(loss {best['loss']:.4f})")


def _train_flags(p: argparse.ArgumentParser) -> None:
    from seqrnn.configs.tagger import TAG_SCHEMES, TaggerConfig, TaggerData

    d = p.add_argument_group("data")
    add(d, TaggerData, "data", "conll2000, conll2002-es or conll2002-nl (NLTK's archives in "
        "$SEQRNN_DATA), or a file of training sentences: CoNLL columns or JSON lines")
    add(d, TaggerData, "validation", "a file of validation sentences (default: val-fraction "
        "of the training file, seeded)")
    add(d, TaggerData, "test", "a file of test sentences, scored by tag evaluate")
    add(d, TaggerData, "format", "the files' format when their names do not say",
        choices=["conll", "jsonl"])
    add(d, TaggerData, "word_column", "CoNLL: the word's column, from 0")
    add(d, TaggerData, "tag_column", "CoNLL: the tag's column (-1: the last)")
    add(d, TaggerData, "feature_columns", "CoNLL: columns of features such as the part of "
        "speech, each embedded", nargs="+", type=int)
    add(d, TaggerData, "feature_keys", "JSON lines: keys of feature lists beside tokens and "
        "tags", nargs="+")
    add(d, TaggerData, "input_scheme", "the files' tag scheme", choices=list(TAG_SCHEMES))
    add(d, TaggerData, "scheme", "the tag scheme the model learns and predicts in",
        choices=list(TAG_SCHEMES))
    add(d, TaggerData, "val_fraction", "fraction of a training file held out for validation")
    d.add_argument("--cased", dest="lowercase", action="store_false", default=None,
                   help="word embeddings of words as written (default: lowercased, digits as "
                   "0; the characters always keep case)")
    add(d, TaggerData, "batch_size", "sentences per batch, of similar length")
    add(d, TaggerData, "max_word_length", "characters of a word the character encoder reads")
    add(d, TaggerData, "char_lm", "a character language model run (charlm train) whose state "
        "after each word's last character becomes part of the word (Akbik et al. 2018); a new "
        "run copies it")
    add(d, TaggerData, "char_lm_backward", "a character language model run trained with "
        "--reverse: its state after each word's first character, read from the sentence's end")
    m = p.add_argument_group("model")
    add(m, TaggerConfig, "word_dim", "word vector size")
    add(m, TaggerConfig, "char_dim", "character vector size")
    add(m, TaggerConfig, "char_hidden", "units per direction of the character BiLSTM (0: none)")
    add(m, TaggerConfig, "feature_dim", "vector size of each feature column's values")
    add(m, TaggerConfig, "cell", "recurrent cell of the word encoder and the character "
        "encoder", choices=["lstm", "gru", "rnn"])
    add(m, TaggerConfig, "hidden_size", "units per layer and direction")
    add(m, TaggerConfig, "num_layers", "bidirectional layers")
    add(m, TaggerConfig, "dropout", "dropout on the inputs, between layers and before the "
        "tag scores")
    add(m, TaggerConfig, "char_lm_fine_tune", "train the character language models with the "
        "tagger (default: frozen)", action="store_true")
    add(m, TaggerConfig, "decoder", "crf (the best tag sequence, no I- without its B-) or "
        "softmax (each word on its own)", choices=["crf", "softmax"])


ENSEMBLE = ("to tag with several as an ensemble (their mean scores; runs of the same data and "
            "tags)")


def _register_evaluate(commands) -> None:
    p = kind_commands.model_command(commands, "evaluate", _evaluate, ENSEMBLE)
    kind_commands.add_checkpoint_flags(p)
    p.add_argument("--split", default="test", choices=["validation", "test"],
                   help="which split of the run's data (default: test)")


def _register_predict(commands) -> None:
    p = kind_commands.model_command(commands, "predict", _predict, ENSEMBLE)
    kind_commands.add_checkpoint_flags(p)
    options.add_inputs(p, "sentences", "SENTENCE", "sentences of raw text")
    p.add_argument("--tokens", action="store_true",
                   help="each input line is JSON: a list of tokens, or {\"tokens\": [...], "
                   "\"features\": [[...], ...]} with a list per feature column the model reads "
                   "(e.g. the parts of speech)")


def _evaluate(args: argparse.Namespace) -> int:
    """span F1 (conlleval's), precision, recall and accuracy on a split

    Print one JSON object: precision, recall and F1 of the spans (a span is right when its
    type and both ends are), overall and per type, and the token accuracy.
    """
    model = kind_commands.load_model(args, "tag")
    print(jsontext.dumps(model.evaluate(args.split)))
    return 0


def _predict(args: argparse.Namespace) -> int:
    """tag sentences

    Print one JSON object per sentence (the arguments, --file, one per line, or standard
    input): its tokens, their tags and the spans they make. Raw text is split into words and
    punctuation; --tokens reads each line as JSON tokens (and features).
    """
    model = kind_commands.load_model(args, "tag")
    lines = options.input_lines(args.sentences, args.file, "sentences", skip_blank=True)
    sentences, features = _token_lines(lines) if args.tokens else (lines, None)
    for answer in model.predict(sentences, features=features):
        print(jsontext.dumps(answer))
    return 0


def _token_lines(lines: list[str]) -> tuple[list[list], list[list] | None]:
    """The tokens and feature columns of --tokens' JSON lines (None: no line gives any)."""
    sentences, features = [], []
    for number, line in enumerate(lines, start=1):
        record = parse_json(line, f"input line {number}", 'give a list of tokens or '
                            '{"tokens": [...], "features": [[...]]}')
        if isinstance(record, list):
            record = {"tokens": record}
        if not isinstance(record, dict) or not isinstance(record.get("tokens"), list):
            raise UserError(f'input line {number}: give a list of tokens or {{"tokens": '
                            '[...], "features": [[...]]}')
        sentences.append(record["tokens"])
        features.append(record.get("features") or [])
    return sentences, (features if any(features) else None)
