"""The reconstruction-share detector (``auto``) and its building blocks (ported from the
membership branch's tests)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter
from scipy.optimize import nnls

from synthprint.errors import SynthprintError
from synthprint.membership import ReconstructionMembership
from synthprint.membership.decision import best_threshold, prior_threshold
from synthprint.membership.reconstruction import max_share, nonneg_ridge
from synthprint.membership.reconstruction_membership import competition_margin


def _phantoms(rng: np.random.Generator, n: int, side: int = 64) -> np.ndarray:
    """(n, side, side) uint8 smooth random images with a bright ellipse, like CT slices."""
    yy, xx = np.mgrid[:side, :side] / side - 0.5
    out = np.empty((n, side, side), dtype=np.uint8)
    for i in range(n):
        a, b = rng.uniform(0.25, 0.45, 2)
        body = ((xx / a) ** 2 + (yy / b) ** 2 < 1).astype(float)
        texture = gaussian_filter(rng.normal(0, 1, (side, side)), 3) * 60
        out[i] = np.clip(50 + 120 * body + texture * body, 0, 255)
    return out


def _copies(rng, images: np.ndarray, k: int, noise: float = 2.0) -> np.ndarray:
    reps = np.repeat(images.astype(float), k, axis=0)
    reps = gaussian_filter(reps, (0, 0.7, 0.7)) + rng.normal(0, noise, reps.shape)
    return np.clip(reps, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def memorised():
    rng = np.random.default_rng(7)
    used, unused = _phantoms(rng, 13), _phantoms(rng, 13)
    generated = np.concatenate([_copies(rng, used, 2), _phantoms(rng, 10)])
    real = np.concatenate([used[:8], unused[:8]])
    labels = np.r_[np.ones(8), np.zeros(8)].astype(np.int64)
    test = np.concatenate([used[8:], unused[8:]])
    test_labels = np.r_[np.ones(5), np.zeros(5)].astype(np.int64)
    return generated, real, labels, test, test_labels


def test_separates_memorised_images_and_is_deterministic(memorised):
    generated, real, labels, test, test_labels = memorised
    est = ReconstructionMembership(level=0).fit(generated, real, labels)
    scores = est.score_samples(test)
    assert scores.shape == (10,)
    assert scores[test_labels == 1].min() > scores[test_labels == 0].max()
    again = ReconstructionMembership(level=0).fit(generated, real, labels).score_samples(test)
    np.testing.assert_array_equal(scores, again)
    assert set(np.unique(est.predict(test))) <= {0, 1}


def test_prior_labels_the_stated_share(memorised):
    generated, real, labels, test, _ = memorised
    est = ReconstructionMembership(level=0, prior=0.3).fit(generated, real, labels)
    assert est.predict(test).sum() == 3


def test_input_errors_are_user_errors(memorised):
    generated, real, labels, _, _ = memorised
    with pytest.raises(SynthprintError, match="labels"):
        ReconstructionMembership(level=0).fit(generated, real, labels[:-1])
    with pytest.raises(SynthprintError, match="uint8"):
        ReconstructionMembership(level=0).fit(generated.astype(float), real, labels)


def test_nonneg_ridge_matches_nnls_without_penalty():
    rng = np.random.default_rng(0)
    atoms = rng.normal(size=(6, 40))
    targets = rng.normal(size=(3, 40)) + atoms[:2].sum(0)
    W = nonneg_ridge(atoms, targets, ridge=0.0, n_iter=3000)
    assert W.shape == (3, 6) and (W >= 0).all()
    for t, w in zip(targets, W):
        exact, _ = nnls(atoms.T, t)
        assert np.allclose(w, exact, atol=1e-3)


def test_max_share_and_competition_margin():
    W = np.array([[3.0, 1.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 2.0]])
    assert np.allclose(max_share(W), [0.75, 0.25, 0.5])
    D = np.array([[1.0, 5.0], [2.0, 5.0], [4.0, 1.0]])   # real x generated
    m = competition_margin(D)
    assert m[0] == pytest.approx(np.log(2.0)) and m[2] == pytest.approx(np.log(5.0))
    assert m[1] < 0


def test_best_threshold_separates_and_uses_the_widest_gap():
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    y = np.array([0, 0, 0, 1, 1, 1])
    t, k = best_threshold(s, y, "kappa")
    assert k == 1.0 and 0.3 < t < 0.7
    assert prior_threshold(s, 0.5) == pytest.approx(0.5)


def test_prior_threshold_labels_the_share_asked_for_and_keeps_tied_scores_together():
    ties = np.r_[np.ones(12), np.full(7, 0.5), np.zeros(11)]      # 30 scores, 3 values
    used = {p: int((ties > prior_threshold(ties, p)).sum()) for p in (0.1, 0.2, 0.3, 0.5, 0.7)}
    assert used == {0.1: 0, 0.2: 12, 0.3: 12, 0.5: 12, 0.7: 19}  # nearest; larger on a draw
    close = np.array([1.0, np.nextafter(1.0, 0.0)])        # no float between them
    assert int((close > prior_threshold(close, 0.5)).sum()) == 1
    five = np.arange(5.0)
    assert [int((five > prior_threshold(five, p)).sum()) for p in (0.1, 0.5, 0.9)] == [1, 3, 5]


def test_threshold_scores_come_from_heads_of_the_chosen_kind():
    """With the logistic head chosen on all labelled images, the out-of-fold scores that
    place its threshold must come from logistic heads too, not from a new choice in each
    inner fold (there, 17 or 18 images a class fall below min_per_class and would pick the
    reconstruction head: scores on another scale)."""
    from synthprint.membership.reconstruction_membership import (
        ReconstructionContext,
        ReconstructionMembership,
    )

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 22)
    shares = rng.random((44, 2))                              # no signal in the shares
    features = np.c_[shares, y + rng.normal(0, 0.3, 44), rng.random(44)]
    ctx = ReconstructionContext(shares, features)
    est = ReconstructionMembership(min_per_class=20)
    kinds = []
    scores = est._scores

    def spy(c, head, rows_):
        kinds.append(head.kind)
        return scores(c, head, rows_)

    est._scores = spy
    head, threshold = est._fit_decision(ctx, np.arange(44), y)
    assert head.kind == "logistic"
    assert set(kinds) == {"logistic"}          # every out-of-fold and unlabelled score
    assert np.isfinite(threshold)


@pytest.mark.parametrize("bad", [{"n_iter": 0}, {"min_per_class": 1}, {"ridge": -1.0},
                                 {"n_iter": 2.5}])
def test_reconstruction_refuses_settings_that_cannot_work(bad):
    from tests.conftest import ct_like

    gen = np.stack([ct_like(i, 32) for i in range(6)])
    real = np.stack([ct_like(10 + i, 32) for i in range(6)])
    with pytest.raises(SynthprintError, match=f"{next(iter(bad))} must be"):
        ReconstructionMembership(**bad).fit(gen, real, np.array([1, 0] * 3))
