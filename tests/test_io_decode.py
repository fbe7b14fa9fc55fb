"""Every decoding rule of the challenge data, on generated fixtures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from synthprint.errors import SynthprintError
from synthprint.io import decode_image, is_image_file, read_header
from tests.conftest import ct_like, write_png


def test_grayscale_roundtrip(tmp_path):
    arr = ct_like(0)
    out = decode_image(write_png(tmp_path / "a.png", arr))
    assert out.dtype == np.uint8 and out.shape == (256, 256)
    np.testing.assert_array_equal(out, arr)


def test_palette_png_goes_through_its_colormap_not_raw_indices(tmp_path):
    # A palette whose index i holds gray level 255 - i: raw indices would invert the image.
    gray = ct_like(1)
    im = Image.fromarray((255 - gray).astype(np.uint8), mode="L").convert("P")
    palette = []
    for i in range(256):
        palette += [255 - i] * 3
    im = Image.fromarray((255 - gray).astype(np.uint8), mode="P")
    im.putpalette(palette)
    im.save(tmp_path / "p.png")
    assert Image.open(tmp_path / "p.png").mode == "P"
    notes = []
    out = decode_image(tmp_path / "p.png", notes=notes)
    np.testing.assert_array_equal(out, gray)
    assert [n.kind for n in notes] == ["palette"]


@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
def test_colour_becomes_luminance(tmp_path, mode):
    rgb = np.zeros((256, 256, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    im = Image.fromarray(rgb, mode="RGB").convert(mode)
    im.save(tmp_path / "c.png")
    notes = []
    out = decode_image(tmp_path / "c.png", notes=notes)
    expected = round(200 * 299 / 1000 + 100 * 587 / 1000 + 50 * 114 / 1000)
    assert np.all(np.abs(out.astype(int) - expected) <= 1)
    assert notes and notes[0].kind == "colour"


def test_sixteen_bit_is_rescaled_with_a_note(tmp_path):
    wide = (np.arange(256 * 256, dtype=np.uint32).reshape(256, 256) % 65536).astype(np.uint16)
    Image.fromarray(wide).save(tmp_path / "w.png")
    assert Image.open(tmp_path / "w.png").mode.startswith("I")
    notes = []
    out = decode_image(tmp_path / "w.png", notes=notes)
    np.testing.assert_array_equal(out, np.rint(wide * (255 / 65535)).astype(np.uint8))
    assert [n.kind for n in notes] == ["16-bit-rescaled"]


def test_twelve_bit_data_in_sixteen_bits_is_noted_as_low_range(tmp_path):
    ct12 = (ct_like(3).astype(np.uint16) * 16)            # 0..4080: 12-bit data
    Image.fromarray(ct12).save(tmp_path / "ct12.png")
    notes = []
    out = decode_image(tmp_path / "ct12.png", notes=notes)
    assert out.max() <= 16 and [n.kind for n in notes] == ["16-bit-low-range"]
    assert notes[0].detail.endswith(f"to 0..{out.max()}")


def test_wrong_size_is_an_error_naming_the_file(tmp_path):
    path = write_png(tmp_path / "small.png", ct_like(2, size=128))
    with pytest.raises(SynthprintError, match=r"small\.png.*128x128.*--resize"):
        decode_image(path)


def test_wrong_size_is_resized_on_request(tmp_path):
    path = write_png(tmp_path / "small.png", ct_like(2, size=128))
    notes = []
    out = decode_image(path, resize=True, notes=notes)
    assert out.shape == (256, 256) and notes[0].kind == "resized"


def test_truncated_file_is_an_error_naming_the_file(tmp_path):
    path = write_png(tmp_path / "t.png", ct_like(3))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SynthprintError, match=r"t\.png.*corrupt or truncated"):
        decode_image(path)


def test_garbage_file_is_an_error(tmp_path):
    path = tmp_path / "g.png"
    path.write_bytes(b"not a png at all")
    with pytest.raises(SynthprintError, match=r"g\.png"):
        decode_image(path)
    with pytest.raises(SynthprintError, match=r"g\.png"):
        read_header(path)


def test_float_image_is_refused(tmp_path):
    Image.fromarray(np.zeros((256, 256), dtype=np.float32), mode="F").save(tmp_path / "f.tif")
    with pytest.raises(SynthprintError, match="mode F"):
        decode_image(tmp_path / "f.tif")


@pytest.mark.parametrize("name,expected", [
    ("a.png", True), ("A.PNG", True), ("x.jpg", True), (".DS_Store", False),
    ("Thumbs.db", False), ("labels.csv", False), (".hidden.png", False), ("notes.txt", False),
])
def test_which_files_are_images(tmp_path, name, expected):
    assert is_image_file(tmp_path / name) is expected
