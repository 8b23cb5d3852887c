"""The gradient study: the Jacobians are right, and the curves show what the lecture says."""

import numpy as np
import pytest

from seqrnn.analysis.gradients import (
    NormCurve,
    chained_norms,
    elman_jacobians,
    lstm_state_jacobian,
    norms_table,
    run_study,
    write_plot,
)
from seqrnn.configs import GradientStudyConfig
from seqrnn.reference import elman_step, init_elman, init_lstm, lstm_step


@pytest.fixture(scope="module")
def curves():
    """The default study, by name: ("elman", "radius=0.5") -> NormCurve."""
    return {(c.model, c.setting): c for c in run_study(GradientStudyConfig())}


def test_default_study_has_one_curve_per_setting(curves):
    assert list(curves) == [
        ("elman", "radius=0.5"),
        ("elman", "radius=1"),
        ("elman", "radius=1.5"),
        ("lstm", "forget_bias=0"),
        ("lstm", "forget_bias=1"),
        ("lstm", "forget_bias=4"),
    ]
    assert all(len(c.norms) == 100 for c in curves.values())


def test_elman_below_radius_one_vanishes(curves):
    curve = curves["elman", "radius=0.5"]
    assert curve.at(50) < 1e-12 * curve.at(1)
    # At rest tanh' = 1 and W_hh = 0.5·Q, so the norm is exactly 0.5^(t-k).
    assert curve.at(50) == pytest.approx(0.5**50, rel=1e-9)


def test_elman_above_radius_one_explodes(curves):
    curve = curves["elman", "radius=1.5"]
    assert curve.at(50) > 1e6 * curve.at(1)
    assert np.all(np.diff(curve.norms) > 0)


def test_elman_at_radius_one_keeps_its_order(curves):
    norms = curves["elman", "radius=1"].norms
    assert norms.min() > 0.5 and norms.max() < 2.0


def test_lstm_with_forget_gate_near_one_keeps_the_gradient(curves):
    elman = curves["elman", "radius=0.5"]  # same recurrent radius as the LSTM's default
    open_gate = curves["lstm", "forget_bias=4"]
    half_gate = curves["lstm", "forget_bias=0"]
    assert elman.at(50) < 1e-12
    assert 0.1 < open_gate.at(50) < 100  # alive: neither vanished nor exploded
    assert half_gate.at(50) < 1e-8
    at_50 = [curves["lstm", f"forget_bias={b}"].at(50) for b in (0, 1, 4)]
    assert at_50 == sorted(at_50)


def test_saturated_tanh_stops_the_explosion():
    """With random input a radius-1.5 Elman saturates, and tanh' ≈ 0 makes it vanish instead."""
    config = GradientStudyConfig(radii=(1.5,), forget_biases=(), elman_input_scale=1.0)
    (curve,) = run_study(config)
    assert curve.at(50) < 0.1 * curve.at(1)


def test_same_seed_same_curves_other_seed_other_lstm_curves():
    config = GradientStudyConfig(steps=30, hidden_size=8, seed=3)
    first, again = run_study(config), run_study(config)
    other = run_study(GradientStudyConfig(steps=30, hidden_size=8, seed=4))
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a.norms, b.norms)
    assert not np.allclose(first[-1].norms, other[-1].norms)


def finite_difference_jacobian(fn, state, eps=1e-6):
    columns = []
    for j in range(len(state)):
        step = np.zeros_like(state)
        step[j] = eps
        columns.append((fn(state + step) - fn(state - step)) / (2 * eps))
    return np.stack(columns, axis=1)


def test_lstm_state_jacobian_matches_finite_differences():
    rng = np.random.default_rng(7)
    size = 4
    params = init_lstm(3, size, 2, rng, scale=0.8)
    x, h, C = rng.standard_normal(3), rng.standard_normal(size), rng.standard_normal(size)

    def next_state(state):
        step = lstm_step(params, x, state[:size], state[size:])
        return np.concatenate([step.h, step.C])

    analytic = lstm_state_jacobian(params, lstm_step(params, x, h, C), C)
    numeric = finite_difference_jacobian(next_state, np.concatenate([h, C]))
    np.testing.assert_allclose(analytic, numeric, atol=1e-8)


def test_elman_jacobians_match_finite_differences():
    rng = np.random.default_rng(8)
    params = init_elman(3, 5, 2, rng, scale=0.8)
    xs = rng.standard_normal((2, 3))
    _, second = list(elman_jacobians(params, xs))
    h1 = elman_step(params, xs[0], np.zeros(5))
    numeric = finite_difference_jacobian(lambda h: elman_step(params, xs[1], h), h1)
    np.testing.assert_allclose(second, numeric, atol=1e-8)


def test_chained_norms_are_norms_of_the_products():
    rng = np.random.default_rng(9)
    jacobians = [rng.standard_normal((6, 6)) for _ in range(4)]
    product, expected = np.eye(6), []
    for jacobian in jacobians:
        product = jacobian @ product
        expected.append(np.linalg.norm(product[3:, 3:], 2))
    np.testing.assert_allclose(chained_norms(jacobians, slice(3, 6)), expected, rtol=1e-12)


def test_chained_norms_beyond_float_range_give_inf_not_nan():
    norms = chained_norms([1e3 * np.eye(2)] * 200)  # 1e600 at the end
    assert norms[49] == pytest.approx(1e150)  # distance 50
    assert np.isinf(norms[-1]) and not np.isnan(norms).any()


def test_table_shows_only_distances_within_range():
    table = norms_table(run_study(GradientStudyConfig(steps=60, hidden_size=4)))
    header, *rows = table.splitlines()
    assert header.split() == ["model", "setting", "d=1", "d=10", "d=50"]
    assert rows[0].split()[:3] == ["elman", "radius=0.5", "5.000e-01"]



def test_a_study_too_large_for_memory_is_refused_before_any_array(monkeypatch):
    from seqrnn.errors import UserError

    monkeypatch.setenv("SEQRNN_MEMORY_LIMIT", "100M")
    with pytest.raises(UserError, match="a gradient study of 10,000 units over 100 steps"):
        run_study(GradientStudyConfig(hidden_size=10_000))  # 100M+ floats per matrix


def test_a_study_whose_norms_overflow_is_still_drawn(tmp_path):
    # --lstm-radius 1e30: LSTM norms up to 1e307 and inf, which overflowed matplotlib's ticks
    curves = run_study(GradientStudyConfig(lstm_radius=1e30, lstm_input_scale=0.0))
    assert np.isinf(curves[-1].norms).any()
    write_plot([*curves, NormCurve("elman", "radius=0", np.zeros(100))], tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
