"""Audit: copy detection against the real-real yardstick, risk ranking, filtered copies."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from synthprint.audit import find_copies, real_yardstick, run_audit
from synthprint.audit.filtering import write_filtered
from synthprint.errors import SynthprintError
from synthprint.features import pairwise
from synthprint.io import Role, load_folder
from synthprint.membership import MembershipEstimator
from tests.conftest import ct_like, write_png


class MaxSSIM(MembershipEstimator):
    """A minimal attack for the tests: score = best SSIM to any generated image."""

    def __init__(self, metric="kappa", prior=None):
        self.metric = metric
        self.prior = prior

    def _context(self, generated, pool):
        return SimpleNamespace(best=pairwise(pool, generated, quiet=True).max(axis=1)
                               .astype(np.float64), n_pool=len(pool))

    def _scores(self, ctx, head, rows):
        return ctx.best[rows]


def _noisy(img, seed, sd=6.0):
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sd, img.shape), 0, 255).astype(np.uint8)


def _slice(seed: int) -> np.ndarray:
    """A CT-like image with its own anatomy: :func:`ct_like` plus organs (ellipses) placed
    by ``seed``, so that images differ at 64 px too, not only in their noise."""
    rng = np.random.default_rng(10_000 + seed)
    img = ct_like(seed).astype(np.float64)
    yy, xx = np.mgrid[:256, :256] / 256 - 0.5
    for _ in range(4):
        cy, cx = rng.uniform(-0.15, 0.15, 2)
        ry, rx = rng.uniform(0.03, 0.09, 2)
        img[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1] += rng.uniform(-120, 60)
    return np.clip(img, 0, 255).astype(np.uint8)


@pytest.fixture
def audit_folders(tmp_path):
    train = [_slice(100 + i) for i in range(8)]
    holdout = [_slice(200 + i) for i in range(8)]
    for i, img in enumerate(train):
        write_png(tmp_path / "train" / f"train_{i + 1}.png", img)
    for i, img in enumerate(holdout):
        write_png(tmp_path / "holdout" / f"holdout_{i + 1}.png", img)
    # synthetic: near-copies of the first 3 training images, plus unrelated samples
    synth = [_noisy(train[i], 300 + i, sd=2.0) for i in range(3)]
    synth += [_slice(400 + i) for i in range(7)]
    for i, img in enumerate(synth):
        write_png(tmp_path / "synthetic" / f"synthetic_{i + 1}.png", img)
    return tmp_path


def _load(root):
    return (load_folder(root / "train", Role.REAL_USED, 1, quiet=True),
            load_folder(root / "holdout", Role.REAL_NOT_USED, 0, quiet=True),
            load_folder(root / "synthetic", Role.GENERATED, quiet=True))


def test_yardstick_excludes_self_pairs(audit_folders):
    train, holdout, _ = _load(audit_folders)
    real = np.concatenate([train.images, holdout.images])
    yard = real_yardstick(real, quiet=True)
    assert yard.i != yard.j and yard.exact
    full = pairwise(real, real, quiet=True)
    np.fill_diagonal(full, -np.inf)
    assert yard.value == pytest.approx(float(full.max()), abs=1e-6)


def test_planted_copies_are_flagged(audit_folders):
    train, holdout, synth = _load(audit_folders)
    yard = real_yardstick(np.concatenate([train.images, holdout.images]), quiet=True)
    copies = find_copies(synth.images, train.images, yard, quiet=True)
    assert list(np.flatnonzero(copies.flagged)) == [0, 1, 2]
    assert list(copies.indices[:3, 0]) == [0, 1, 2]


def test_shifted_and_mirrored_copies_are_flagged_by_the_tolerant_check(audit_folders):
    from synthprint.audit.copies import TOLERANT_LEVEL

    train, holdout, synth = _load(audit_folders)
    real = np.concatenate([train.images, holdout.images])
    moved = np.stack([np.roll(train.images[3], 2, axis=1),       # shifted 2 px
                      train.images[4][:, ::-1],                   # mirrored
                      np.roll(train.images[5][:, ::-1], 2, axis=0)])
    pixel = find_copies(moved, train.images, real_yardstick(real, quiet=True), quiet=True)
    assert not pixel.flagged.any()                         # what the pixel check misses
    yard = real_yardstick(real, level=TOLERANT_LEVEL, mirrored=True, quiet=True)
    assert yard.i != yard.j and yard.mirrored
    pruned = real_yardstick(real, level=TOLERANT_LEVEL, mirrored=True, candidates=len(real),
                            similarities=None, quiet=True)
    assert pruned.value == pytest.approx(yard.value, abs=1e-6)
    tolerant = find_copies(moved, train.images, yard, quiet=True)
    assert tolerant.flagged.all() and list(tolerant.indices[:, 0]) == [3, 4, 5]
    assert not find_copies(synth.images[3:], train.images, yard, quiet=True).flagged.any()


def test_near_duplicate_real_images_do_not_set_the_yardsticks(audit_folders):
    from synthprint.audit.copies import TOLERANT_LEVEL

    train, holdout, synth = _load(audit_folders)
    real = np.concatenate([train.images, holdout.images])
    twins = np.stack([_noisy(train.images[5], 1, sd=1.0),      # re-encoded: not the same bytes
                      train.images[6][:, ::-1]])               # a mirrored augmentation
    both = np.concatenate([real, twins])
    for level, mirrored in ((0, False), (TOLERANT_LEVEL, True)):
        alone = real_yardstick(real, level=level, mirrored=mirrored, quiet=True)
        with_twins = real_yardstick(both, level=level, mirrored=mirrored, quiet=True)
        assert with_twins.value == pytest.approx(alone.value, abs=1e-6)
        assert (5, len(real)) in with_twins.near_duplicates
        assert find_copies(synth.images, train.images, with_twins, quiet=True).flagged[:3].all()
    assert (6, len(real) + 1) in real_yardstick(both, level=TOLERANT_LEVEL, mirrored=True,
                                                quiet=True).near_duplicates
    # many twins of the closest pair's images: every pair is looked at, not each image's best 8
    A = _slice(1)
    B = (0.8 * A + 0.2 * _slice(2)).astype(np.uint8)
    many = np.stack([_noisy(A, i, sd=1.0) for i in range(9)] +
                    [_noisy(B, 10 + i, sd=1.0) for i in range(9)] + [_slice(3), _slice(4)])
    pair = real_yardstick(np.stack([A, B, _slice(3), _slice(4)]), quiet=True).value
    assert real_yardstick(many, quiet=True).value == pytest.approx(pair, abs=0.02)
    with pytest.raises(SynthprintError, match="no two distinct images that are not near-dup"):
        real_yardstick(np.stack([A, A[:, ::-1], _noisy(A, 5, sd=1.0)]), level=TOLERANT_LEVEL,
                       mirrored=True, quiet=True)


def test_run_audit_ranks_copied_training_images_first(audit_folders):
    train, holdout, synth = _load(audit_folders)
    result = run_audit(train, holdout, synth, {"max-ssim": MaxSSIM}, n_splits=2, n_repeats=1,
                       n_boot=50, quiet=True)
    assert result.best.name == "max-ssim"
    assert set(result.risk["name"][:3]) == {"train_1.png", "train_2.png", "train_3.png"}
    assert result.risk["copies"].sum() == 3
    assert list(result.copy_table["copy"][:3]) == [True] * 3
    assert result.copy_table.attrs["yardstick_pair"][0] != result.copy_table.attrs[
        "yardstick_pair"][1]


def test_write_filtered_keeps_bytes_and_lists_dropped(audit_folders, tmp_path):
    _, _, synth = _load(audit_folders)
    drop = np.zeros(len(synth), dtype=bool)
    drop[[0, 2]] = True
    folder, listing = write_filtered(synth, drop, tmp_path / "out" / "filtered")
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == len(synth) - 2 and "synthetic_1.png" not in kept
    assert (folder / "synthetic_2.png").read_bytes() == \
        (audit_folders / "synthetic" / "synthetic_2.png").read_bytes()
    assert listing.read_text().splitlines() == ["name,reason", "synthetic_1.png,copy",
                                                "synthetic_3.png,copy"]
    with pytest.raises(SynthprintError, match="--force"):
        write_filtered(synth, drop, folder)
    with pytest.raises(SynthprintError, match="is inside the input folder"):
        write_filtered(synth, drop, audit_folders / "synthetic" / "clean", force=True)
    synth.names[0] = 'patient 12, slice "40".png'           # a name a CSV must quote
    _, listing = write_filtered(synth, drop, tmp_path / "quoted" / "filtered")
    assert list(pd.read_csv(listing)["name"]) == ['patient 12, slice "40".png', "synthetic_3.png"]


def test_find_copies_from_a_given_matrix_equals_its_own_search():
    from synthprint.audit.copies import CopyYardstick, find_copies
    from synthprint.features import pairwise

    syn = np.stack([ct_like(i, 64) for i in range(7)])
    train = np.stack([ct_like(20 + i, 64) for i in range(5)] + [syn[2]])
    yard = CopyYardstick(0.9, 0, 1, True)
    own = find_copies(syn, train, yard, quiet=True)
    given = find_copies(syn, train, yard, similarities=pairwise(syn, train, "ssim", quiet=True),
                        quiet=True)
    np.testing.assert_array_equal(own.indices, given.indices)
    np.testing.assert_array_equal(own.values, given.values)
    assert given.flagged.tolist() == [i == 2 for i in range(7)]


def test_the_audit_computes_each_similarity_matrix_once(audit_folders, monkeypatch):
    """The default attacks share one cache with the copy search: a matrix that several of
    them need (SSIM of every real x synthetic image, real x real, ...) is computed once."""
    import synthprint.features.similarity as sim
    from synthprint.features import content_hash
    from synthprint.membership import AUDIT_ATTACKS, make_method

    computed = []

    class CountingEngine(sim._Engine):
        def __init__(self, metric, PA, PB, *args, **kwargs):
            computed.append((metric.name, metric.level, content_hash(np.asarray(PA)),
                             content_hash(np.asarray(PB))))
            super().__init__(metric, PA, PB, *args, **kwargs)

    monkeypatch.setattr(sim, "_Engine", CountingEngine)
    import synthprint.audit.copies as copies
    monkeypatch.setattr(copies, "EXACT_PAIR_LIMIT", 0)   # alone, the yardstick would be pruned
    train, holdout, synth = _load(audit_folders)
    attacks = {n: (lambda n=n: make_method(n)) for n in AUDIT_ATTACKS}
    result = run_audit(train, holdout, synth, attacks, n_splits=2, n_repeats=1, n_boot=50,
                       quiet=True)
    # 8 distinct matrices for the attacks and the pixel copy search (bench/RESULTS.md), 3 for
    # the tolerant copy check: its pruned yardstick's two stages, synthetic x training
    assert len(computed) == len(set(computed)) == 11
    assert sum(c[:2] == ("ssim", 2) for c in computed) == 2
    # the verdict takes the best of the attacks: each interval covers 1 - 0.05 / attacks
    assert result.confidence == pytest.approx(1 - 0.05 / len(AUDIT_ATTACKS))
    assert {a.cv.pooled.confidence for a in result.attacks} == {result.confidence}
    assert ("ssim", 0) in {c[:2] for c in computed}
    assert set(result.risk["name"][:3]) == {"train_1.png", "train_2.png", "train_3.png"}
    # the yardstick is read from the real x real matrix an attack computed: exact
    monkeypatch.undo()
    real = np.concatenate([train.images, holdout.images])
    assert result.copies.yardstick.exact
    assert result.copies.yardstick == real_yardstick(real, quiet=True)


def test_risk_percentiles_compare_images_within_their_own_fold():
    """Heads of different folds may score on different scales: a member is ranked against
    the holdout images its own fold's head scored."""
    from synthprint.audit.run import _fold_percentiles
    from synthprint.evaluation.cv import Fold

    # samples 0, 1 are members; 2, 3 holdout; fold 0 = {0, 2}, fold 1 = {1, 3}
    folds = [Fold(0, 0, np.array([1, 3]), np.array([0, 2])),
             Fold(0, 1, np.array([0, 2]), np.array([1, 3]))]
    cv = SimpleNamespace(folds=folds, oof_scores=np.array([[2.0, 20.0, 1.0, 10.0]]),
                         n_repeats=1)
    np.testing.assert_array_equal(_fold_percentiles(cv, 2), [1.0, 1.0])
    cv.oof_scores = np.array([[1.0, 20.0, 1.0, 30.0]])        # a tie, and a lower member
    np.testing.assert_array_equal(_fold_percentiles(cv, 2), [0.5, 0.0])


def test_a_real_image_given_twice_does_not_set_the_yardstick(audit_folders):
    """Its SSIM of 1 with its own repeat would make the yardstick 1, and nothing a copy."""
    from synthprint.audit.copies import distinct_images, identical_groups

    train, holdout, synth = _load(audit_folders)
    real = np.concatenate([train.images, holdout.images])
    twice = np.concatenate([real, real[3:4], real[5:6], real[3:4]])
    groups = identical_groups(twice)
    assert [g.tolist() for g in groups] == [[3, 16, 18], [5, 17]]
    assert distinct_images(len(twice), groups).tolist() == list(range(16))
    alone = real_yardstick(real, quiet=True)
    for given in (None, pairwise(twice, twice, quiet=True)):
        yard = real_yardstick(twice, similarities=given, quiet=True)
        assert (yard.value, yard.i, yard.j) == (alone.value, alone.i, alone.j)
    # the pair found among the distinct images is named by its indices in the whole stack
    moved = np.concatenate([real[alone.i:alone.i + 1], real])
    yard = real_yardstick(moved, quiet=True)
    assert (yard.value, sorted([yard.i, yard.j])) == (alone.value,
                                                      sorted([0, alone.j + 1]))
    with pytest.raises(ValueError, match="two distinct"):
        real_yardstick(np.stack([real[0]] * 3), quiet=True)


def test_the_audit_refuses_an_image_in_both_training_and_holdout(audit_folders):
    write_png(audit_folders / "train" / "train_9.png", _slice(100))      # = train_1
    write_png(audit_folders / "holdout" / "leak.png", _slice(203))       # = holdout_4
    train, holdout, synth = _load(audit_folders)
    result = run_audit(train, holdout, synth, {"max-ssim": MaxSSIM}, n_splits=2,
                       n_repeats=1, n_boot=50, quiet=True)
    assert result.identical == [["train_1.png", "train_9.png"],
                                ["holdout_4.png", "leak.png"]]
    assert list(np.flatnonzero(result.copies.flagged)) == [0, 1, 2]
    write_png(audit_folders / "holdout" / "train_again.png", _slice(102))   # = train_3
    train, holdout, synth = _load(audit_folders)
    with pytest.raises(SynthprintError, match=r"train_3.png and .*train_again.png are the "
                                              r"same image \(1 images"):
        run_audit(train, holdout, synth, {"max-ssim": MaxSSIM}, quiet=True)


def test_a_forced_filtering_replaces_the_earlier_folder(audit_folders, tmp_path):
    _, _, synth = _load(audit_folders)
    folder = tmp_path / "out" / "filtered"
    keep_all = np.zeros(len(synth), dtype=bool)
    write_filtered(synth, keep_all, folder)
    drop = keep_all.copy()
    drop[[0, 4]] = True
    killed = folder.parent / ".filtered.0123456789ab.tmp"   # what a killed run leaves
    killed.mkdir()
    (killed / "synthetic_1.png").write_bytes(b"partial")
    other = folder.parent / "filtered.v2"                   # another output's own build
    other.mkdir()
    building_other = folder.parent / ".filtered.v2.0123456789ab.tmp"
    building_other.mkdir()
    write_filtered(synth, drop, folder, force=True)
    assert building_other.is_dir()
    building_other.rmdir()
    other.rmdir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        n for n, d in zip(synth.names, drop) if not d)
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == []
    # a link named like the folder is replaced by the folder; what it pointed at stays
    elsewhere = tmp_path / "elsewhere"
    write_filtered(synth, keep_all, elsewhere)
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "filtered").symlink_to(elsewhere, target_is_directory=True)
    write_filtered(synth, drop, linked / "filtered", force=True)
    assert not (linked / "filtered").is_symlink()
    assert len(list((linked / "filtered").iterdir())) == len(synth) - 2
    assert len(list(elsewhere.iterdir())) == len(synth)
    assert [p.name for p in linked.iterdir() if p.name.startswith(".")] == []


def test_cli_audit_rerun_with_force_replaces_every_earlier_output(audit_folders, tmp_path):
    from typer.testing import CliRunner

    from synthprint.cli import app

    def args_for(out, synthetic=audit_folders / "synthetic"):
        return ["audit", "--train", str(audit_folders / "train"), "--holdout",
                str(audit_folders / "holdout"), "--synthetic", str(synthetic), "--out",
                str(out), "--attacks", "nearest-neighbour", "-q", "--n-boot", "200", "--folds",
                "2", "--repeats", "1"]

    out = tmp_path / "audit"
    args = args_for(out)
    runner = CliRunner()
    first = runner.invoke(app, [*args, "--filter", "--report"])
    assert first.exit_code == 0, first.output
    assert "near-duplicates" not in first.output   # distinct real images: no such note
    html = (out / "report.html").read_text()
    shown = html[html.index('<section id="copies">'):html.index('<section id="gallery">')]
    assert [f"synthetic_{i}.png" in shown for i in range(1, 5)] == [True, True, True, False]
    assert len(list((out / "filtered").iterdir())) == 7
    assert " ".join(first.output.split()).count("dropped.csv") == 1
    assert runner.invoke(app, args).exit_code == 2              # earlier outputs: no --force
    (tmp_path / "mine" / "filtered").mkdir(parents=True)    # the user's, no synthprint run's
    mine = runner.invoke(app, [*args_for(tmp_path / "mine"), "--force"])
    assert mine.exit_code == 0 and (tmp_path / "mine" / "filtered").exists()
    # auditing the filtered set into the same folder would remove its own input
    own = runner.invoke(app, [*args_for(out, out / "filtered"), "--force"])
    assert own.exit_code == 2 and "is this run's input" in " ".join(own.output.split())
    assert len(list((out / "filtered").iterdir())) == 7
    again = runner.invoke(app, [*args, "--force"])
    assert again.exit_code == 0, again.output
    assert not (out / "filtered").exists() and not (out / "dropped.csv").exists()
    assert "removed the earlier run's report.html, filtered, dropped.csv" in " ".join(
        again.output.split())
    inside = runner.invoke(app, args_for(audit_folders / "train" / "out"))
    assert inside.exit_code == 2 and "is inside the input folder" in inside.output


@pytest.mark.parametrize("spec, said", [("", "--attacks names no attack"),
                                        ("default,all", "unknown attack 'default'")])
def test_cli_audit_names_a_bad_attack_list(audit_folders, tmp_path, spec, said):
    from typer.testing import CliRunner

    from synthprint.cli import app

    result = CliRunner().invoke(app, [
        "audit", "--train", str(audit_folders / "train"), "--holdout",
        str(audit_folders / "holdout"), "--synthetic", str(audit_folders / "synthetic"),
        "--out", str(tmp_path / "o"), "--attacks", spec, "-q"])
    assert result.exit_code == 2 and said in " ".join(result.output.split())


def test_an_attack_named_twice_runs_and_counts_once():
    from synthprint.cli.audit import _attack_names

    assert _attack_names("auto, nearest-neighbour,auto") == ["auto", "nearest-neighbour"]


def test_cli_audit_names_near_duplicate_real_images_in_output_and_record(audit_folders,
                                                                         tmp_path):
    import json

    from typer.testing import CliRunner

    from synthprint.cli import app

    write_png(audit_folders / "train" / "train_9.png", _noisy(_slice(100), 9, sd=1.0))
    out = tmp_path / "o"
    result = CliRunner().invoke(app, [
        "audit", "--train", str(audit_folders / "train"), "--holdout",
        str(audit_folders / "holdout"), "--synthetic", str(audit_folders / "synthetic"),
        "--out", str(out), "--attacks", "nearest-neighbour", "--folds", "2", "--repeats", "1",
        "--n-boot", "200", "-q"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "1 pair(s) of real images are near-duplicates" in said and "train_9.png" in said
    assert "3 of 10 synthetic images are copies" in said      # the yardstick is unmoved
    notes = json.loads((out / "record.json").read_text())["notes"]
    assert any("near-duplicates" in n for n in notes)


def test_the_verdict_rests_on_any_attack_whose_family_wise_interval_lies_above_chance():
    from synthprint.audit.run import Attack, AuditResult

    class Pooled:
        def __init__(self, auc):
            self.auc = auc

        def __contains__(self, name):
            return name == "roc_auc"

        def value(self, name):
            return self.auc

    def attack(name, auc, no_signal):
        return Attack(name, SimpleNamespace(pooled=Pooled(auc)), no_signal)

    def result(*attacks):
        return AuditResult(list(attacks), None, None, None, None, None, [])

    wide, narrow = attack("wide", 0.80, True), attack("narrow", 0.70, False)
    assert result(wide, narrow).evidence is narrow and not result(wide, narrow).no_signal
    none = result(wide, attack("other", 0.6, True))
    assert none.evidence is wide and none.no_signal
