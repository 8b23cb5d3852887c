"""The linear-chain CRF against brute force over every tag path of short sentences."""

import itertools

import pytest
import torch

from seqrnn.models.crf import (
    CRF,
    FORBIDDEN,
    PAD_TAG,
    Constraint,
    log_partition,
    path_score,
    viterbi,
)

# B-X I-X O: I-X only after B-X or I-X, so never first.
BIO = Constraint(start=[True, False, True],
                 allowed=[[True, True, True], [True, True, True], [True, False, True]],
                 end=[True, True, True])


def random_crf(num_tags: int, constraint: Constraint | None = None,
               dtype=torch.float32) -> CRF:
    crf = CRF(num_tags).to(dtype)
    with torch.no_grad():
        for p in crf.parameters():
            p.normal_()
    if constraint is not None:
        crf.constraint.set(constraint)
    return crf


def allowed_paths(num_tags: int, length: int, constraint: Constraint | None):
    """Every path of `length` tags that `constraint` allows."""
    for path in itertools.product(range(num_tags), repeat=length):
        if constraint is None or (
                constraint.start[path[0]] and constraint.end[path[-1]]
                and all(constraint.allowed[i][j] for i, j in itertools.pairwise(path))):
            yield path


@torch.no_grad()
def brute_score(crf: CRF, emissions: torch.Tensor, path) -> torch.Tensor:
    """s(y) of one sentence's emissions (n, K), summed term by term."""
    score = crf.start[path[0]] + crf.end[path[-1]]
    for t, tag in enumerate(path):
        score = score + emissions[t, tag]
    for i, j in itertools.pairwise(path):
        score = score + crf.transitions[i, j]
    return score


def batch(lengths, num_tags, dtype=torch.float32):
    """Random emissions (B, T, K) and the right-padding mask of sentences of `lengths`."""
    steps = max(lengths)
    emissions = torch.randn(len(lengths), steps, num_tags, dtype=dtype)
    mask = torch.arange(steps) < torch.tensor(lengths).unsqueeze(1)
    return emissions, mask


@pytest.mark.parametrize("num_tags, lengths, constraint", [
    (2, [1], None), (3, [4], None), (4, [3, 1, 4, 2], None), (3, [2, 4, 1, 3], BIO)])
def test_log_partition_and_likelihood_match_brute_force(num_tags, lengths, constraint):
    crf = random_crf(num_tags, constraint, torch.float64)
    emissions, mask = batch(lengths, num_tags, torch.float64)
    log_z = crf.log_partition(emissions, mask)
    paths = [list(allowed_paths(num_tags, n, constraint)) for n in lengths]
    tags = torch.full(mask.shape, PAD_TAG)
    for b, n in enumerate(lengths):  # a gold path the constraint allows
        tags[b, :n] = torch.tensor(paths[b][int(torch.randint(len(paths[b]), ()))])
    likelihood = crf.log_likelihood(emissions, tags, mask)
    for b, n in enumerate(lengths):
        scores = torch.stack([brute_score(crf, emissions[b], path) for path in paths[b]])
        expected = torch.logsumexp(scores, dim=0)
        torch.testing.assert_close(log_z[b], expected)
        gold = brute_score(crf, emissions[b], tags[b, :n].tolist())
        torch.testing.assert_close(likelihood[b], gold - expected)


def test_probabilities_of_all_paths_sum_to_one():
    crf = random_crf(3, BIO, torch.float64)
    emissions, mask = batch([3], 3, torch.float64)
    total = sum(crf.log_likelihood(emissions, torch.tensor([path]), mask).exp()
                for path in allowed_paths(3, 3, BIO))
    torch.testing.assert_close(total, torch.ones(1, dtype=torch.float64))


def test_a_forbidden_gold_path_is_improbable_yet_its_gradient_finite():
    crf = random_crf(3, BIO)
    emissions, mask = batch([3], 3)
    emissions.requires_grad_(True)
    likelihood = crf.log_likelihood(emissions, torch.tensor([[2, 1, 1]]), mask)  # O I-X I-X
    assert float(likelihood.detach()) < FORBIDDEN / 2
    likelihood.sum().backward()
    assert all(torch.isfinite(g).all() for g in (emissions.grad, crf.transitions.grad))


def test_gradient_matches_finite_differences():
    crf = random_crf(3, BIO, torch.float64)
    emissions, mask = batch([3, 1, 2], 3, torch.float64)
    tags = torch.tensor([[0, 1, 2], [2, 0, 0], [0, 1, 0]])

    def nll(emissions, start, transitions, end):
        scores = crf.constraint.apply(start, transitions, end, FORBIDDEN)
        return log_partition(emissions, mask, *scores) - path_score(emissions, tags, mask,
                                                                    *scores)

    inputs = [t.detach().clone().requires_grad_(True)
              for t in (emissions, crf.start, crf.transitions, crf.end)]
    assert torch.autograd.gradcheck(nll, inputs)


@pytest.mark.parametrize("num_tags, lengths, constraint", [
    (3, [4], None), (4, [3, 1, 4, 2], None), (3, [2, 4, 1, 3], BIO)])
def test_viterbi_matches_brute_force_and_one_by_one(num_tags, lengths, constraint):
    crf = random_crf(num_tags, constraint)
    emissions, mask = batch(lengths, num_tags)
    best = crf.viterbi(emissions, mask)
    assert best.dtype == torch.long and best.shape == mask.shape
    assert (best[~mask] == PAD_TAG).all()
    for b, n in enumerate(lengths):
        expected = max(allowed_paths(num_tags, n, constraint),
                       key=lambda path: float(brute_score(crf, emissions[b], path)))
        assert best[b, :n].tolist() == list(expected)
        alone = crf.viterbi(emissions[b:b + 1, :n], mask[b:b + 1, :n])
        assert alone[0].tolist() == list(expected)


def test_constrained_decoding_never_breaks_the_constraint():
    crf = random_crf(3, BIO)
    emissions = torch.zeros(2, 4, 3)
    emissions[:, :, 1] = 1e5  # I-X everywhere, by far more than FORBIDDEN's 1e4
    emissions[1, 2, 2] = 3e5  # then O, after which I-X is forbidden again
    emissions[1, 3, 0] = 1e3  # and B-X the best of the rest
    mask = torch.ones(2, 4, dtype=torch.bool)
    best = crf.viterbi(emissions, mask).tolist()
    assert best[0] == [0, 1, 1, 1]  # opened by a B-X
    assert best[1] == [0, 1, 2, 0]
    crf.constraint.set(Constraint([True] * 3, [[True] * 3] * 3, [True] * 3))
    assert crf.viterbi(emissions, mask).tolist() == [[1, 1, 1, 1], [1, 1, 2, 1]]


def test_padding_tags_are_ignored_and_padding_scores_unread():
    crf = random_crf(3)
    emissions, mask = batch([2, 3], 3)
    tags = torch.tensor([[0, 2, PAD_TAG], [1, 1, 0]])
    noisy = emissions.clone()
    noisy[0, 2] = 1e3
    torch.testing.assert_close(crf.log_likelihood(noisy, tags, mask),
                               crf.log_likelihood(emissions, tags.clamp(min=0), mask))
    assert crf.viterbi(noisy, mask).tolist() == crf.viterbi(emissions, mask).tolist()


def test_constraints_are_saved_with_the_weights():
    crf = random_crf(3, BIO)
    loaded = CRF(3)
    loaded.load_state_dict(crf.state_dict())
    assert loaded.constraint.allowed.tolist() == BIO.allowed
    assert loaded.constraint.start_allowed.tolist() == BIO.start


def test_rows_must_start_with_a_real_token():
    emissions, mask = batch([2, 2], 3)
    mask[1, 0] = False
    with pytest.raises(ValueError, match="at least one real token"):
        viterbi(emissions, mask, torch.zeros(3), torch.zeros(3, 3), torch.zeros(3))
