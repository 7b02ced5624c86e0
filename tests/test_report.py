"""scripts/make_report.py and plots.report on a small fake result set (and, when a LaTeX
engine is installed, on the committed results in figures/)."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from fake_results import FakeStrategy, argmax_points, inner_points, write_fake_results

from common.errors import UserError
from evaluation.results import load_results
from plots.examples import TEMPLATE_INDICES, strategy_examples_figure
from plots.make import FigureOptions, make_figures, report_examples_name
from plots.report import (
    MAX_DISCUSSION_SENTENCES,
    MAX_PAGES,
    ReportEditedError,
    ReportOptions,
    bg_hit_rate,
    build_report_tex,
    count_pdf_pages,
    discussion_sentences,
    find_engine,
    find_figures,
    row_family,
    segmenter_facts,
    table_sections,
    where_misses,
    write_report,
)
from plots.style import save_figure

REPO = Path(__file__).resolve().parents[1]
N_IMAGES = 45  # > 42, so every template index of the Grad-CAM check exists
COLAB = "https://colab.research.google.com/drive/1AbC-report_test"
APPROACHES = ("multiscale_heat", "multiscale_heat_bg")


def load_report_inputs(folder: Path) -> object:
    """The results folder as write_report reads it (metrics.json only required)."""
    return load_results(folder, required=("metrics.json",))


NO_ENGINE = "no LaTeX engine (pdflatex or tectonic) on the PATH: the compile check needs one"


def _with_corner(fn):
    def points(cams: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        coords, _ = fn(cams, masks)
        n = len(coords)
        coords = np.concatenate([coords, np.zeros((n, 1, 2), np.int64)], axis=1)
        return coords, np.tile(np.array([1, 0], np.int64), (n, 1))

    return points


STRATEGIES = (
    FakeStrategy(
        "multiscale_heat", "fg", "Fake segments scored by heat; one fg point.", argmax_points
    ),
    FakeStrategy("multiscale_heat [select=cam]", "fg", "a mask-selection variant", argmax_points),
    FakeStrategy(
        "multiscale_heat_bg",
        "fg+bg",
        "Fake segment point plus a corner bg.",
        _with_corner(argmax_points),
    ),
    FakeStrategy("cam_argmax", "fg", "One fg point at the CAM maximum.", argmax_points),
    FakeStrategy("gmm", "fg+bg", "Fake GMM split of the heat.", _with_corner(argmax_points)),
    FakeStrategy(
        "public_centroid", "fg", "Published: centroid of CAM > 0.6.", inner_points, "published"
    ),
    FakeStrategy("oracle_interior", "oracle", "Oracle: innermost pixel.", inner_points),
    FakeStrategy("oracle_worse", "oracle", "Oracle: the CAM maximum.", argmax_points),
    FakeStrategy("supervised_fpn", "supervised", "supervised model", None),
)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Fake results with the report's figures drawn next to them."""
    folder = write_fake_results(
        tmp_path_factory.mktemp("results"), n_images=N_IMAGES, seed=3, strategies=STRATEGIES
    )
    make_figures(folder, folder, FigureOptions(only=("report", "gradcam_check")))
    results = load_results(folder)
    for name in APPROACHES:  # the full examples figures, the fallback of the compact one
        save_figure(strategy_examples_figure(results, name), folder, f"examples_{name}")
    return folder


def _copy_results(src: Path, dst: Path, settings: dict | None = None) -> Path:
    """A copy of the results files (no figures), with settings updated."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in ("metrics.json", "per_image.csv", "predictions.npz"):
        shutil.copyfile(src / name, dst / name)
    if settings:
        meta = json.loads((dst / "metrics.json").read_text())
        meta["settings"].update(settings)
        (dst / "metrics.json").write_text(json.dumps(meta))
    return dst


def _tex(results: Path, tmp_path: Path, **options) -> tuple[str, list[str]]:
    outcome = write_report(
        results, tmp_path / "report", ReportOptions(**options), compile_pdf=False, force=True
    )
    return outcome.tex.read_text(), outcome.warnings


# ------------------------------------------------------------------------------ rows
def test_table_sections_pick_approaches_baselines_published_and_best_oracle(
    results_dir: Path,
) -> None:
    inputs = load_report_inputs(results_dir)
    sections = dict(table_sections(inputs.rows, APPROACHES))
    names = {title: [r["strategy"] for r in rows] for title, rows in sections.items()}
    assert names["Approaches"] == list(APPROACHES)
    assert set(names["CAM-only baselines"]) == {"cam_argmax", "gmm"}
    assert names["Best published strategy"] == ["public_centroid"]
    oracle = names["Oracle (reads the ground-truth mask)"]
    best = max((r for r in inputs.rows if r["kind"] == "oracle"), key=lambda r: r["miou"])
    assert oracle == [best["strategy"]]
    every = [n for ns in names.values() for n in ns]
    assert "multiscale_heat [select=cam]" not in every and "supervised_fpn" not in every
    with pytest.raises(UserError, match=r"nope.*known: .*multiscale_heat"):
        table_sections(inputs.rows, ("nope", "multiscale_heat_bg"))


def test_no_published_row_leaves_the_section_out(results_dir: Path) -> None:
    rows = [r for r in load_report_inputs(results_dir).rows if r["strategy"] != "public_centroid"]
    assert "Best published strategy" not in dict(table_sections(rows, APPROACHES))
    flagged = [{**r, "family": "published"} if r["strategy"] == "cam_argmax" else r for r in rows]
    names = {t: [r["strategy"] for r in rs] for t, rs in table_sections(flagged, APPROACHES)}
    assert names["Best published strategy"] == ["cam_argmax"]  # the saved family decides
    assert "cam_argmax" not in names["CAM-only baselines"]  # and no row is listed twice


def test_row_family_is_the_saved_one_else_the_registered_strategys() -> None:
    assert row_family({"strategy": "cam_argmax", "family": "published"}) == "published"
    assert row_family({"strategy": "cam_argmax"}) == "heat"  # saved before rows carried it
    assert row_family({"strategy": "multiscale_heat [select=cam]"}) == "image"
    assert row_family({"strategy": "published_cam_centroid", "family": ""}) == "published"
    assert row_family({"strategy": "oracle_interior"}) == "oracle"
    assert row_family({"strategy": "fpn_resnet50"}) is None


def test_background_hit_rate_falls_back_to_what_the_row_has() -> None:
    assert bg_hit_rate({"bg_hit_rate": 0.25, "bg_correct_rate": 0.1}) == 0.25
    assert bg_hit_rate({"bg_correct_rate": 0.9}) == pytest.approx(0.1)
    assert bg_hit_rate({"bg_correct_rate": None}) is None


def test_segmenter_kind_comes_from_the_results() -> None:
    rows = [{"kind": "fg", "segmenter": "flood_fill"}]
    facts = segmenter_facts({"segmenter": "flood_fill (classical)"}, rows)
    assert facts.kind == "classical" and not facts.is_sam
    sam = segmenter_facts(
        {"segmenter": "sam vit_b", "segmenter_kind": "sam"}, [{"kind": "fg", "segmenter": "sam"}]
    )
    assert sam.is_sam and "SAM" in sam.phrase()
    # a classical name is never SAM, whatever the kind field says
    assert not segmenter_facts({"segmenter_kind": "sam"}, rows).is_sam
    assert segmenter_facts({"segmenter": "x"}, [{"kind": "fg", "segmenter": "x"}]).kind == (
        "unknown"
    )


def test_report_examples_figure_has_one_row_per_approach(results_dir: Path) -> None:
    from plots.examples import EXAMPLE_COLUMNS, approach_rows_figure

    results = load_results(results_dir)
    fig = approach_rows_figure(results, APPROACHES, 3)
    assert len(fig.axes) == len(APPROACHES) * len(EXAMPLE_COLUMNS)
    assert [ax.get_ylabel().split("\n")[0] for ax in fig.axes[:: len(EXAMPLE_COLUMNS)]] == list(
        APPROACHES
    )
    assert "fake-segmenter" in fig._suptitle.get_text()
    with pytest.raises(KeyError, match="nope"):
        approach_rows_figure(results, ["nope"], 3)
    with pytest.raises(ValueError):
        approach_rows_figure(results, APPROACHES, N_IMAGES)


# ------------------------------------------------------------------------------ the text
def test_tex_holds_every_required_part(results_dir: Path, tmp_path: Path) -> None:
    tex, warnings = _tex(results_dir, tmp_path, colab_url=COLAB, author="A. Student")
    out = tmp_path / "report"
    # one self-contained file, standard packages only, 11 pt with 2 cm margins
    assert r"\documentclass[11pt,a4paper]{article}" in tex and "margin=2cm" in tex
    packages = set(re.findall(r"\\usepackage(?:\[[^]]*\])?\{([^}]+)\}", tex))
    assert packages == {"geometry", "graphicx", "booktabs", "hyperref"}
    # the compact figures, copied next to the .tex
    for name in ("report_gradcam.pdf", f"{report_examples_name(APPROACHES)}.pdf"):
        assert rf"\includegraphics[width=\linewidth]{{{name}}}" in tex or name in tex
        assert (out / name).is_file()
    assert warnings == []
    assert "images " + ", ".join(map(str, TEMPLATE_INDICES)) in tex
    # both approaches, with the strategies' own descriptions
    inputs = load_report_inputs(results_dir)
    for name in APPROACHES:
        assert inputs.row(name)["description"].replace("_", r"\_") in tex
    assert "Approach 1: foreground points only" in tex
    assert "Approach 2: foreground and background points" in tex
    # segmenter, classifier and dataset as the results record them
    assert "fake-segmenter" in tex and "90.0 \\% test accuracy" in tex
    assert "<fake in memory>" not in tex and r"\textless{}fake in memory\textgreater{}" in tex
    # the table: every section, no variant, no supervised row
    for title in ("Approaches", "CAM-only baselines", "Best published strategy", "Oracle"):
        assert rf"\emph{{{title}" in tex
    assert "select=cam" not in tex and "supervised\\_fpn" not in tex
    assert "Foreground points" in tex and "Background points" in tex and "mIoU" in tex
    # the discussion is marked as a draft, and the Colab link and author are there
    assert "Discussion (draft)" in tex and "edit before submitting" in tex
    assert rf"\url{{{COLAB}}}" in tex and "A. Student" in tex
    # the heat-map method by its name (the fake results record Grad-CAM)
    assert "Grad-CAM points as" in tex and "Grad-CAM (gradcam at layer2[-1])" in tex


@pytest.mark.parametrize(
    "config, name",
    [
        ({"cam_method": "layercam"}, "LayerCAM"),
        ({"cam_method": "gradcam++"}, "Grad-CAM++"),
        ({"cam_method": "gradcam"}, "Grad-CAM"),
        ({}, "Grad-CAM"),  # saved before the method was recorded: Grad-CAM was the only one
    ],
)
def test_cam_name_follows_the_recorded_method(config: dict, name: str) -> None:
    from evaluation.results import ComparisonResults

    assert ComparisonResults({"config": config}).cam_name == name


def test_numbers_come_from_the_results(results_dir: Path, tmp_path: Path) -> None:
    folder = _copy_results(results_dir, tmp_path / "res")
    meta = json.loads((folder / "metrics.json").read_text())
    for row in meta["rows"]:
        if row["strategy"] == "multiscale_heat_bg":
            row.update(miou=0.61234, iou_std=0.0777, bg_hit_rate=0.0432, bg_distance_px=23.456)
        if row["strategy"] == "gmm":  # a row saved before the background numbers existed
            row.pop("bg_hit_rate", None)
            row.pop("bg_distance_px", None)
            row["bg_correct_rate"] = 0.75
    (folder / "metrics.json").write_text(json.dumps(meta))
    tex, _ = _tex(folder, tmp_path)
    line = next(x for x in tex.splitlines() if x.startswith(r"\texttt{multiscale\_heat\_bg}"))
    assert "61.2 $\\pm$ 7.8" in line and "4.3" in line and "23.46" in line
    gmm = next(x for x in tex.splitlines() if x.startswith(r"\texttt{gmm}"))
    assert " 25.0 " in gmm and gmm.count("--") == 1  # bg hit 1 - 0.75; no bg distance saved


def test_discussion_has_at_most_five_sentences_built_from_numbers(results_dir: Path) -> None:
    inputs = load_report_inputs(results_dir)
    sections = table_sections(inputs.rows, APPROACHES)
    seg = segmenter_facts(inputs.settings, inputs.rows)
    sentences = discussion_sentences(inputs, APPROACHES, sections, seg)
    assert 3 <= len(sentences) <= MAX_DISCUSSION_SENTENCES
    assert all(s.endswith(".") for s in sentences)
    fg = inputs.row("multiscale_heat")
    assert f"{100 * fg['fg_hit_rate']:.1f} %" in sentences[0]
    assert f"{100 * fg['miou']:.1f}" in sentences[0]
    assert "not SAM" in sentences[-1] or "SAM" in sentences[-1]


def test_misses_are_counted_on_misclassified_images_when_the_prediction_is_recorded() -> None:
    # 4 images: hits 1, 0, 0, 1; the classifier gets images 1 and 3 wrong
    rows = [
        {"strategy": "s", "index": str(i), "class": "star", "fg_hit_rate": str(h), "iou": "0.5"}
        | {"predicted": "star" if i in (0, 2) else "circle"}
        for i, h in enumerate([1, 0, 0, 1])
    ]
    sentence = where_misses(rows, "s", 0.5)
    assert sentence is not None
    assert "misses the shape in 2 of 4 images (star 2)" in sentence
    assert "1 of the misses are on the 2 images whose class the classifier gets wrong (50.0 %" in (
        sentence
    )
    older = [{k: v for k, v in r.items() if k != "predicted"} for r in rows]
    assert "classifier" not in (where_misses(older, "s", 0.5) or "")


def test_no_sam_claim_from_a_classical_back_end(results_dir: Path, tmp_path: Path) -> None:
    classical = {"segmenter": "flood_fill (classical; 8-connected)", "segmenter_kind": "classical"}
    folder = _copy_results(results_dir, tmp_path / "classical", classical)
    for path in results_dir.glob("report_*.pdf"):
        shutil.copy(path, folder)
    tex, _ = _tex(folder, tmp_path)
    assert "Note: these results are not SAM's" in tex
    assert "as SAM prompts" not in tex and "prompt SAM" not in tex
    # the segmenter's name is in the caption of every table and figure
    captions = re.findall(r"(?:Figure|Table)~\\the(?:figure|table): (.*)", tex)
    captions += re.findall(r"\\caption\{(.*)\}", tex)
    assert len(captions) == 3
    for caption in captions:
        assert "fake-segmenter" in caption and "not SAM" in caption


def test_a_sam_run_is_named_sam_and_has_no_note(results_dir: Path, tmp_path: Path) -> None:
    folder = _copy_results(
        results_dir, tmp_path / "sam", {"segmenter": "sam vit_b", "segmenter_kind": "sam"}
    )
    meta = json.loads((folder / "metrics.json").read_text())
    for row in meta["rows"]:
        if row["kind"] in ("fg", "fg+bg", "oracle"):
            row["segmenter"] = "sam"
    (folder / "metrics.json").write_text(json.dumps(meta))
    tex, _ = _tex(folder, tmp_path)
    assert "not SAM" not in tex and "Note:" not in tex
    assert "Its points prompt SAM (sam vit\\_b)" in tex


def test_missing_figures_give_a_placeholder_and_name_the_command(
    results_dir: Path, tmp_path: Path
) -> None:
    folder = _copy_results(results_dir, tmp_path / "bare")
    tex, warnings = _tex(folder, tmp_path)
    assert tex.count("Figure missing") == 3  # Grad-CAM and one per approach
    assert "make\\_figures.py" in tex
    assert any("make_figures.py --only report" in w for w in warnings)
    figures, _, _ = find_figures(results_dir, APPROACHES)
    assert figures["gradcam"].compact and figures["examples"].compact


def test_full_figures_are_the_fallback(results_dir: Path, tmp_path: Path) -> None:
    folder = _copy_results(results_dir, tmp_path / "full")
    for name in ("gradcam_check", "examples_multiscale_heat", "examples_multiscale_heat_bg"):
        shutil.copy(results_dir / f"{name}.pdf", folder)
    figures, sources, warnings = find_figures(folder, APPROACHES)
    assert not figures["gradcam"].compact and figures["gradcam"].files == ("gradcam_check.pdf",)
    assert figures["examples"].files == (
        "examples_multiscale_heat.pdf",
        "examples_multiscale_heat_bg.pdf",
    )
    assert len(sources) == 3 and len(warnings) == 2
    tex = build_report_tex(load_report_inputs(folder), figures, ReportOptions())
    assert "first image of each class" in tex and "Figure missing" not in tex


def test_no_engine_still_writes_the_tex(
    results_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plots.report.find_engine", lambda: None)
    outcome = write_report(results_dir, tmp_path / "r", ReportOptions(colab_url=COLAB))
    assert outcome.compiled is None and outcome.tex.is_file()
    assert any("neither pdflatex nor tectonic" in w for w in outcome.warnings)


def test_an_edited_report_is_not_overwritten(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    write_report(results_dir, out, compile_pdf=False)
    write_report(results_dir, out, compile_pdf=False)  # unedited: rewritten
    tex = out / "report.tex"
    tex.write_text(tex.read_text().replace("Discussion (draft)", "Discussion"))
    with pytest.raises(ReportEditedError, match="--force"):
        write_report(results_dir, out, compile_pdf=False)
    assert "Discussion (draft)" not in tex.read_text()
    write_report(results_dir, out, compile_pdf=False, force=True)
    assert "Discussion (draft)" in tex.read_text()


def test_page_count_falls_back_to_the_latex_log(tmp_path: Path) -> None:
    pdf, log = tmp_path / "x.pdf", tmp_path / "x.log"
    pdf.write_bytes(b"not a pdf")
    log.write_text("Output written on x.pdf (2 pages, 12345 bytes).\n")
    assert count_pdf_pages(pdf, log) == 2
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj\n")
    assert count_pdf_pages(pdf, None) == 1


# ------------------------------------------------------------------------------ the script
def _script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_report.py"), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
    )


def _main(*args: str) -> int:
    """make_report.py's exit status, run in this process (faster than a subprocess)."""
    spec = importlib.util.spec_from_file_location(
        "make_report", REPO / "scripts" / "make_report.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as info:
        module.run(module.main, module.build_parser(), list(args), module.USER_ERRORS)
    return info.value.code


def test_script_without_results_names_the_command(tmp_path: Path) -> None:
    proc = _script("--results", str(tmp_path / "none"), "--out", str(tmp_path / "r"))
    assert proc.returncode == 2 and "compare_strategies.py" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "colab", ["not a url", "file:///etc/passwd", "http://colab.research.google.com/x"]
)
def test_script_refuses_a_bad_colab_link(
    results_dir: Path, tmp_path: Path, colab: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r"
    assert _main("--results", str(results_dir), "--out", str(out), "--colab", colab) == 2
    assert "not a Colab link" in capsys.readouterr().err and not out.exists()


def test_script_refuses_an_unknown_approach(
    results_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ("--results", str(results_dir), "--out", str(tmp_path / "r"), "--approaches", "a", "b")
    assert _main(*args) == 2
    err = capsys.readouterr().err
    assert "no result row for approach(es) a, b" in err and "multiscale_heat" in err


@pytest.mark.skipif(find_engine() is None, reason=NO_ENGINE)
def test_report_compiles_to_at_most_two_pages(results_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = _script("--results", str(results_dir), "--out", str(out), "--colab", COLAB)
    assert proc.returncode == 0, proc.stderr
    assert (out / "report.pdf").is_file() and "page(s)" in proc.stdout
    pages = count_pdf_pages(out / "report.pdf", out / "report.log")
    assert pages is not None and 1 <= pages <= MAX_PAGES


@pytest.mark.skipif(find_engine() is None, reason=NO_ENGINE)
def test_report_of_the_committed_results_fits_two_pages(tmp_path: Path) -> None:
    if not (REPO / "figures" / "metrics.json").is_file():
        pytest.skip("figures/metrics.json is not in this checkout")
    outcome = write_report(REPO / "figures", tmp_path / "report", ReportOptions(colab_url=COLAB))
    assert outcome.compiled is not None and outcome.compiled.pages is not None
    assert outcome.compiled.pages <= MAX_PAGES
    assert "Overfull" not in (tmp_path / "report" / "report.log").read_text()


def test_cam_description_names_the_offset_the_maps_were_moved_by() -> None:
    from evaluation.results import ComparisonResults

    config = {"cam_method": "layercam", "target_layer": "layer2[-1]"}
    moved = {"dx": 2.84, "dy": 0.78, "how": "auto"}
    described = ComparisonResults({"config": config, "heat_offset": moved}).cam_description
    assert described == "layercam at layer2[-1], moved back by (2.84, 0.78) px"
    unmoved = {"dx": 0.0, "dy": 0.0, "how": "none"}
    for settings in ({"config": config}, {"config": config, "heat_offset": unmoved}):
        assert ComparisonResults(settings).cam_description == "layercam at layer2[-1]"
