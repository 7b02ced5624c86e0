"""The dataset loader and generator: layout, round-trip, determinism and bad-input errors."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

from shapes import CLASSES, DatasetError, SyntheticData, dataset_fingerprint, imagenet_transform
from shapes.backgrounds import BackgroundBank, load_folder, load_npz
from shapes.draw import ShapeStyle, shape_mask
from shapes.generate import GenerationConfig, generate_dataset
from shapes.transforms import normalize_uint8, to_uint8_images

SIZES = {"train": 12, "val": 5, "test": 6}


@pytest.fixture(scope="module")
def bank() -> BackgroundBank:
    rng = np.random.default_rng(0)
    return BackgroundBank(
        train=rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8),
        test=rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8),
        source="random",
    )


@pytest.fixture
def dataset(tmp_path: Path, bank: BackgroundBank) -> Path:
    return generate_dataset(tmp_path / "ds", bank, GenerationConfig(sizes=SIZES), progress=False)


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file():
            digest.update(str(p.relative_to(root)).encode())
            digest.update(p.read_bytes())
    return digest.hexdigest()


def test_layout_and_round_trip(dataset: Path) -> None:
    for split, n in SIZES.items():
        for kind, suffix in (("images", ".png"), ("masks", ".png"), ("labels", ".txt")):
            assert len(list((dataset / kind / split).glob(f"*{suffix}"))) == n
        ds = SyntheticData(dataset, split, transform=imagenet_transform())
        assert len(ds) == n
        x, label, mask = ds[0]
        assert isinstance(x, torch.Tensor) and x.shape == (3, 48, 64)
        assert 0 <= label < len(CLASSES)
        assert mask.dtype == bool and mask.shape == (48, 64) and mask.any()
        # the template's own reading code gives the same mask
        raw = np.array(PIL.Image.open(ds.files(0)[1]), dtype=bool)
        np.testing.assert_array_equal(raw, mask)
        arrays = ds.arrays()
        assert arrays.images.shape == (n, 48, 64, 3) and arrays.images.dtype == np.uint8
        assert arrays.masks.shape == (n, 48, 64)
        # normalisation and its inverse are exact on uint8 images
        np.testing.assert_array_equal(
            to_uint8_images(normalize_uint8(arrays.images)), arrays.images
        )


def test_mask_is_exactly_the_pasted_region(dataset: Path, bank: BackgroundBank) -> None:
    """Outside the mask the image equals the stretched background; inside it is changed."""
    from shapes.backgrounds import stretch
    from shapes.generate import _background_order

    arrays = SyntheticData(dataset, "test").arrays()
    bg_rng = np.random.default_rng(np.random.SeedSequence([0, 0xBA]))
    _background_order(SIZES["train"] + SIZES["val"], len(bank.train), bg_rng)
    order = _background_order(SIZES["test"], len(bank.test), bg_rng)
    for i in range(len(arrays)):
        bg = stretch(bank.test[order[i]], (48, 64))
        outside = ~arrays.masks[i]
        np.testing.assert_array_equal(arrays.images[i][outside], bg[outside])


def test_same_seed_same_bytes(tmp_path: Path, bank: BackgroundBank) -> None:
    a = generate_dataset(tmp_path / "a", bank, GenerationConfig(sizes=SIZES), progress=False)
    b = generate_dataset(tmp_path / "b", bank, GenerationConfig(sizes=SIZES), progress=False)
    c = generate_dataset(
        tmp_path / "c", bank, GenerationConfig(seed=1, sizes=SIZES), progress=False
    )
    assert _tree_digest(a) == _tree_digest(b)
    assert dataset_fingerprint(a) == dataset_fingerprint(b) != dataset_fingerprint(c)


def test_backgrounds_do_not_cross_splits(tmp_path: Path) -> None:
    """Constant-colour backgrounds: test images only ever show test-pool colours."""
    train = np.repeat(np.arange(1, 21, dtype=np.uint8)[:, None, None, None], 32, 1)
    train = np.broadcast_to(train, (20, 32, 32, 3)).copy()
    test = (
        np.full((5, 32, 32, 3), 200, np.uint8) + np.arange(5, dtype=np.uint8)[:, None, None, None]
    )
    bank = BackgroundBank(train, test, "const")
    root = generate_dataset(tmp_path / "d", bank, GenerationConfig(sizes=SIZES), progress=False)
    for split in ("train", "val", "test"):
        arr = SyntheticData(root, split).arrays()
        corner_values = {int(v) for v in arr.images[:, :, :, 0][~arr.masks]}
        if split == "test":
            assert corner_values <= set(range(200, 205))
        else:
            assert corner_values <= set(range(1, 21))
    trainval = [SyntheticData(root, s).arrays() for s in ("train", "val")]
    # train and val together use 17 of the 20 backgrounds without repeats
    firsts = [int(a.images[i][~a.masks[i]][0, 0]) for a in trainval for i in range(len(a))]
    assert len(set(firsts)) == len(firsts)


def test_shape_geometry() -> None:
    for name in CLASSES:
        m = shape_mask(name, 16, 32, 24, (48, 64))
        ys, xs = np.nonzero(m)
        assert 12 <= xs.max() - xs.min() + 1 <= 17 and 12 <= ys.max() - ys.min() + 1 <= 17
        assert m[24, 32], name  # the centre pixel is inside every shape
    square = shape_mask("square", 10, 32, 24, (48, 64))
    assert square.sum() == 100
    assert (
        shape_mask("triangle", 16, 32, 24, (48, 64))[17:24].sum()
        < shape_mask("triangle", 16, 32, 24, (48, 64))[24:31].sum()
    )  # apex up
    cut = shape_mask("circle", 16, 2, 24, (48, 64))
    assert 0 < cut.sum() < shape_mask("circle", 16, 32, 24, (48, 64)).sum()
    with pytest.raises(ValueError, match="hexagon"):
        shape_mask("hexagon", 10, 5, 5, (48, 64))


def test_style_ranges(tmp_path: Path, bank: BackgroundBank) -> None:
    style = ShapeStyle(size_range=(8, 8), alpha_range=(1, 1), border_overhang=0.0)
    root = generate_dataset(
        tmp_path / "s", bank, GenerationConfig(sizes={"test": 10}, style=style), progress=False
    )
    arr = SyntheticData(root, "test").arrays()
    assert (arr.masks.sum((1, 2)) <= 64).all() and (arr.masks.sum((1, 2)) >= 20).all()


def test_failed_generation_leaves_nothing(
    tmp_path: Path, bank: BackgroundBank, monkeypatch
) -> None:
    import shapes.generate as gen

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(gen, "_write_split", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_dataset(tmp_path / "ds", bank, GenerationConfig(sizes=SIZES), progress=False)
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite(dataset: Path, bank: BackgroundBank) -> None:
    with pytest.raises(FileExistsError, match=str(dataset)):
        generate_dataset(dataset, bank, GenerationConfig(sizes=SIZES), progress=False)


# --- bad input: each error names the offending file ------------------------------------------


def test_missing_split_folder(dataset: Path) -> None:
    import shutil

    shutil.rmtree(dataset / "masks" / "val")
    with pytest.raises(DatasetError, match=r"masks.*val"):
        SyntheticData(dataset, "val")


def test_mismatched_stems(dataset: Path) -> None:
    (dataset / "labels" / "test" / "00002.txt").rename(dataset / "labels" / "test" / "99999.txt")
    with pytest.raises(DatasetError, match=r"00002|99999"):
        SyntheticData(dataset, "test")


def test_unknown_class_name(dataset: Path) -> None:
    (dataset / "labels" / "test" / "00001.txt").write_text("hexagon\n")
    with pytest.raises(DatasetError, match=r"hexagon.*00001\.txt"):
        SyntheticData(dataset, "test")


def test_unreadable_png(dataset: Path) -> None:
    (dataset / "images" / "test" / "00003.png").write_bytes(b"not a png")
    ds = SyntheticData(dataset, "test")
    with pytest.raises(DatasetError, match=r"images/test/00003\.png"):
        ds[3]


def test_mask_size_mismatch(dataset: Path) -> None:
    PIL.Image.fromarray(np.zeros((10, 10), np.uint8)).save(dataset / "masks" / "test" / "00004.png")
    ds = SyntheticData(dataset, "test")
    with pytest.raises(DatasetError, match=r"masks/test/00004\.png"):
        ds[4]


def test_unknown_split(dataset: Path) -> None:
    with pytest.raises(DatasetError, match="holdout"):
        SyntheticData(dataset, "holdout")  # type: ignore[arg-type]


# --- background sources ------------------------------------------------------------------------


def test_npz_backgrounds_split_by_batch(tmp_path: Path) -> None:
    images = np.zeros((6, 32, 32, 3), np.uint8)
    batch = np.array(["data_batch_1"] * 4 + ["test_batch"] * 2)
    np.savez(tmp_path / "bg.npz", images=images, labels=np.zeros(6), batch=batch)
    bank = load_npz(tmp_path / "bg.npz")
    assert len(bank.train) == 4 and len(bank.test) == 2
    np.savez(tmp_path / "bad.npz", pictures=images)
    with pytest.raises(ValueError, match=r"bad\.npz"):
        load_npz(tmp_path / "bad.npz")


def test_folder_backgrounds(tmp_path: Path) -> None:
    for i in range(12):
        PIL.Image.fromarray(np.full((40, 50, 3), i * 20, np.uint8)).save(tmp_path / f"{i}.jpg")
    bank = load_folder(tmp_path)
    assert bank.train.shape[1:] == (32, 32, 3) and len(bank.train) + len(bank.test) == 12
    assert len(bank.test) >= 1


def test_builtin_backgrounds_are_offline_and_disjoint() -> None:
    from shapes.backgrounds import load_builtin

    bank = load_builtin(seed=0, n_train=50, n_test=20)
    assert bank.train.shape == (50, 32, 32, 3) and bank.test.shape == (20, 32, 32, 3)
    assert bank.train.std() > 10  # natural images, not blank


def test_prepare_data_cli(tmp_path: Path) -> None:
    script = Path(__file__).resolve().parents[1] / "scripts" / "prepare_data.py"
    out = tmp_path / "cli"
    args = [
        sys.executable,
        str(script),
        "--out",
        str(out),
        "--train",
        "5",
        "--val",
        "2",
        "--test",
        "3",
    ]
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert len(SyntheticData(out, "test")) == 3
    again = subprocess.run(args, capture_output=True, text=True, check=False)
    assert again.returncode != 0 and "already exists" in again.stderr
    bad = subprocess.run(
        [*args[:2], "--backgrounds", "nowhere.npz", "--out", str(tmp_path / "x")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode != 0 and "nowhere.npz" in bad.stderr


# --- data safety: nothing is deleted that this project did not write --------------------------


def _prepare(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    script = Path(__file__).resolve().parents[1] / "scripts" / "prepare_data.py"
    sizes = ["--train", "2", "--val", "2", "--test", "2"]
    return subprocess.run(
        [sys.executable, str(script), *sizes, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_overwrite_refuses_a_folder_it_did_not_write(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("my notes")
    done = _prepare("--out", str(notes), "--overwrite", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: refusing to replace --out {notes}: it has no ")
    assert "generation.json marker" in done.stderr and "Traceback" not in done.stderr
    assert (notes / "todo.txt").read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


@pytest.mark.parametrize("spelled", [".", "..", "home"])
def test_overwrite_refuses_the_working_directory_its_parents_and_home(
    tmp_path: Path, spelled: str
) -> None:
    import os

    work = tmp_path / "repo" / "sub"
    home = tmp_path / "home"
    for folder in (work, work.parent, home):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "generation.json").write_text('{"generator": "camsam.shapes"}')
        (folder / "keep.txt").write_text("keep")
    script = Path(__file__).resolve().parents[1] / "scripts" / "prepare_data.py"
    out = str(home) if spelled == "home" else spelled
    done = subprocess.run(
        [sys.executable, str(script), "--out", out, "--overwrite", "--test", "2"],
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HOME": str(home)},
    )
    assert done.returncode == 2, done.stderr
    assert "the working directory, one of its parents, the home folder or /" in done.stderr
    for folder in (work, work.parent, home):
        assert (folder / "keep.txt").exists()


def test_overwrite_replaces_a_generated_dataset(tmp_path: Path) -> None:
    assert _prepare("--out", "ds", cwd=tmp_path).returncode == 0
    (tmp_path / "ds" / "images" / "test" / "00000.png").write_bytes(b"changed")
    done = _prepare("--out", "ds", "--overwrite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert len(SyntheticData(tmp_path / "ds", "test").arrays()) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_killed_generation_is_cleaned_by_the_next_run(tmp_path: Path, bank: BackgroundBank) -> None:
    """A generation killed with SIGKILL leaves its temporary folder; the next one removes it."""
    code = (
        "import os, signal, sys\n"
        "import numpy as np\n"
        "import shapes.generate as gen\n"
        "from shapes.backgrounds import BackgroundBank\n"
        "real = gen._write_split\n"
        "def write_then_die(*a, **k):\n"
        "    real(*a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "gen._write_split = write_then_die\n"
        "pool = np.zeros((4, 32, 32, 3), np.uint8)\n"
        "gen.generate_dataset(sys.argv[1], BackgroundBank(pool, pool, 'zeros'),\n"
        "                     gen.GenerationConfig(sizes={'test': 3}), progress=False)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(tmp_path / "ds")], check=False)
    assert killed.returncode == -9
    leftovers = list(tmp_path.glob(".ds.tmp-*"))
    assert len(leftovers) == 1 and any(leftovers[0].rglob("*.png"))
    generate_dataset(tmp_path / "ds", bank, GenerationConfig(sizes=SIZES), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def _zip_dataset(tmp_path: Path, bank: BackgroundBank) -> str:
    import shutil

    src = generate_dataset(
        tmp_path / "zipsrc" / "synthetic_shapes",
        bank,
        GenerationConfig(sizes={"train": 2, "test": 2}),
        progress=False,
    )
    (src / "generation.json").unlink()  # the course's zip has no marker
    archive = shutil.make_archive(str(tmp_path / "course"), "zip", src.parent)
    return Path(archive).as_uri()


def test_download_refuses_to_replace_without_overwrite_or_marker(
    tmp_path: Path, bank: BackgroundBank
) -> None:
    from common.errors import UserError
    from shapes.download import download_course_dataset

    url = _zip_dataset(tmp_path, bank)
    out = download_course_dataset(tmp_path / "course_ds", url=url)
    assert len(SyntheticData(out, "test")) == 2 and (out / "generation.json").is_file()
    with pytest.raises(FileExistsError, match="already exists"):
        download_course_dataset(out, url=url)
    assert download_course_dataset(out, url=url, overwrite=True) == out  # marked: replaced
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("mine")
    with pytest.raises(UserError, match=r"generation\.json marker"):
        download_course_dataset(notes, url=url, overwrite=True)
    assert (notes / "todo.txt").read_text() == "mine"
    assert not list(tmp_path.glob(".*.tmp-*"))


# --- silent wrong results: validated instead of guessed ---------------------------------------


def test_channels_first_npz_is_transposed_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (20, 32, 32, 3), dtype=np.uint8)
    np.savez(tmp_path / "chw.npz", images=hwc.transpose(0, 3, 1, 2))
    np.savez(tmp_path / "hwc.npz", images=hwc)
    with caplog.at_level(logging.WARNING):
        chw_bank = load_npz(tmp_path / "chw.npz")
    assert "channels-first" in caplog.text and "chw.npz" in caplog.text
    hwc_bank = load_npz(tmp_path / "hwc.npz")
    np.testing.assert_array_equal(chw_bank.train, hwc_bank.train)


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.zeros((4, 32, 32, 3), np.float32), "must be uint8"),
        (np.zeros((4, 32, 32, 4), np.uint8), r"\(N, H, W, 3\)"),
        (np.zeros((4, 32, 32), np.uint8), r"\(N, H, W, 3\)"),
        (np.zeros((0, 32, 32, 3), np.uint8), "N >= 1"),
    ],
)
def test_bad_npz_backgrounds_are_refused(tmp_path: Path, array: np.ndarray, match: str) -> None:
    from common.errors import UserError

    np.savez(tmp_path / "bg.npz", images=array)
    with pytest.raises(UserError, match=match):
        load_npz(tmp_path / "bg.npz")


@pytest.mark.parametrize("content", ["empty", "truncated"])
def test_unreadable_npz_names_the_file(tmp_path: Path, content: str) -> None:
    from common.errors import UserError

    np.savez(tmp_path / "full.npz", images=np.zeros((8, 32, 32, 3), np.uint8))
    data = (tmp_path / "full.npz").read_bytes()
    (tmp_path / "bg.npz").write_bytes(b"" if content == "empty" else data[: len(data) // 2])
    with pytest.raises(UserError, match=r"cannot read backgrounds .*bg\.npz"):
        load_npz(tmp_path / "bg.npz")


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path: Path, dataset: Path) -> None:
    gray8 = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (48, 1))  # 48 x 64
    PIL.Image.fromarray(gray8.astype(np.uint16) * 257).save(dataset / "images/test/00000.png")
    with PIL.Image.open(dataset / "images/test/00000.png") as img:
        assert img.mode.startswith("I;16")
    image, _, _ = SyntheticData(dataset, "test").read_raw(0)
    np.testing.assert_array_equal(np.asarray(image)[..., 0], gray8)
    folder = tmp_path / "bgs"
    folder.mkdir()
    for i in range(3):
        PIL.Image.fromarray(np.full((32, 32), 128 * 257, np.uint16)).save(folder / f"{i}.png")
    bank = load_folder(folder)
    assert np.abs(np.concatenate([bank.train, bank.test]).astype(int) - 128).max() <= 1


def test_images_of_unknown_range_are_refused() -> None:
    from shapes.imageio import ImageFormatError, to_rgb8

    for array in (np.zeros((4, 4), np.int32), np.zeros((4, 4), np.float32)):
        with pytest.raises(ImageFormatError, match=r"x\.tif: pixel mode .* no known value range"):
            to_rgb8(PIL.Image.fromarray(array), "x.tif")


def test_check_files_finds_corrupt_and_truncated_pngs_without_decoding(dataset: Path) -> None:
    ds = SyntheticData(dataset, "test")
    ds.check_files()
    png = dataset / "images/test/00002.png"
    data = png.read_bytes()
    png.write_bytes(data[: len(data) - 30])  # truncated: the header still reads
    with pytest.raises(DatasetError, match=r"cannot read image .*images/test/00002\.png"):
        ds.check_files()
    png.write_bytes(b"garbage")
    with pytest.raises(DatasetError, match=r"images/test/00002\.png"):
        ds.check_files()
    png.write_bytes(data)
    PIL.Image.fromarray(np.zeros((10, 10), np.uint8)).save(dataset / "masks/test/00004.png")
    with pytest.raises(DatasetError, match=r"masks/test/00004\.png is 10 x 10"):
        ds.check_files()
