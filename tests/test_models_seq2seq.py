import pytest
import torch

from seqrnn.configs import Seq2SeqConfig
from seqrnn.models.seq2seq import Seq2Seq


def model(**options) -> Seq2Seq:
    torch.manual_seed(0)
    config = {"source_vocab_size": 12, "target_vocab_size": 9, "hidden_size": 10,
              "embedding_dim": 6, "num_layers": 2, "dropout": 0.0, **options}
    return Seq2Seq(Seq2SeqConfig(**config)).eval()


@pytest.mark.parametrize("options", [{}, {"attention": "dot", "cell": "gru"},
                                     {"attention": "none", "cell": "rnn"},
                                     {"bidirectional": False}])
def test_padding_changes_nothing_and_attention_skips_it(options):
    m = model(**options)
    source = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 3, 0, 0]])  # right-padded
    previous = torch.tensor([[1, 4, 5], [1, 6, 0]])
    with torch.no_grad():
        logits = m(source, previous)
        alone = m(source[1:, :3], previous[1:])
        assert logits.shape == (2, 3, 9)
        torch.testing.assert_close(logits[1], alone[0], atol=1e-5, rtol=1e-5)
        if m.config.attention != "none":
            memory, mask, state = m.encode(source)
            _, _, weights = m.decode(previous, state, memory, mask)
            torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3))
            assert float(weights[1, :, 3:].abs().max()) == 0.0  # never looks at padding


def test_bad_configurations_name_their_field():
    from seqrnn.errors import UserError

    for options, field in [({"attention": "cosine"}, "attention"), ({"cell": "tcn"}, "cell"),
                           ({"dropout": 1.0}, "dropout"), ({"hidden_size": 0}, "hidden_size")]:
        with pytest.raises(UserError) as caught:
            model(**options)
        assert caught.value.field == field


def test_an_ensemble_predicts_the_mean_of_its_members_probabilities():
    from seqrnn.errors import UserError
    from seqrnn.models.seq2seq import Ensemble

    members = [model(), model(hidden_size=7, attention="dot", bidirectional=False),
               model(hidden_size=5, attention="none")]
    source = torch.tensor([[3, 4, 5, 6, 7], [8, 9, 3, 0, 0]])
    previous = torch.tensor([[1, 4, 5], [1, 6, 0]])
    with torch.no_grad():
        probs = torch.stack([torch.softmax(m(source, previous), -1) for m in members])
        ensemble = Ensemble(members)
        memory, mask, state = ensemble.encode(source)
        first, state, _ = ensemble.decode(previous[:, :1], state, memory, mask)
        rest, _, _ = ensemble.decode(previous[:, 1:], state, memory, mask)  # state carried
        torch.testing.assert_close(torch.cat([first, rest], 1).exp(), probs.mean(0))
    with pytest.raises(UserError, match="must share cell: got lstm and gru"):
        Ensemble([model(), model(cell="gru")])
