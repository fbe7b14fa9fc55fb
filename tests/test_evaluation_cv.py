"""The cross-validation protocol: folds, pooling, determinism, errors."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from synthprint.errors import SynthprintError
from synthprint.evaluation import CVResult, cross_validate


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = y + rng.normal(0, 1.0, n)
    return x, y


def test_binary_cv_uses_train_only_and_pools_out_of_fold():
    x, y = _data()
    seen = []

    def fit_predict(train_idx, test_idx):
        assert not set(train_idx) & set(test_idx)
        seen.append(test_idx)
        thr = np.median(x[train_idx])  # threshold chosen on the train fold only
        return (x[test_idx] > thr).astype(int), x[test_idx]

    res = cross_validate(fit_predict, y, n_splits=4, n_repeats=3, seed=1, n_boot=200)
    assert isinstance(res, CVResult)
    assert len(res.folds) == len(res.fold_metrics) == 12
    for r in range(3):  # each repeat predicts every sample exactly once
        idx = np.concatenate([f.test_idx for f in res.folds if f.repeat == r])
        assert sorted(idx) == list(range(len(y)))
    assert res.oof_scores.shape == (3, len(y))
    np.testing.assert_array_equal(res.oof_scores[0], x)
    # pooled AUC = mean over repeats of the AUC of the out-of-fold scores
    assert res.pooled.value("roc_auc") == pytest.approx(skm.roc_auc_score(y, x), abs=1e-12)
    kappas = [skm.cohen_kappa_score(y, res.oof_labels[r]) for r in range(3)]
    assert res.pooled.value("kappa") == pytest.approx(np.mean(kappas), abs=1e-12)
    m = res.pooled["kappa"]
    assert m.low <= m.value <= m.high
    assert len(res.roc_curves()) == 3
    again = cross_validate(fit_predict, y, n_splits=4, n_repeats=3, seed=1, n_boot=200)
    assert again.to_dict() == res.to_dict()
    assert "fold mean" in res.to_markdown()


def test_multiclass_cv_with_probabilities():
    rng = np.random.default_rng(2)
    y = np.repeat(np.arange(1, 6), 12)

    def fit_predict(train_idx, test_idx):
        proba = rng.dirichlet(np.ones(5), len(test_idx))
        proba[np.arange(len(test_idx)), y[test_idx] - 1] += 1.0
        proba /= proba.sum(1, keepdims=True)
        return proba.argmax(1) + 1, proba

    res = cross_validate(fit_predict, y, task="multiclass", n_repeats=2, n_boot=100)
    assert res.pooled.value("accuracy") == 1.0
    assert res.oof_scores.shape == (2, 60, 5)
    assert res.pooled.extras["confusion"].trace() == 120


def test_small_classes_reduce_splits_or_fail_clearly():
    y = np.array([0] * 10 + [1] * 3)

    def fp(tr, te):
        return np.zeros(len(te), int), np.zeros(len(te))

    res = cross_validate(fp, y, n_splits=5, n_repeats=1, n_boot=0)
    assert res.n_splits == 3 and "reduced" in res.notes[0]
    with pytest.raises(SynthprintError, match="single sample"):
        cross_validate(fp, np.array([0, 0, 0, 1]), n_boot=0)
    with pytest.raises(SynthprintError, match="shape"):
        cross_validate(lambda tr, te: (np.zeros(3), None), y, n_boot=0)
    with pytest.raises(SynthprintError, match="two classes"):
        cross_validate(fp, np.zeros(10, int), n_boot=0)


def test_scores_only_methods():
    x, y = _data(80, seed=3)
    res = cross_validate(lambda tr, te: (None, x[te]), y, n_repeats=2, n_boot=50)
    assert res.oof_labels is None and "kappa" not in res.pooled
    assert res.pooled.value("roc_auc") == pytest.approx(skm.roc_auc_score(y, x), abs=1e-12)
    ym = np.repeat([1, 2, 3], 10)

    def proba_only(tr, te):
        p = np.full((len(te), 3), 0.1)
        p[np.arange(len(te)), ym[te] - 1] = 0.8
        return None, p

    res = cross_validate(proba_only, ym, task="multiclass", n_repeats=1, n_boot=0)
    assert res.pooled.value("accuracy") == 1.0 and res.oof_labels.tolist() == [ym.tolist()]
