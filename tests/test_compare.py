"""The main job end to end on a tiny dataset, and its results writers."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evaluation.tables import best_automatic, latex_table

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "compare_strategies.py"


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("compare")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "prepare_data.py"),
            "--out",
            str(work / "ds"),
            "--train",
            "30",
            "--val",
            "10",
            "--test",
            "12",
        ],
        check=True,
        capture_output=True,
    )
    done = _run(
        "--data",
        str(work / "ds"),
        "--classifier-preset",
        "tiny",
        "--segmenter",
        "flood_fill",
        "--out",
        str(work / "out"),
        "--checkpoints",
        str(work / "ck"),
        "--cache-dir",
        str(work / "cache"),
        cwd=work,
    )
    return work, done


def test_cli_writes_all_outputs(tiny_run) -> None:
    work, done = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    out = work / "out"
    for name in ("metrics.json", "metrics.csv", "per_image.csv", "metrics.tex", "predictions.npz"):
        assert (out / name).stat().st_size > 0, name
    result = json.loads((out / "metrics.json").read_text())
    settings, rows = result["settings"], result["rows"]
    assert settings["dataset"]["n_images"] == 12 and len(settings["dataset"]["fingerprint"]) == 16
    assert settings["config"]["segmenter"] == "flood_fill"
    assert settings["config"]["device"] == "auto" and settings["device"].startswith("cpu")
    assert settings["segmentation"]["path"] == "batched"  # classical: one predict per set
    assert "test_accuracy" in json.dumps(settings["classifier"])
    # --heat-offset auto: the tiny val split (10 images) is too small to measure the offset
    assert settings["config"]["heat_offset"] == "auto"
    offset = settings["heat_offset"]
    assert (offset["dx"], offset["dy"]) == (0.0, 0.0) and "only 10 maps" in offset["how"]
    from prompting import get_strategy, list_strategies

    plain = {r["strategy"] for r in rows if "[" not in r["strategy"]}
    assert set(list_strategies()) <= plain
    for row in rows:
        assert row["segmenter"] == "flood_fill" and row["n_images"] == 12
        assert "sam" not in row["segmenter"].lower()
        assert row["kind"] in ("fg", "fg+bg", "oracle", "supervised")
        assert 0.0 <= row["miou"] <= 1.0
        if row["kind"] == "fg":
            assert row["bg_correct_rate"] is None
        if row["kind"] != "supervised":  # each strategy row names what its strategy reads
            base = get_strategy(row["strategy"].split(" [")[0])
            assert row["family"] == base.family
    with (out / "per_image.csv").open() as f:
        per_image = list(csv.DictReader(f))
    assert len(per_image) == 12 * len(rows)
    # the summary's mean IoU is the mean of the per-image IoUs
    first = rows[0]["strategy"]
    ious = [float(r["iou"]) for r in per_image if r["strategy"] == first]
    assert abs(sum(ious) / len(ious) - rows[0]["miou"]) < 1e-9
    assert "flood_fill" in done.stdout and "mIoU" in done.stdout


def test_per_image_rows_carry_opacity_and_contrast(tiny_run) -> None:

    from metrics import shape_contrasts
    from shapes import SyntheticData
    from shapes.params import read_opacity

    work, done = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    with (work / "out" / "per_image.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["strategy"] == "segment_heat"]
    arrays = SyntheticData(work / "ds", "test").arrays()
    alpha = read_opacity(work / "ds", "test", arrays.names)
    contrast = shape_contrasts(arrays.images, arrays.masks)
    for r in rows:
        i = int(r["index"])
        assert float(r["opacity"]) == pytest.approx(alpha[i], abs=1e-4)
        assert float(r["contrast"]) == pytest.approx(contrast[i], abs=1e-3)


def test_per_image_rows_carry_the_classifier_prediction(tiny_run) -> None:
    from classifier.loading import load_classifier_checkpoint
    from classifier.train import predict_classes
    from evaluation.predictions import Predictions
    from shapes import CLASSES, SyntheticData

    work, done = tiny_run
    assert done.returncode == 0, done.stderr[-3000:]
    settings = json.loads((work / "out" / "metrics.json").read_text())["settings"]
    model, _ = load_classifier_checkpoint(Path(settings["classifier"]["checkpoint"]), None)
    arrays = SyntheticData(work / "ds", "test").arrays()
    expected = predict_classes(model, arrays.images)
    with (work / "out" / "per_image.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["strategy"] == "segment_heat"]
    assert [r["predicted"] for r in rows] == [CLASSES[int(k)] for k in expected]
    saved = Predictions.load(work / "out" / "predictions.npz")
    assert saved.predicted is not None and saved.predicted.tolist() == expected.tolist()
    accuracy = settings["dataset"]["classifier_accuracy"]
    assert accuracy == pytest.approx(float((expected == arrays.labels).mean()))
    assert f"classifier accuracy on these images: {100 * accuracy:.1f} %" in done.stderr
    # a warning exactly when that accuracy is not above chance (1 in 5)
    from classifier.chance import chance_warning

    warning = chance_warning(accuracy, len(arrays), f"these {len(arrays)} test images")
    assert (warning is not None) == ("not above chance" in done.stderr)
    if warning is not None:
        assert f"warning: {warning}" in done.stderr


def test_same_seed_same_numbers(tiny_run) -> None:
    work, first = tiny_run
    assert first.returncode == 0
    again = _run(
        "--data",
        str(work / "ds"),
        "--classifier-preset",
        "tiny",
        "--segmenter",
        "flood_fill",
        "--out",
        str(work / "out2"),
        "--classifier-checkpoint",
        str(next((work / "ck").rglob("*.pt"))),
        "--cache-dir",
        str(work / "cache2"),
        "--strategies",
        "cam_*",
        "oracle_*",
        cwd=work,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    a = {r["strategy"]: r for r in json.loads((work / "out/metrics.json").read_text())["rows"]}
    b = {r["strategy"]: r for r in json.loads((work / "out2/metrics.json").read_text())["rows"]}
    plain_b = {k for k in b if "[" not in k}
    assert plain_b and all(k.startswith(("cam_", "oracle_")) for k in plain_b)
    for name in plain_b:
        assert a[name]["miou"] == b[name]["miou"]
        assert a[name]["fg_hit_rate"] == b[name]["fg_hit_rate"]


def test_classifier_data_scores_a_fresh_draw_with_another_datasets_classifier(tiny_run) -> None:
    work, first = tiny_run
    assert first.returncode == 0
    draw = work / "draw"
    prepare = [sys.executable, str(ROOT / "scripts" / "prepare_data.py"), "--out", str(draw)]
    sizes = ["--seed", "1", "--train", "0", "--val", "0", "--test", "8"]
    subprocess.run([*prepare, *sizes], check=True, capture_output=True)
    common = ["--data", str(draw), "--segmenter", "flood_fill", "--strategies", "segment_heat"]
    common += ["--classifier-preset", "tiny", "--checkpoints", str(work / "ck"), "--no-variants"]
    common += ["--no-supervised", "--cache-dir", str(work / "cache")]
    done = _run(*common, "--classifier-data", str(work / "ds"), "--out", str(work / "o3"), cwd=work)
    assert done.returncode == 0, done.stderr[-2000:]
    settings = json.loads((work / "o3" / "metrics.json").read_text())["settings"]
    trained = json.loads((work / "out" / "metrics.json").read_text())["settings"]
    # the cached classifier of ds, not one trained anew
    assert settings["classifier"]["checkpoint"] == trained["classifier"]["checkpoint"]
    assert settings["classifier"]["fingerprint"] != settings["dataset"]["fingerprint"]
    assert settings["dataset"]["n_images"] == 8 and settings["dataset"]["classifier_accuracy"] >= 0
    # the offset is the classifier's, measured on its own dataset's val images, as in ds's run
    assert settings["heat_offset"] == trained["heat_offset"]
    # make_figures' feature maps load that classifier too, though the draw is another dataset
    from evaluation.results import load_results
    from plots.make import FigureOptions, load_classifier

    assert load_classifier(load_results(work / "o3"), FigureOptions()) is not None
    both = _run(
        *common,
        "--classifier-data",
        str(work / "ds"),
        "--classifier-checkpoint",
        str(next((work / "ck").rglob("*.pt"))),
        "--out",
        str(work / "o4"),
        cwd=work,
    )
    assert both.returncode != 0 and "give one" in both.stderr
    alone = _run(*common, "--out", str(work / "o5"), cwd=work)  # no train split to train on
    assert alone.returncode != 0 and "--classifier-data" in alone.stderr


def test_unknown_names_fail_with_the_list(tmp_path: Path) -> None:
    bad = _run("--strategies", "no_such_strategy", "--data", str(tmp_path / "none"), cwd=tmp_path)
    assert bad.returncode != 0 and "cam_argmax" in bad.stderr
    bad = _run(
        "--segmenter",
        "nonesuch",
        "--strategies",
        "center",
        "--data",
        str(tmp_path / "none"),
        "--limit",
        "1",
        cwd=tmp_path,
    )
    assert bad.returncode != 0 and "flood_fill" in bad.stderr


def test_list_prints_registries(tmp_path: Path) -> None:
    done = _run("--list", cwd=tmp_path)
    assert done.returncode == 0
    assert "cam_argmax" in done.stdout and "flood_fill" in done.stdout
    listed = done.stdout.split("segmenters:")[0].splitlines()[1:]
    families = {line.split()[0]: line.split()[2] for line in listed}
    assert families["published_cam_centroid_snap"] == "published"
    assert families["multiscale_heat"] == "image" and families["oracle_interior"] == "oracle"


def test_latex_table_bolds_best_automatic_and_sets_apart_oracles() -> None:
    rows = [
        {
            "strategy": "a_x",
            "kind": "fg",
            "segmenter": "s",
            "n_images": 2,
            "fg_hit_rate": 0.5,
            "bg_hit_rate": None,
            "fg_distance_px": 3.0,
            "miou": 0.6,
            "iou_std": 0.1,
        },
        {
            "strategy": "b",
            "kind": "fg+bg",
            "segmenter": "s",
            "n_images": 2,
            "fg_hit_rate": 0.9,
            "bg_hit_rate": 0.1,
            "bg_distance_px": 20.0,
            "fg_distance_px": 1.0,
            "miou": 0.8,
            "iou_std": 0.2,
        },
        {
            "strategy": "o",
            "kind": "oracle",
            "segmenter": "s",
            "n_images": 2,
            "fg_hit_rate": 1.0,
            "bg_hit_rate": 0.0,
            "bg_distance_px": 30.0,
            "fg_distance_px": 0.0,
            "miou": 0.95,
            "iou_std": 0.0,
        },
    ]
    assert best_automatic(rows) == {
        "fg_hit_rate": 0.9,
        "fg_distance_px": 1.0,
        "bg_hit_rate": 0.1,  # lower is better for background points
        "bg_distance_px": 20.0,  # larger is better for background points
        "miou": 0.8,
    }
    tex = latex_table(rows, "caption with_underscore")
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"a\_x" in tex
    assert r"\textbf{80.0} $\pm$ 20.0" in tex
    assert r"BG hit (\%) & BG dist (px)" in tex and r"\textbf{10.0} & \textbf{20.00}" in tex
    assert r"\textbf{95.0}" not in tex  # oracles never bold
    assert tex.index("Oracle") < tex.index(r"\texttt{o}")
