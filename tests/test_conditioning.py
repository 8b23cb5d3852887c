import torch

from seqrnn.configs import CharLMConfig, WordLMConfig
from seqrnn.models.charlm import CharLM
from seqrnn.models.wordlm import WordLM
from seqrnn.nn.conditioning import condition_starts


def test_starts_are_changes_and_a_fresh_rows_first_column():
    conditions = torch.tensor([[1, 1, 2, 2], [3, 3, 3, 1]])
    assert condition_starts(conditions, fresh=False).tolist() == [
        [False, True, False], [False, False, True]]
    assert condition_starts(conditions, fresh=True)[:, 0].all()


def test_state_mode_in_segments_equals_reading_each_document_alone():
    torch.manual_seed(0)
    model = CharLM(CharLMConfig(vocab_size=5, hidden_size=8, dropout=0.0, conditions=3,
                                condition_mode="state")).eval()
    ids = torch.randint(0, 5, (2, 6))
    conditions = torch.tensor([[1, 1, 1, 2, 2, 2], [2, 2, 2, 2, 2, 2]])
    starts = condition_starts(torch.cat([conditions[:, :1], conditions], 1), fresh=True)
    joined, _ = model(ids, None, conditions=conditions, starts=starts)
    first, _ = model(ids[:1, :3], None, conditions=conditions[:1, :3])
    second, _ = model(ids[:1, 3:], None, conditions=conditions[:1, 3:])
    whole, _ = model(ids[1:], None, conditions=conditions[1:])
    torch.testing.assert_close(joined[:1], torch.cat([first, second], 1))
    torch.testing.assert_close(joined[1:], whole)


def test_a_mixture_reads_the_weighted_mean_of_the_vectors():
    torch.manual_seed(0)
    model = WordLM(WordLMConfig(vocab_size=7, embedding_dim=4, hidden_size=6, conditions=3,
                                condition_dim=5, condition_mode="both")).eval()
    ids = torch.randint(0, 7, (1, 4))
    table = model.condition.embedding.weight
    mixed = model.condition.vectors(torch.tensor([[0.0, 0.25, 0.75]]), 1, 4)
    torch.testing.assert_close(mixed[0, 0], 0.25 * table[1] + 0.75 * table[2])
    one_hot, _ = model(ids, conditions=torch.tensor([[0.0, 0.0, 1.0]]))
    ids_read, _ = model(ids, conditions=torch.full((1, 4), 2))
    torch.testing.assert_close(one_hot, ids_read)


def test_an_unconditioned_model_has_no_condition_weights():
    for model in (CharLM(CharLMConfig(vocab_size=5)), WordLM(WordLMConfig(vocab_size=7))):
        assert model.condition is None
        assert not [name for name in model.state_dict() if "condition" in name]
