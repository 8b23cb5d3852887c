"""LMClassifier, ULMFiT's classifier: concat pooling over the real words, its layer groups."""

import torch

from seqrnn.configs import SentimentConfig, WordLMConfig
from seqrnn.models.finetuned import LMClassifier, build_classifier, concat_pool
from seqrnn.models.sentiment import SentimentRNN

LM = WordLMConfig(vocab_size=40, embedding_dim=6, hidden_size=10, num_layers=2,
                  embedding_dropout=0.0, input_dropout=0.0, hidden_dropout=0.0,
                  output_dropout=0.0, weight_dropout=0.0)


def classifier(vocab_size: int = 40) -> LMClassifier:
    torch.manual_seed(0)
    return LMClassifier(SentimentConfig(vocab_size=vocab_size, lm=LM, dropout=0.0)).eval()


def test_concat_pool_reads_only_the_real_tokens_on_either_side():
    states = torch.arange(2 * 4 * 2, dtype=torch.float32).view(2, 4, 2)  # (B, T, D)
    states[0, 3] = 100.0  # padding: never the maximum, the mean or the last
    states[1, 0] = 100.0
    tokens = torch.tensor([[5, 6, 7, 0], [0, 5, 6, 7]])  # right- and left-padded
    pooled = concat_pool(states, tokens)  # (B, 3D): last, max, mean
    torch.testing.assert_close(pooled[0], torch.tensor([4.0, 5.0, 4.0, 5.0, 2.0, 3.0]))
    torch.testing.assert_close(pooled[1], torch.tensor([14.0, 15.0, 14.0, 15.0, 12.0, 13.0]))


def test_a_reviews_logit_does_not_depend_on_its_batch_neighbours():
    model = classifier()
    review = torch.tensor([[3, 9, 4, 17]])
    longer = torch.tensor([[3, 9, 4, 17, 0, 0, 0], [8, 8, 2, 5, 30, 31, 7]])  # right-padded
    with torch.no_grad():
        torch.testing.assert_close(model(longer)[0], model(review)[0])


def test_the_embedding_has_the_classifiers_vocabulary_not_the_language_models():
    model = classifier(vocab_size=25)  # a vocabulary counted on the labelled reviews
    assert model.encoder.embedding.num_embeddings == 25
    assert model(torch.tensor([[24, 1]])).shape == (1,)


def test_layer_groups_run_from_the_embedding_to_the_head():
    model = classifier()
    groups = [list(g) for g in model.layer_groups()]
    assert len(groups) == 1 + LM.num_layers + 1
    assert groups[0] == [model.encoder.embedding.weight]
    assert sum(len(g) for g in groups) == len(list(model.parameters()))


def test_build_classifier_picks_the_model_its_config_describes():
    assert isinstance(build_classifier(SentimentConfig(vocab_size=40, lm=LM)), LMClassifier)
    assert isinstance(build_classifier(SentimentConfig(vocab_size=40)), SentimentRNN)


def test_one_pass_scores_every_prefix_as_the_model_reads_it_alone():
    model = classifier()
    tokens = torch.tensor([[3, 9, 4, 17, 5, 5, 30]])
    with torch.no_grad():
        expected = torch.cat([model(tokens[:, : t + 1]) for t in range(7)])
        torch.testing.assert_close(model.prefix_logits(tokens), expected)
