"""The BiLSTM tagger: padding never reaches a real word, both directions read the whole
sentence, the character encoder is Lample et al.'s, and a toy tagging language is learned
exactly with either decoder from each kind of input."""

import warnings
from dataclasses import replace

import pytest
import torch

from seqrnn.configs.charlm import CharLMConfig
from seqrnn.configs.tagger import TaggerConfig
from seqrnn.data.text import CharVocab
from seqrnn.models.crf import PAD_TAG, Constraint
from seqrnn.models.tagger import BiLSTMTagger
from seqrnn.recipes.char_lms import sentence_text

B, I, O = 0, 1, 2  # noqa: E741 (the tag's name)
BIO = Constraint(start=[True, False, True],
                 allowed=[[True, True, True], [True, True, True], [True, False, True]],
                 end=[True, True, True])


def tagger(**options) -> BiLSTMTagger:
    config = {"vocab_size": 12, "char_vocab_size": 9, "num_tags": 3, "feature_vocab_sizes": (5,),
              "word_dim": 6, "char_dim": 4, "char_hidden": 3, "feature_dim": 2,
              "hidden_size": 7, "dropout": 0.0, **options}
    return BiLSTMTagger(TaggerConfig(**config)).eval()


def sentences(lengths, word_length=4, generator=None):
    """Random right-padded inputs of sentences of `lengths`: words, characters (each word's
    from position 0, up to `word_length`), one feature column, mask."""
    steps = max(lengths)
    mask = torch.arange(steps) < torch.tensor(lengths).unsqueeze(1)
    words = torch.randint(1, 12, mask.shape, generator=generator) * mask
    letters = torch.randint(1, word_length + 1, mask.shape, generator=generator)
    chars = torch.randint(1, 9, (*mask.shape, word_length), generator=generator)
    chars = chars * (torch.arange(word_length) < letters.unsqueeze(-1)) * mask.unsqueeze(-1)
    features = torch.randint(1, 5, (*mask.shape, 1), generator=generator) * mask.unsqueeze(-1)
    return words, chars, features, mask


@pytest.mark.parametrize("options", [{}, {"cell": "gru", "num_layers": 2},
                                     {"char_hidden": 0, "feature_vocab_sizes": ()},
                                     {"decoder": "softmax"}])
def test_a_sentence_alone_or_in_a_padded_batch_scores_and_decodes_the_same(options):
    model = tagger(**options)
    words, chars, features, mask = sentences([5, 2, 4], word_length=6)
    # Padding of any content: padded positions are found from the mask alone.
    words[1, 2:] = 7
    chars[1, 2:, :3] = 5
    features[1, 2:] = 3
    with torch.no_grad():
        emissions = model(words, chars, features, mask)
        decoded = model.decode(words, chars, features, mask)
        assert (decoded[1, 2:] == PAD_TAG).all()
        for b, n in enumerate([5, 2, 4]):
            letters = int((chars[b, :n] != 0).sum(-1).max())  # less character padding alone
            alone = (words[b:b + 1, :n], chars[b:b + 1, :n, :letters], features[b:b + 1, :n],
                     mask[b:b + 1, :n])
            torch.testing.assert_close(emissions[b, :n], model(*alone)[0], atol=1e-6, rtol=1e-5)
            assert decoded[b, :n].tolist() == model.decode(*alone)[0].tolist()


def test_every_word_hears_both_ends_of_its_sentence():
    model = tagger()
    words, chars, features, mask = sentences([5])
    with torch.no_grad():
        before = model(words, chars, features, mask)
        for position, other in ((0, 4), (4, 0)):  # the backward direction, then the forward
            changed = words.clone()
            changed[0, position] = words[0, position] % 11 + 1
            after = model(changed, chars, features, mask)
            assert (after[0, other] - before[0, other]).abs().max() > 1e-4


def test_the_character_encoder_joins_the_final_states_of_each_direction():
    encoder = tagger().chars
    word = torch.tensor([3, 5, 2])
    padded = torch.tensor([[[0, 0, 0, 0, 0], [3, 5, 2, 0, 0]]])  # (1, T=2, C=5)
    with torch.no_grad():
        vectors = encoder(padded)  # (1, 2, 6)
        x = encoder.embedding(word).unsqueeze(0)
        forward = encoder.forward_rnn(x)[0][0, -1]  # after the last character
        backward = encoder.backward_rnn(x.flip(1))[0][0, -1]  # after the first
    torch.testing.assert_close(vectors[0, 1], torch.cat([forward, backward]))


LM_CHARS = " abcd"


def with_char_lms(**options) -> BiLSTMTagger:
    forward = CharLMConfig(vocab_size=5, hidden_size=4, dropout=0.3)
    backward = CharLMConfig(vocab_size=5, hidden_size=3, input="embedding", embedding_dim=2)
    return tagger(forward_lm=forward, backward_lm=backward, lm_chars=LM_CHARS, **options)


def lm_inputs(sentences_tokens):
    """lm_chars, lm_first, lm_last of tokenized sentences, right-padded (any id)."""
    vocab = CharVocab(tuple(LM_CHARS))
    texts = [sentence_text(tokens) for tokens in sentences_tokens]
    width, longest = max(len(t) for t, _, _ in texts), max(map(len, sentences_tokens))
    ids = torch.full((len(texts), width), 3)
    first = torch.zeros(len(texts), longest, dtype=torch.int64)
    last = torch.zeros_like(first)
    for i, (text, starts, ends) in enumerate(texts):
        ids[i, :len(text)] = torch.from_numpy(vocab.encode(text))
        first[i, :len(starts)], last[i, :len(ends)] = torch.tensor(starts), torch.tensor(ends)
    return ids, first, last


def test_each_word_reads_the_forward_lm_after_its_end_and_the_backward_one_before_it():
    model = with_char_lms()
    tokens = [["ab", "c", "dab"], ["cd"]]
    ids, first, last = lm_inputs(tokens)
    mask = torch.tensor([[True, True, True], [True, False, False]])
    with torch.no_grad():
        vectors = model.char_lm(ids, first, last, mask)  # (2, 3, 4 + 3)
        text = torch.from_numpy(CharVocab(tuple(LM_CHARS)).encode(" ab c dab ")).unsqueeze(0)
        forward = model.char_lm.forward_lm.states(text)[0][0]
        backward = model.char_lm.backward_lm.states(text.flip(1))[0][0]
    # Words start at 1, 4, 6 and end at 2, 4, 8 of the 10 characters; the backward model
    # reads position p of the text at 9 - p.
    torch.testing.assert_close(vectors[0, :, :4], forward[[2, 4, 8]])
    torch.testing.assert_close(vectors[0, :, 4:], backward[[8, 5, 3]])
    with torch.no_grad():  # the short sentence alone reads the same as in the padded batch
        alone = model.char_lm(ids[1:, :4], first[1:, :1], last[1:, :1], mask[1:, :1])
    torch.testing.assert_close(vectors[1, 0], alone[0, 0])


@pytest.mark.parametrize("fine_tune", [False, True])
def test_character_lms_are_frozen_unless_fine_tuned(fine_tune):
    model = with_char_lms(char_lm_fine_tune=fine_tune).train()
    words, chars, features, mask = sentences([3, 1])
    lm = lm_inputs([["ab", "c", "d"], ["a"]])
    model.loss(words, chars, features, mask, *lm, tags=torch.zeros(2, 3, dtype=torch.long)
               ).backward()
    lms = model.char_lm.forward_lm, model.char_lm.backward_lm
    read = [p.grad for lm in lms for p in lm.rnn.parameters()]  # (their heads go unused)
    assert model.char_lm.forward_lm.training == fine_tune  # frozen: no dropout either
    assert all(g is not None and g.abs().sum() > 0 for g in read) == fine_tune
    assert all(p.grad is None for p in model.char_lm.parameters()) != fine_tune
    assert model.word_embedding.weight.grad.abs().sum() > 0


def test_language_model_inputs_are_required_exactly_with_language_models():
    words, chars, features, mask = sentences([3])
    lm = lm_inputs([["ab", "c", "d"]])
    with pytest.raises(ValueError, match="lm_chars"):
        with_char_lms()(words, chars, features, mask)
    with pytest.raises(ValueError, match="lm_chars"):
        tagger()(words, chars, features, mask, *lm)


def test_the_constraint_is_saved_with_the_weights():
    for decoder in ("crf", "softmax"):
        model = BiLSTMTagger(tagger(decoder=decoder).config, BIO)
        loaded = BiLSTMTagger(model.config)
        loaded.load_state_dict(model.state_dict())
        assert loaded.decoder.constraint.allowed.tolist() == BIO.allowed


def test_softmax_decoding_keeps_the_constraint():
    model = BiLSTMTagger(tagger(decoder="softmax").config, BIO).eval()
    emissions = torch.tensor([[[0.0, 5.0, 1.0], [0.0, 5.0, 0.0], [0.0, 0.0, 9.0],
                               [1.0, 5.0, 0.0]]])
    mask = torch.ones(1, 4, dtype=torch.bool)
    # I-X is each word's best tag but the third's. Log-probabilities of the allowed paths
    # (by hand): B I O B -9.06, B I O O -10.06, O O O B -13.06, B I I I -14.06.
    assert model.decoder.decode(emissions, mask).tolist() == [[0, 1, 2, 0]]
    assert emissions.argmax(-1).tolist() == [[1, 1, 2, 1]]


def toy_language(n: int, generator: torch.Generator, carrier: str):
    """Sentences of the words a, b, c tagged by a rule that needs the tags before: a opens a
    chunk (B), b continues an open one (I) or is outside (O), c is outside. Only `carrier`
    (words, chars or features) tells the words apart; the rest are the same for all."""
    lengths = torch.randint(1, 9, (n,), generator=generator)
    mask = torch.arange(int(lengths.max())) < lengths.unsqueeze(1)
    kinds = torch.randint(0, 3, mask.shape, generator=generator)  # 0 a, 1 b, 2 c
    tags = torch.full(mask.shape, PAD_TAG)
    for b in range(n):
        tag = O
        for t in range(int(lengths[b])):
            kind = int(kinds[b, t])
            tag = B if kind == 0 else I if kind == 1 and tag != O else O
            tags[b, t] = tag
    real = mask.long()
    known = (kinds + 1) * real
    words = known if carrier == "words" else real
    chars = torch.stack([known if carrier == "chars" else real, real], dim=-1)  # two letters
    features = (known if carrier == "features" else real).unsqueeze(-1)
    return (words, chars, features, mask), tags


@pytest.mark.parametrize("decoder", ["crf", "softmax"])
@pytest.mark.parametrize("carrier", ["words", "chars", "features"])
def test_a_toy_tagging_language_is_learned_exactly(decoder, carrier):
    generator = torch.Generator().manual_seed(0)
    config = TaggerConfig(vocab_size=4, char_vocab_size=4, num_tags=3, feature_vocab_sizes=(4,),
                          word_dim=4, char_dim=4, char_hidden=4, feature_dim=4, hidden_size=12,
                          dropout=0.0, decoder=decoder)
    model = BiLSTMTagger(config, BIO)
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(80):
        inputs, tags = toy_language(32, generator, carrier)
        loss = model.loss(*inputs, tags=tags)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    inputs, tags = toy_language(200, generator, carrier)
    decoded = model.eval().decode(*inputs)
    assert decoded.tolist() == tags.tolist()  # every tag, and PAD_TAG at every padding


def test_losses_are_means_per_sentence_and_per_word():
    inputs, tags = toy_language(3, torch.Generator().manual_seed(1), "words")
    mask = inputs[3]
    crf = tagger(vocab_size=4, char_vocab_size=4, feature_vocab_sizes=(4,))
    with torch.no_grad():
        emissions = crf(*inputs)
        expected = -crf.decoder.log_likelihood(emissions, tags, mask).mean()
        torch.testing.assert_close(crf.loss(*inputs, tags=tags), expected)
        softmax = BiLSTMTagger(replace(crf.config, decoder="softmax"))
        emissions = softmax(*inputs)
        log_p = emissions.log_softmax(-1).gather(2, tags.clamp(min=0).unsqueeze(-1)).squeeze(-1)
        torch.testing.assert_close(softmax.loss(*inputs, tags=tags), -log_p[mask].mean())


def test_emissions_export_to_onnx_for_any_batch_and_length(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    model = tagger(num_layers=2)
    example = sentences([3, 2], word_length=3)
    path = tmp_path / "tagger.onnx"
    names = ["words", "chars", "features", "mask"]
    axes = {"words": {0: "batch", 1: "time"}, "chars": {0: "batch", 1: "time", 2: "letters"},
            "features": {0: "batch", 1: "time"}, "mask": {0: "batch", 1: "time"},
            "emissions": {0: "batch", 1: "time"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's notes, as api.export
        torch.onnx.export(model, example, str(path), input_names=names,
                          output_names=["emissions"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    session = ort.InferenceSession(str(path))
    inputs = sentences([6, 1, 4, 2], word_length=7)
    got = session.run(None, {name: x.numpy() for name, x in zip(names, inputs, strict=True)})[0]
    with torch.no_grad():
        expected = model(*inputs)
    mask = inputs[3]
    torch.testing.assert_close(torch.from_numpy(got)[mask], expected[mask], atol=1e-5,
                               rtol=1e-4)
