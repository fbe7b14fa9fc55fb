"""Layout detection and loading for every layout the challenge has used."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from synthprint.errors import SynthprintError
from synthprint.io import (
    BenchmarkLayout,
    Role,
    demo_path,
    detect_layout,
    load_benchmark,
    load_dataset,
    load_folder,
    natural_key,
)
from tests.conftest import make_folder, write_png, ct_like


def test_natural_sort():
    names = ["x_10.png", "x_2.png", "x_1.png", "X_3.png"]
    assert sorted(names, key=natural_key) == ["x_1.png", "x_2.png", "X_3.png", "x_10.png"]
    # digits that are not ASCII are text (int() refuses '²'); equal ranks keep a fixed order
    assert sorted(["x_²1.png", "x_2.png", "x_02.png", "x_0002.png"], key=natural_key) == \
        ["x_0002.png", "x_02.png", "x_2.png", "x_²1.png"]
    assert sorted(["x_2.png", "x_02.png"], key=natural_key) == \
        sorted(["x_02.png", "x_2.png"], key=natural_key)


def test_membership_train(membership_train):
    ds = load_dataset(membership_train, quiet=True)
    assert ds.layout.name == "membership-train"
    assert ds.counts() == {"generated": 6, "real_used": 3, "real_not_used": 3}
    assert ds.images.shape == (12, 256, 256) and ds.images.dtype == np.uint8
    used = ds.indices(Role.REAL_USED)
    assert set(ds.labels[used]) == {1}
    assert set(ds.labels[ds.indices(Role.REAL_NOT_USED)]) == {0}
    assert set(ds.labels[ds.indices(Role.GENERATED)]) == {-1}
    assert "membership-train" in repr(ds)


def test_membership_train_accepts_used_and_not_used(tmp_path):
    make_folder(tmp_path / "generated", "g", 2)
    make_folder(tmp_path / "used", "u", 2)
    make_folder(tmp_path / "not_used", "n", 2)
    assert detect_layout(tmp_path).name == "membership-train"


def test_membership_train_missing_folder(tmp_path):
    make_folder(tmp_path / "real_used", "u", 2)
    make_folder(tmp_path / "real_not_used", "n", 2)
    with pytest.raises(SynthprintError, match="no generated/"):
        detect_layout(tmp_path)


@pytest.mark.parametrize("gen,real,edition", [("generated", "real_unknown", 2025),
                                              ("generated_1", "real_unknown_1", 2023)])
def test_membership_test_layouts(tmp_path, gen, real, edition):
    make_folder(tmp_path / gen, "generated_", 2)
    make_folder(tmp_path / real, "real_unknown_", 12)
    ds = load_dataset(tmp_path, quiet=True)
    assert ds.layout.name == "membership-test" and ds.layout.edition == edition
    real_names = [ds.names[i] for i in ds.indices(Role.REAL_UNKNOWN)]
    assert real_names[:3] == ["real_unknown_1.png", "real_unknown_2.png", "real_unknown_3.png"]
    assert real_names[-1] == "real_unknown_12.png"  # natural order, not 1, 10, 11, 12, 2


def test_attribution_train_pairs_subsets_by_number(attribution_train):
    ds = load_dataset(attribution_train, quiet=True)
    assert ds.layout.name == "attribution-train"
    assert ds.counts() == {"real/t1": 2, "real/t2": 2, "real/t3": 2,
                           "generated/t1": 3, "generated/t2": 3, "generated/t3": 3}
    gen = ds.indices(Role.GENERATED_SUBSET)
    assert sorted(set(ds.labels[gen])) == [1, 2, 3]


def test_attribution_train_subset_mismatch(tmp_path):
    make_folder(tmp_path / "real" / "t1", "r", 1)
    make_folder(tmp_path / "generated" / "t1", "g", 1)
    make_folder(tmp_path / "generated" / "t2", "g", 1)
    with pytest.raises(SynthprintError, match="every subset needs"):
        detect_layout(tmp_path)


def test_attribution_train_two_folders_one_subset(tmp_path):
    make_folder(tmp_path / "real" / "t1", "r", 1)
    make_folder(tmp_path / "generated" / "t1", "g", 1)
    make_folder(tmp_path / "generated" / "gen_t1", "h", 1)
    with pytest.raises(SynthprintError, match="both name subset 1"):
        detect_layout(tmp_path)


def test_attribution_test_layouts(tmp_path):
    make_folder(tmp_path / "a" / "generated_unknown", "gen_unknown_", 3)
    assert detect_layout(tmp_path / "a").name == "attribution-test"
    make_folder(tmp_path / "b", "img_", 3)
    ds = load_dataset(tmp_path / "b", quiet=True)
    assert ds.layout.name == "attribution-test"
    assert list(ds.roles) == [Role.GENERATED_UNKNOWN] * 3


def test_forced_layout(membership_train):
    with pytest.raises(SynthprintError, match="does not look like a attribution-train"):
        detect_layout(membership_train, "attribution-train")
    with pytest.raises(SynthprintError, match="unknown layout"):
        detect_layout(membership_train, "nope")
    assert detect_layout(membership_train, "membership-train").name == "membership-train"


def test_missing_folder(tmp_path):
    with pytest.raises(SynthprintError, match="folder not found"):
        load_dataset(tmp_path / "nowhere")


def test_file_instead_of_folder(tmp_path):
    path = write_png(tmp_path / "x.png", ct_like(0))
    with pytest.raises(SynthprintError, match="is a file"):
        load_dataset(path)


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "generated").mkdir()
    make_folder(tmp_path / "real_unknown", "r", 2)
    with pytest.raises(SynthprintError, match=r"generated: no images found"):
        load_dataset(tmp_path, quiet=True)


def test_unknown_layout_says_what_was_expected(tmp_path):
    (tmp_path / "something").mkdir()
    with pytest.raises(SynthprintError, match="expected one of these layouts"):
        detect_layout(tmp_path)


def test_an_extra_top_folder_names_the_split_inside(tmp_path):
    make_folder(tmp_path / "archive" / "test" / "generated", "g", 2)
    make_folder(tmp_path / "archive" / "test" / "real_unknown", "r", 2)
    with pytest.raises(SynthprintError,
                       match=r"it holds archive/test/ \(membership-test\): point at that folder"):
        detect_layout(tmp_path)
    with pytest.raises(SynthprintError, match=r"does not look like a membership-train split; "
                                              "expected"):
        detect_layout(tmp_path, "membership-train")       # nothing of that layout inside


@pytest.mark.skipif(sys.platform == "win32", reason="alarm and symlinks")
def test_the_hint_search_neither_loops_on_links_nor_repeats_itself(tmp_path):
    import signal

    (tmp_path / "base" / "scans").mkdir(parents=True)
    (tmp_path / "base" / "scans" / "all").symlink_to("..")     # a link back up
    deep = tmp_path / "chain"
    for i in range(25):
        deep = deep / f"d{i}"
    deep.mkdir(parents=True)

    def too_slow(*_):
        raise TimeoutError("the hint search ran for 10 s")

    old = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    try:
        for root in (tmp_path / "base", tmp_path / "chain"):
            with pytest.raises(SynthprintError, match="no known layout found"):
                detect_layout(root)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_images_in_a_subfolder_are_named_not_silently_lost(tmp_path):
    make_folder(tmp_path / "generated", "g", 2)
    make_folder(tmp_path / "real_unknown" / "real_unknown", "r", 2)   # unzipped one level deep
    with pytest.raises(SynthprintError, match=r"real_unknown: no images found; .*its subfolder "
                                              r"real_unknown/ holds images: move them up"):
        load_dataset(tmp_path, quiet=True)
    make_folder(tmp_path / "real_unknown", "r", 2)
    (tmp_path / "real_unknown" / "empty").mkdir()
    ds = load_dataset(tmp_path, quiet=True)
    assert len(ds) == 4
    assert ds.unread_folders == [tmp_path / "real_unknown" / "real_unknown"]
    assert ds.take(np.arange(2)).unread_folders == ds.unread_folders


def test_image_folders_that_fill_no_role_are_named(membership_train, tmp_path):
    from synthprint.io.inspect import summarize

    make_folder(membership_train / "real_used_more", "m", 2)      # beside the role folders
    (membership_train / "notes").mkdir()                           # no images: not named
    ds = load_dataset(membership_train, quiet=True)
    assert ds.unread_folders == [membership_train / "real_used_more"]
    assert any("real_used_more: holds images but is not one of the membership-train" in p
               for p in summarize(membership_train).problems)
    make_folder(tmp_path / "t" / "generated", "g", 2)
    make_folder(tmp_path / "t" / "real_unknown", "r", 2)
    make_folder(tmp_path / "t" / "real_unknown_1", "r", 2)
    make_folder(tmp_path / "t" / "generated_1", "g", 2)
    with pytest.raises(SynthprintError, match="holds both real_unknown/ .* keep one"):
        detect_layout(tmp_path / "t")


def test_info_reports_an_image_the_commands_cannot_decode(membership_train):
    from PIL import Image

    from synthprint.io.inspect import summarize

    Image.fromarray(np.full((256, 256), 0.5, np.float32), mode="F").save(
        membership_train / "generated" / "float.tif")
    problems = summarize(membership_train).problems
    assert any("float.tif" in p and "floating-point" in p for p in problems), problems


def test_duplicate_names_are_an_error(tmp_path):
    make_folder(tmp_path / "generated", "g", 2)
    make_folder(tmp_path / "real_unknown", "real_unknown_", 2)
    write_png(tmp_path / "real_unknown" / "REAL_UNKNOWN_1.jpg", ct_like(9))
    with pytest.raises(SynthprintError, match="same name"):
        load_dataset(tmp_path, quiet=True)


def test_non_image_files_are_skipped_and_counted(membership_train):
    (membership_train / "generated" / ".DS_Store").write_bytes(b"\0\0")
    (membership_train / "generated" / "Thumbs.db").write_bytes(b"\0\0")
    (membership_train / "real_used" / "labels.csv").write_text("a,b\n")
    ds = load_dataset(membership_train, quiet=True)
    assert len(ds) == 12
    assert sorted(p.name for p in ds.skipped) == [".DS_Store", "Thumbs.db", "labels.csv"]


def test_corrupt_file_in_folder_names_it(membership_train):
    (membership_train / "generated" / "generated_2.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(SynthprintError, match="generated_2.png"):
        load_dataset(membership_train, quiet=True)


def test_loading_writes_nothing_into_the_data(membership_train):
    before = sorted(p for p in membership_train.rglob("*"))
    load_dataset(membership_train, quiet=True)
    assert sorted(p for p in membership_train.rglob("*")) == before


def test_both_used_and_real_used_is_ambiguous(membership_train):
    make_folder(membership_train / "used", "u", 1)
    with pytest.raises(SynthprintError, match="mean the same thing"):
        detect_layout(membership_train)


def test_take_and_select(membership_train):
    ds = load_dataset(membership_train, quiet=True)
    real = ds.select(Role.REAL_USED, Role.REAL_NOT_USED)
    assert len(real) == 6 and real.images.shape == (6, 256, 256)
    assert real.names[0] == "real_used_1.png"
    assert ds.ids[0] == "generated_1"


@pytest.mark.parametrize("task,train_layout,test_layout", [
    ("membership", "membership-train", "membership-test"),
    ("attribution", "attribution-train", "attribution-test"),
])
def test_bundled_demo_is_a_benchmark(task, train_layout, test_layout):
    layout = detect_layout(demo_path(task))
    assert isinstance(layout, BenchmarkLayout)
    bench = load_benchmark(demo_path(task), quiet=True)
    assert bench.train.layout.name == train_layout
    assert bench.test.layout.name == test_layout
    assert bench.truth is not None
    unknown = Role.REAL_UNKNOWN if task == "membership" else Role.GENERATED_UNKNOWN
    labels = bench.test_labels(unknown)
    assert len(labels) == len(bench.test.indices(unknown))


def test_benchmark_root_is_not_a_split():
    with pytest.raises(SynthprintError, match="holds both train/ and test/"):
        load_dataset(demo_path("membership"))


def test_load_folder(tmp_path):
    make_folder(tmp_path / "holdout", "h_", 3)
    ds = load_folder(tmp_path / "holdout", Role.REAL_NOT_USED, 0, quiet=True)
    assert len(ds) == 3 and list(ds.labels) == [0, 0, 0]
    with pytest.raises(SynthprintError, match="folder not found"):
        load_folder(tmp_path / "nope", Role.GENERATED)
    assert load_folder(tmp_path / "holdout", "real_not_used", 0, quiet=True).roles[0] \
        is Role.REAL_NOT_USED
    with pytest.raises(SynthprintError, match="role must be one of generated, real_used"):
        load_folder(tmp_path / "holdout", "holdout")


def test_membership_data_gathers_the_arrays_the_methods_take():
    from synthprint.io import Role, demo_path, load_benchmark, membership_data

    b = load_benchmark(demo_path("membership"), quiet=True)
    d = membership_data(b.train, b.test)
    counts = b.train.counts() | {f"test {k}": v for k, v in b.test.counts().items()}
    assert len(d.generated) == counts["generated"] + counts["test generated"]
    np.testing.assert_array_equal(d.generated[0], b.train.images[b.train.indices(Role.GENERATED)[0]])
    np.testing.assert_array_equal(d.generated[-1], b.test.images[b.test.indices(Role.GENERATED)[-1]])
    assert len(d.real) == len(d.labels) == counts["real_used"] + counts["real_not_used"]
    assert d.labels.dtype == np.int64 and set(d.labels.tolist()) == {0, 1}
    assert [b.test.names[i] for i in d.unknown][0] == "real_unknown_0001.png"
    np.testing.assert_array_equal(d.test_real, b.test.images[d.unknown])
    assert d.generated_names[0] == b.train.names[b.train.indices(Role.GENERATED)[0]]
    assert d.generated_paths[-1] == b.test.paths[b.test.indices(Role.GENERATED)[-1]]
    with pytest.raises(SynthprintError, match="holds no labelled real images"):
        membership_data(b.test, b.train)  # swapped
    other = load_benchmark(demo_path("attribution"), quiet=True)
    with pytest.raises(ValueError, match="'attribution-train'"):  # SynthprintError is one
        membership_data(other.train, other.test)
    assert len(d.generated_names) == len(d.generated_paths) == len(d.generated)
    assert "labelled real=" in repr(d)
    one = b.train.take(np.concatenate([b.train.indices(Role.GENERATED, Role.REAL_NOT_USED),
                                       b.train.indices(Role.REAL_USED)[:1]]))
    with pytest.raises(SynthprintError, match=r"real_used: holds 1 image; .* add images"):
        membership_data(one, b.test)


def test_truth_files_not_utf8_or_zipped_are_one_clear_error_and_a_bom_is_dropped(tmp_path):
    from synthprint.io import read_labels_csv
    from synthprint.io.submission import zip_bytes

    truth = demo_path("membership") / "truth" / "real_unknown.csv"
    text = truth.read_text()
    expected = read_labels_csv(truth)
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert read_labels_csv(bom) == expected          # the mark is not part of the first name
    u16 = tmp_path / "u16.csv"
    u16.write_bytes(text.encode("utf-16"))
    with pytest.raises(SynthprintError, match=r"u16\.csv: is not UTF-8 text \(UTF-16\); save"):
        read_labels_csv(u16)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("réal_0001.png,1\n".encode("latin-1"))
    with pytest.raises(SynthprintError, match=r"latin\.csv: is not UTF-8 text \(byte 0xe9"):
        read_labels_csv(latin)
    zipped = tmp_path / "truth.zip"
    zipped.write_bytes(zip_bytes(text))
    with pytest.raises(SynthprintError, match=r"truth\.zip: is a zip file, not a CSV; unzip it "
                                              r"and give the CSV inside \(run\.csv\)"):
        read_labels_csv(zipped)
