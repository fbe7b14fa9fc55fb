"""Metrics against scikit-learn (property-based), degenerate inputs, bootstrap intervals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from synthprint.errors import SynthprintError
from synthprint.evaluation import (
    UndefinedMetricError,
    accuracy,
    auc_interval_above_chance,
    binary_metrics,
    cohen_kappa,
    confusion_matrix,
    f1,
    macro_f1,
    macro_precision,
    macro_recall,
    macro_roc_auc,
    macro_specificity,
    multiclass_accuracy,
    multiclass_metrics,
    precision,
    recall,
    roc_auc,
    roc_curve,
    specificity,
    tpr_at_fpr,
)

TOL = 1e-12


@st.composite
def binary_case(draw, min_size=1, both=False):
    n = draw(st.integers(min_size, 60))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if both:
        y[0], y[-1] = 0, 1
        if n < 2:
            y = np.array([0, 1])
    n = len(y)
    p = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    # few distinct values so that ties happen often
    s = np.array(draw(st.lists(st.integers(-4, 4), min_size=n, max_size=n)), float) / 3.0
    return y, p, s


@settings(max_examples=150, deadline=None)
@given(binary_case())
def test_label_metrics_match_sklearn(case):
    y, p, _ = case
    assert abs(accuracy(y, p) - skm.accuracy_score(y, p)) < TOL
    assert abs(precision(y, p) - skm.precision_score(y, p, zero_division=0)) < TOL
    assert abs(recall(y, p) - skm.recall_score(y, p, zero_division=0)) < TOL
    assert abs(f1(y, p) - skm.f1_score(y, p, zero_division=0)) < TOL
    spec = skm.recall_score(1 - y, 1 - p, zero_division=0)
    assert abs(specificity(y, p) - spec) < TOL
    with np.errstate(all="ignore"):
        ref = skm.cohen_kappa_score(y, p) if len(set(y) | set(p)) > 1 else np.nan
    if np.isnan(ref):
        with pytest.raises(UndefinedMetricError):
            cohen_kappa(y, p)
    else:
        assert abs(cohen_kappa(y, p) - ref) < TOL


@settings(max_examples=150, deadline=None)
@given(binary_case(both=True))
def test_score_metrics_match_sklearn(case):
    y, _, s = case
    assert abs(roc_auc(y, s) - skm.roc_auc_score(y, s)) < TOL
    fpr, tpr, thr = roc_curve(y, s)
    rf, rt, rth = skm.roc_curve(y, s)
    np.testing.assert_allclose(fpr, rf, atol=TOL)
    np.testing.assert_allclose(tpr, rt, atol=TOL)
    np.testing.assert_array_equal(thr, rth)
    rf, rt, _ = skm.roc_curve(y, s, drop_intermediate=False)
    n_neg = int((y == 0).sum())
    for a in (0.01, 0.001, 0.1, 0.5):
        allowed = np.rint(rf * n_neg) <= np.floor(a * n_neg + 1e-9)
        assert abs(tpr_at_fpr(y, s, a) - rt[allowed].max()) < TOL


@st.composite
def multiclass_case(draw):
    n = draw(st.integers(1, 60))
    k = draw(st.integers(2, 5))
    y = np.array(draw(st.lists(st.integers(1, k), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.integers(1, k), min_size=n, max_size=n)))
    return y, p


@settings(max_examples=150, deadline=None)
@given(multiclass_case())
def test_multiclass_metrics_match_sklearn(case):
    y, p = case
    assert abs(multiclass_accuracy(y, p) - skm.accuracy_score(y, p)) < TOL
    for ours, avg in ((macro_precision, skm.precision_score), (macro_recall, skm.recall_score),
                      (macro_f1, skm.f1_score)):
        assert abs(ours(y, p) - avg(y, p, average="macro", zero_division=0)) < TOL
    labels = np.union1d(y, p)
    mcm = skm.multilabel_confusion_matrix(y, p, labels=labels)
    tn, fp = mcm[:, 0, 0], mcm[:, 0, 1]
    spec = np.mean([a / (a + b) if a + b else 0.0 for a, b in zip(tn, fp)])
    assert abs(macro_specificity(y, p) - spec) < TOL
    cm, classes = confusion_matrix(y, p)
    np.testing.assert_array_equal(classes, labels)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, p, labels=labels))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 5))
def test_macro_auc_matches_sklearn(seed, k):
    rng = np.random.default_rng(seed)
    n = 40
    y = np.r_[np.arange(1, k + 1), rng.integers(1, k + 1, n - k)]
    proba = rng.dirichlet(np.ones(k), n)
    proba[rng.random(n) < 0.3] = 1.0 / k  # ties
    ref = skm.roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert abs(macro_roc_auc(y, proba, np.arange(1, k + 1)) - ref) < TOL


def test_degenerate_inputs_are_defined_or_clear():
    with pytest.raises(SynthprintError, match="empty"):
        accuracy([], [])
    with pytest.raises(SynthprintError, match="empty"):
        binary_metrics([], [])
    with pytest.raises(SynthprintError, match="only 0 and 1"):
        accuracy([0, 2], [0, 1])
    with pytest.raises(SynthprintError, match="entries"):
        accuracy([0, 1], [0])
    with pytest.raises(UndefinedMetricError, match="one class|only class"):
        roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    # one class in the truth, constant predictions
    assert precision([1, 1], [0, 0]) == 0.0
    assert recall([0, 0], [1, 1]) == 0.0
    assert specificity([1, 1], [1, 1]) == 0.0
    assert f1([0, 0], [0, 0]) == 0.0
    with pytest.raises(UndefinedMetricError):
        cohen_kappa([1, 1], [1, 1])
    assert cohen_kappa([0, 1], [1, 1]) == 0.0
    table = binary_metrics([1, 1, 1], [1, 1, 1], [0.5, 0.2, 0.1], n_boot=50)
    assert table.value("kappa") is None and table.value("roc_auc") is None
    assert table["roc_auc"].note and "one class" in table["roc_auc"].note
    assert table.value("accuracy") == 1.0
    text = json.dumps(table.to_dict())  # valid JSON: no NaN anywhere
    assert "NaN" not in text and "Infinity" not in text
    with pytest.raises(SynthprintError, match="NaN"):
        roc_auc([0, 1], [0.1, np.nan])
    with pytest.raises(SynthprintError):
        binary_metrics([0, 1])


def test_bootstrap_intervals_are_seeded_and_cover_the_value():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    s = y + rng.normal(0, 1.2, 300)
    p = (s > 0.5).astype(int)
    a = binary_metrics(y, p, s, n_boot=300, seed=3)
    b = binary_metrics(y, p, s, n_boot=300, seed=3)
    c = binary_metrics(y, p, s, n_boot=300, seed=4)
    assert a.to_dict() == b.to_dict()
    assert a.to_dict() != c.to_dict()
    for m in a:
        assert m.low <= m.value <= m.high, m
    assert a.value("roc_auc") == pytest.approx(skm.roc_auc_score(y, s), abs=TOL)
    assert auc_interval_above_chance(a)
    noise = binary_metrics(y, scores=np.zeros(300), n_boot=300)  # all tied: AUC 0.5
    assert not auc_interval_above_chance(noise)
    below = binary_metrics(y, p, -s, n_boot=300, seed=3)          # ranks members last
    assert below["roc_auc"].high < 0.5 and not auc_interval_above_chance(below)
    assert "kappa" not in noise
    with pytest.raises(SynthprintError):
        auc_interval_above_chance(binary_metrics(y, p, n_boot=10))
    none = binary_metrics(y, p, s, n_boot=0)
    assert all(m.low is None for m in none)
    md = a.to_markdown()
    assert md.startswith("| metric | value | 95% CI |") and "ROC AUC" in md
    fpr, tpr, thr = a.extras["roc"]
    assert fpr[0] == 0 and tpr[-1] == 1 and np.isinf(thr[0])


def test_multiclass_table_and_proba():
    rng = np.random.default_rng(1)
    y = rng.integers(1, 6, 200)
    p = np.where(rng.random(200) < 0.5, y, rng.integers(1, 6, 200))
    proba = rng.dirichlet(np.ones(5), 200)
    proba[np.arange(200), y - 1] += 0.3
    proba /= proba.sum(axis=1, keepdims=True)
    t = multiclass_metrics(y, p, proba, n_boot=200, seed=0)
    assert t.names == ["accuracy", "macro_precision", "macro_recall", "macro_f1",
                       "macro_specificity", "macro_roc_auc"]
    assert t.value("macro_f1") == pytest.approx(skm.f1_score(y, p, average="macro"), abs=TOL)
    assert t.value("macro_roc_auc") == pytest.approx(
        skm.roc_auc_score(y, proba, multi_class="ovr"), abs=TOL)
    np.testing.assert_array_equal(t.extras["confusion"], skm.confusion_matrix(y, p))
    for m in t:
        assert m.low <= m.value <= m.high
    with pytest.raises(SynthprintError, match="shape"):
        multiclass_metrics(y, p, proba[:, :4])
    one = multiclass_metrics([2, 2, 2], [2, 2, 1], n_boot=20)
    assert one.value("accuracy") == pytest.approx(2 / 3)
    assert all(m.value is not None for m in one)


def test_roc_auc_difference_is_the_paired_difference_with_an_interval():
    from sklearn.metrics import roc_auc_score

    from synthprint.evaluation import roc_auc_difference

    rng = np.random.default_rng(3)
    y = np.r_[np.ones(60), np.zeros(60)].astype(np.int64)
    a = rng.normal(size=120) + 1.5 * y   # informative
    b = rng.normal(size=120)             # chance
    d = roc_auc_difference(y, a, b, n_boot=500, seed=1)["roc_auc_difference"]
    assert d.value == pytest.approx(roc_auc_score(y, a) - roc_auc_score(y, b), abs=1e-12)
    assert 0 < d.low < d.value < d.high          # clearly better: interval excludes 0
    back = roc_auc_difference(y, b, a, n_boot=500, seed=1)["roc_auc_difference"]
    assert back.value == pytest.approx(-d.value) and back.low == pytest.approx(-d.high)
    same = roc_auc_difference(y, a, a, n_boot=200)["roc_auc_difference"]
    assert (same.value, same.low, same.high) == (0.0, 0.0, 0.0)
    noise = roc_auc_difference(y, b, rng.normal(size=120), n_boot=500)["roc_auc_difference"]
    assert noise.low < 0 < noise.high            # two chance scores: not told apart
    with pytest.raises(SynthprintError):
        roc_auc_difference(np.ones(5, dtype=int), a[:5], b[:5])
    with pytest.raises(SynthprintError, match="confidence"):
        roc_auc_difference(y, a, b, confidence=1.5)
