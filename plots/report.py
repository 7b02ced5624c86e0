"""The assignment's 1-2 page report, drafted as one LaTeX file from a saved comparison.

Everything it states comes from the results folder (``metrics.json``, optionally
``per_image.csv`` and ``predictions.npz``) or from the figures ``scripts/make_figures.py`` drew;
a run whose segmenter is not SAM says so in a boxed note and in every caption.
:func:`build_report_tex` is pure; :func:`write_report` copies the figures and compiles with
:func:`compile_latex`: ``pdflatex`` is preferred (run twice, so references resolve), then
``tectonic`` (which reruns by itself). Neither is a Python dependency: without one,
:func:`find_engine` returns None and the caller keeps the ``.tex`` file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from evaluation.predictions import Predictions
from evaluation.results import COMPARE_COMMAND, ComparisonResults, load_results
from evaluation.submission import REPORT_COMMAND, validate_colab_url
from evaluation.tables import AUTOMATIC_KINDS, sort_rows, tex_escape
from metrics import shape_contrasts
from plots.examples import TEMPLATE_INDICES
from plots.make import DEFAULT_APPROACHES, REPORT_GRADCAM, file_stem, report_examples_name
from prompting import get_strategy, list_strategies

#: Marks a mask-selection / refinement variant row ("segment_heat [select=cam]").
VARIANT_MARK = " [select="
#: Segmenter names of the weight-free classical back ends (never SAM).
CLASSICAL_SEGMENTERS = ("flood_fill", "random_walker", "watershed")
MAX_PAGES = 2
MAX_DISCUSSION_SENTENCES = 5
FIGURES_COMMAND = "python scripts/make_figures.py"
#: Share of images counted as "low contrast" (the lowest quantile of shape-background contrast).
LOW_CONTRAST_SHARE = 0.25


# ------------------------------------------------------------------------------ rows
def _missing(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def bg_hit_rate(row: dict[str, Any]) -> float | None:
    """Share of background points inside the mask (lower is better): ``bg_hit_rate`` when the
    row has it, else ``1 - bg_correct_rate``; None without background points."""
    if not _missing(row.get("bg_hit_rate")):
        return float(row["bg_hit_rate"])
    if not _missing(row.get("bg_correct_rate")):
        return 1.0 - float(row["bg_correct_rate"])
    return None


def row_family(row: dict[str, Any]) -> str | None:
    """The strategy family of a result row (one of ``prompting.FAMILIES``): its ``family`` as
    the comparison saved it, else (results saved before rows carried it) the registered
    strategy's of that name (a variant row's base strategy); None for a name not registered
    and for models without points."""
    if not _missing(row.get("family")):
        return str(row["family"])
    name = str(row["strategy"]).split(VARIANT_MARK)[0]
    return get_strategy(name).family if name in list_strategies() else None


def table_sections(
    rows: Sequence[dict[str, Any]], approaches: Sequence[str]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The compact table's non-empty sections: the approaches, the CAM-only baselines (our
    strategies that read the heat map alone, :func:`row_family` ``heat``), the best published
    strategy (family ``published``), the best oracle. Mask-selection / refinement variant rows
    are left out.

    Raises:
        UserError: an approach has no row (the message lists the known strategies).
    """
    plain = [r for r in rows if VARIANT_MARK not in r["strategy"]]
    by_name = {r["strategy"]: r for r in plain}
    missing = [a for a in approaches if a not in by_name]
    if missing:
        raise UserError(
            f"no result row for approach(es) {', '.join(missing)}; known: {', '.join(by_name)}"
        )
    chosen = [by_name[a] for a in approaches]
    others = [r for r in plain if r["strategy"] not in approaches]
    baselines = sort_rows(
        [r for r in others if row_family(r) == "heat" and r["kind"] in AUTOMATIC_KINDS]
    )
    scored = [r for r in others if r.get("miou") is not None]
    published = [r for r in scored if row_family(r) == "published"]
    oracles = [r for r in scored if r["kind"] == "oracle"]
    by_miou = itemgetter("miou")
    sections = [
        ("Approaches", chosen),
        ("CAM-only baselines", baselines),
        ("Best published strategy", [max(published, key=by_miou)] if published else []),
        ("Oracle (reads the ground-truth mask)", [max(oracles, key=by_miou)] if oracles else []),
    ]
    return [(title, section) for title, section in sections if section]


# ------------------------------------------------------------------------------ setup facts
@dataclass(frozen=True)
class SegmenterFacts:
    """The recorded segmenter: short ``name`` (``"flood_fill"``, ``"sam"``) from the rows, the
    settings' full ``description``, ``kind`` (``"sam"``, ``"classical"`` or ``"unknown"``)."""

    name: str
    description: str
    kind: str

    @property
    def is_sam(self) -> bool:
        """Only a run recorded as SAM may be presented as SAM."""
        return self.kind == "sam"

    def phrase(self) -> str:
        """How the text names it: ``"SAM (vit_b)"``, ``"the classical flood_fill back end (not
        SAM)"`` or ``"the segmenter x (kind not recorded)"``."""
        if self.is_sam:
            return f"SAM ({self.description})" if self.description != self.name else "SAM"
        if self.kind == "classical":
            return f"the classical {self.name} back end (not SAM)"
        return f"the segmenter {self.name} (its kind is not recorded)"


def segmenter_facts(settings: dict[str, Any], rows: Sequence[dict[str, Any]]) -> SegmenterFacts:
    """Name, description and kind of the run's segmenter (``settings["segmenter_kind"]`` when
    recorded; else a classical name means classical, anything else is unknown)."""
    description = str(settings.get("segmenter", "unknown"))
    names = [
        r["segmenter"] for r in rows if r.get("kind") in AUTOMATIC_KINDS and r.get("segmenter")
    ]
    name = Counter(names).most_common(1)[0][0] if names else description.split(" ")[0]
    kind = str(settings.get("segmenter_kind") or "")
    classical = name.split(" ")[0] in CLASSICAL_SEGMENTERS  # never SAM, whatever else says so
    if classical or kind not in ("sam", "classical"):
        kind = "classical" if classical else "unknown"
    return SegmenterFacts(name, description, kind)


def classifier_phrase(settings: dict[str, Any]) -> str:
    """The classifier as recorded: checkpoint file, recipe, weights, accuracy."""
    c = settings.get("classifier", {})
    weights, accuracy = c.get("imagenet_weights"), c.get("test_accuracy")
    parts = [
        c.get("checkpoint") and f"checkpoint {Path(str(c['checkpoint'])).name}",
        c.get("recipe") and f"recipe {c['recipe']}",
        weights is False and "trained from scratch (no ImageNet weights)",
        weights is True and "fine-tuned from ImageNet weights",
        accuracy is not None and f"{100 * float(accuracy):.1f} % test accuracy",
    ]
    return ", ".join(p for p in parts if p) or "not recorded"


def dataset_phrase(inputs: ComparisonResults) -> str:
    """e.g. ``"data/bench (fingerprint 19b1...), test split, 500 images"``."""
    d = inputs.settings.get("dataset", {})
    text = str(d.get("path", "unknown dataset"))
    if d.get("fingerprint"):
        text += f" (fingerprint {d['fingerprint']})"
    text += f", {inputs.split} split"
    if inputs.n_images:
        text += f", {inputs.n_images} images"
    return text


def approach_description(row: dict[str, Any]) -> str:
    """The strategy's own description: the one the run recorded, else the registry's."""
    if row.get("description"):
        return str(row["description"])
    try:
        return get_strategy(row["strategy"]).description
    except (KeyError, ValueError):
        return "(no description recorded)"


# ------------------------------------------------------------------------------ numbers
def pct(value: float | None) -> str:
    """A 0..1 fraction as a percentage with one decimal (``"--"`` when missing)."""
    return "--" if _missing(value) else f"{100 * float(value):.1f}"


def px(value: float | None) -> str:
    """A distance in pixels with two decimals (``"--"`` when missing)."""
    return "--" if _missing(value) else f"{float(value):.2f}"


def _tt(name: str) -> str:
    return rf"\texttt{{{tex_escape(name)}}}"


def compact_table(sections: Sequence[tuple[str, list[dict[str, Any]]]], caption: str) -> str:
    """A booktabs table (7 columns, fits an A4 text width at 2 cm margins): strategy, kind,
    foreground hit rate and distance, background hit rate and distance, mean IoU +- std. Set in
    the text flow (not a float), caption above, kept on one page."""
    lines = [
        r"\par\medskip\noindent\begin{minipage}{\linewidth}",
        r"\refstepcounter{table}\label{tab:metrics}",
        rf"{{\small Table~\thetable: {caption}\par}}\smallskip",
        r"\centering\small",
        r"\setlength{\tabcolsep}{4.5pt}",
        r"\begin{tabular}{llrrrrr}",
        r"\toprule",
        r" & & \multicolumn{2}{c}{Foreground points} & \multicolumn{2}{c}{Background points}"
        r" & \\",
        r"\cmidrule(lr){3-4}\cmidrule(lr){5-6}",
        r"Strategy & Kind & hit (\%) $\uparrow$ & dist (px) $\downarrow$ & hit (\%) $\downarrow$"
        r" & dist (px) $\uparrow$ & mIoU $\pm$ std (\%) \\",
    ]
    for title, rows in sections:
        lines += [r"\midrule", rf"\multicolumn{{7}}{{l}}{{\emph{{{tex_escape(title)}}}}} \\"]
        for r in rows:
            miou = pct(r.get("miou"))
            if not _missing(r.get("iou_std")) and miou != "--":
                miou += rf" $\pm$ {pct(r['iou_std'])}"
            cells = [_tt(r["strategy"]), tex_escape(r["kind"]), pct(r.get("fg_hit_rate"))]
            cells += [px(r.get("fg_distance_px")), pct(bg_hit_rate(r))]
            lines.append(" & ".join([*cells, px(r.get("bg_distance_px")), miou]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{minipage}\par\medskip"]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ discussion
def where_misses(
    per_image: Sequence[dict[str, str]],
    strategy: str,
    miou: float | None,
    predictions: Predictions | None = None,
) -> str | None:
    """One sentence on where ``strategy``'s foreground points miss the shape (per class; on
    images the classifier gets wrong, when ``per_image`` records its ``predicted`` class; with
    ``predictions``, also on shapes cut by the image border and in the lowest-contrast
    :data:`LOW_CONTRAST_SHARE` of the images by :func:`metrics.shape_contrasts`, the measure of
    ``per_image.csv``'s ``contrast`` column), or None when ``per_image`` has no hit values for it.
    """
    rows = [
        r for r in per_image if r["strategy"] == strategy and r.get("fg_hit_rate") not in ("", None)
    ]
    if not rows:
        return None
    missed = {int(r["index"]): float(r["fg_hit_rate"]) < 1.0 for r in rows}
    misses, n = sum(missed.values()), len(rows)
    if misses == 0:
        lost = "" if miou is None else f" ({100 * (1 - miou):.1f} percentage points of IoU)"
        return (
            f"Every foreground point of {strategy} lands on the shape, so what is lost{lost} "
            "comes from the masks, not from the points."
        )
    by_class = Counter(r["class"] for r in rows if missed[int(r["index"])])
    counts = ", ".join(f"{c} {k}" for c, k in by_class.most_common())
    parts = [f"{strategy} misses the shape in {misses} of {n} images ({counts})"]
    wrong = {int(r["index"]): r["predicted"] != r["class"] for r in rows if r.get("predicted")}
    if len(wrong) == n:  # results written before the column existed have none
        n_wrong = sum(wrong.values())
        on_wrong = sum(missed[i] and wrong[i] for i in wrong)
        parts.append(
            f"{on_wrong} of the misses are on the {n_wrong} images whose class the classifier "
            f"gets wrong ({pct(1 - n_wrong / n)} % accuracy)"
        )
    if predictions is not None and len(predictions.gt_masks) > max(missed):
        idx = np.array(sorted(missed))
        miss = np.array([missed[i] for i in idx])
        gt = predictions.gt_masks[idx]  # touch: a mask pixel on the outer rows or columns
        touch = gt[:, [0, -1], :].any(axis=(1, 2)) | gt[:, :, [0, -1]].any(axis=(1, 2))
        if touch.any():
            parts.append(
                f"{int((miss & touch).sum())} of the misses are shapes cut by the image border "
                f"({100 * touch.sum() / n:.0f} % of the images)"
            )
        contrast = shape_contrasts(predictions.images[idx], predictions.gt_masks[idx])
        if np.isfinite(contrast).any():  # then the lowest contrast is in ``low``
            low = contrast <= np.nanquantile(contrast, LOW_CONTRAST_SHARE)
            parts.append(
                f"{int((miss & low).sum())} are in the lowest-contrast "
                f"{100 * low.sum() / n:.0f} % of the images"
            )
    ious: dict[str, list[float]] = {}
    for r in rows:
        if r.get("iou") not in ("", None):
            ious.setdefault(r["class"], []).append(float(r["iou"]))
    if ious:
        worst = min(ious, key=lambda k: np.mean(ious[k]))
        parts.append(f"the weakest class is {worst} ({pct(np.mean(ious[worst]))} % IoU)")
    return "; ".join(parts) + "."


def discussion_sentences(
    inputs: ComparisonResults,
    approaches: Sequence[str],
    sections: Sequence[tuple[str, list[dict[str, Any]]]],
    segmenter: SegmenterFacts,
) -> list[str]:
    """At most :data:`MAX_DISCUSSION_SENTENCES` plain-text sentences drawn from the measured
    numbers: the first approach's hit rate, distance and IoU against the oracle; where its points
    miss; the best CAM-only baseline; what the background point changed; and the next step."""
    fg, fgbg = (inputs.row(a) for a in approaches[:2])
    oracle = next((rs[0] for t, rs in sections if t.startswith("Oracle")), None)
    baselines = next((rs for t, rs in sections if t == "CAM-only baselines"), [])
    out = []
    first = (
        f"{fg['strategy']} puts its foreground point on the shape in "
        f"{pct(fg.get('fg_hit_rate'))} % of the images ({px(fg.get('fg_distance_px'))} px "
        "from the mask centre on average) and "
        f"reaches {pct(fg.get('miou'))} ± {pct(fg.get('iou_std'))} % mean IoU"
    )
    if oracle is not None:
        first += f", against {pct(oracle.get('miou'))} % with oracle points"
    out.append(first + ".")
    misses = where_misses(inputs.per_image, fg["strategy"], fg.get("miou"), inputs.predictions)
    if misses is not None:
        out.append(misses)
    if baselines:
        best = max(baselines, key=lambda r: r.get("miou") or 0.0)
        out.append(
            f"The heat map alone localises poorly: the best CAM-only baseline, {best['strategy']}, "
            f"hits the shape in {pct(best.get('fg_hit_rate'))} % of the images "
            f"({pct(best.get('miou'))} % mean IoU), so a sharper heat map (e.g. an earlier target "
            "layer) is where CAM-only prompts would gain most."
        )
    if fg.get("miou") is not None and fgbg.get("miou") is not None:
        delta = 100 * (fgbg["miou"] - fg["miou"])
        bg, where = bg_hit_rate(fgbg), ""
        if bg is not None:
            where = f"; its background points fall inside the mask in {pct(bg)} % of the cases"
            if not _missing(fgbg.get("bg_distance_px")):
                where += f" ({px(fgbg['bg_distance_px'])} px from the mask centre on average)"
        change = f"changes the mean IoU by {delta:+.1f} percentage points"
        if abs(delta) < 0.05:
            change = "does not change the mean IoU"
        out.append(f"Adding a background point ({fgbg['strategy']}) {change}{where}.")
    if segmenter.is_sam:
        out.append(
            f"The IoU spread (std {pct(fg.get('iou_std'))} %) points to all-or-nothing failures, "
            "which rejecting masks much larger than the heat map's hot area, or prompting "
            "several foreground points, would address."
        )
    else:
        out.append(
            f"These masks come from {segmenter.phrase()}, so rerunning the comparison with "
            "SAM (--segmenter sam and a SAM checkpoint) must come before any conclusion "
            "about SAM."
        )
    return out[:MAX_DISCUSSION_SENTENCES]


# ------------------------------------------------------------------------------ figures
@dataclass(frozen=True)
class ReportFigure:
    """One figure of the report: the files to include side by side (names inside the report
    folder; None where a file is missing) and whether it is the compact report version."""

    files: tuple[str | None, ...]
    compact: bool


def find_figures(
    figures_dir: Path, approaches: Sequence[str]
) -> tuple[dict[str, ReportFigure], dict[str, Path], list[str]]:
    """Pick the report's figures in ``figures_dir``: the compact ones ``make_figures.py --only
    report`` draws, else the full ``gradcam_check`` and ``examples_<approach>`` figures.

    Returns:
        ({"gradcam": ..., "examples": ...}, {file name: source path to copy}, warnings).
    """
    sources: dict[str, Path] = {}
    warnings: list[str] = []
    compact_cmd = f"{FIGURES_COMMAND} --only report --approaches {' '.join(approaches)}"

    def pick(stem: str) -> str | None:
        files = [stem + ext for ext in (".pdf", ".png") if (figures_dir / (stem + ext)).is_file()]
        if files:
            sources[files[0]] = figures_dir / files[0]
        return files[0] if files else None

    figures: dict[str, ReportFigure] = {}
    examples = [f"examples_{file_stem(a)}" for a in approaches]
    full = {"gradcam": ["gradcam_check"], "examples": examples}
    compact = {"gradcam": REPORT_GRADCAM, "examples": report_examples_name(tuple(approaches))}
    for key, stem in compact.items():
        if file := pick(stem):
            figures[key] = ReportFigure((file,), True)
            continue
        files = tuple(pick(f) for f in full[key])
        figures[key] = ReportFigure(files, False)
        warnings.append(
            f"no {stem}.pdf in {figures_dir}: "
            + (f"using the full {', '.join(full[key])}" if all(files) else "placeholder box(es)")
            + f"; '{compact_cmd}' draws it (from the run's predictions.npz)"
        )
    return figures, sources, warnings


def _graphic(file: str | None, size: str, missing: str) -> str:
    """``\\includegraphics`` of ``file``, or a boxed "Figure missing" naming ``missing``."""
    if file is not None:
        return rf"\includegraphics[{size}]{{{file}}}"
    return (
        rf"\fbox{{\parbox[c][4cm][c]{{0.9\linewidth}}{{\centering\small "
        rf"Figure missing: {tex_escape(missing)}\\ make it with {_tt(FIGURES_COMMAND)}}}}}"
    )


# ------------------------------------------------------------------------------ the document
@dataclass(frozen=True)
class ReportOptions:
    """Choices of ``make_report.py`` (see its ``--help``)."""

    approaches: tuple[str, str] = (DEFAULT_APPROACHES[0], DEFAULT_APPROACHES[1])
    colab_url: str | None = None
    author: str | None = None
    full_table: str = "figures/metrics.tex"


def _sentence_tex(text: str, names: Sequence[str] = ()) -> str:
    """Escape a generated sentence, typesetting ``names`` (strategies), other snake_case words
    and command options (``--segmenter sam``) in typewriter font."""
    known = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    pattern = r"(--[a-z][a-z-]*(?: [a-z_]+)?|\b[a-z]+(?:_[a-z0-9]+)+\b"
    pattern += rf"|(?<![\w-])(?:{known})(?![\w-]))" if known else ")"
    parts = enumerate(re.split(pattern, text))
    return "".join(_tt(p) if i % 2 else tex_escape(p) for i, p in parts).replace("±", r"$\pm$")


#: How the text names each kind of approach.
KIND_LABELS = {"fg": "foreground points only", "fg+bg": "foreground and background points"}


def _preamble(title: str, author: str | None, folder: Path) -> list[str]:
    """Document class, the four packages, compact spacing, and the title block."""
    return [
        f"% report.tex: drafted by {REPORT_COMMAND} from the results in {folder}",
        "% Every number comes from those results; the discussion is a DRAFT to edit.",
        r"\documentclass[11pt,a4paper]{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{graphicx}",
        r"\usepackage{booktabs}",
        r"\usepackage[hidelinks]{hyperref}",
        r"\setlength{\parskip}{0.4em}\setlength{\parindent}{0pt}",
        r"\setlength{\textfloatsep}{10pt plus 2pt minus 2pt}",
        r"\setlength{\floatsep}{8pt plus 2pt minus 2pt}",
        r"\renewcommand{\topfraction}{0.9}\renewcommand{\bottomfraction}{0.8}",
        r"\renewcommand{\textfraction}{0.05}\renewcommand{\floatpagefraction}{0.85}",
        r"\setcounter{totalnumber}{4}",
        r"\makeatletter",
        r"\renewcommand\section{\@startsection{section}{1}{\z@}{-1.6ex plus -0.4ex}{0.6ex}"
        r"{\normalfont\large\bfseries}}",
        r"\makeatother",
        r"\begin{document}",
        r"\begin{center}",
        rf"{{\Large\bfseries {tex_escape(title)}}}\\[0.3em]",
        *([rf"{tex_escape(author)}\\[0.2em]"] if author else []),
        rf"{{\small Drafted from the saved results by {_tt(REPORT_COMMAND)}}}",
        r"\end{center}",
    ]


def _gradcam_beside(
    inputs: ComparisonResults, seg: SegmenterFacts, gradcam: ReportFigure, approaches: Sequence[str]
) -> list[str]:
    """The Grad-CAM figure in a column (wider for the compact figure, 3 rows, than for the full
    check, a row per template index and per class) beside the setup as the results record it
    and each approach in its own words."""
    caption = (
        rf"{tex_escape(inputs.cam_name)} ({tex_escape(inputs.cam_description)}) on "
        rf"{inputs.split} images "
        + ", ".join(str(i) for i in TEMPLATE_INDICES)
        + " (the assignment's check)"
        + ("" if gradcam.compact else " and the first image of each class")
        + r": input, heat map (blue 0, red 1), overlay, ground truth. The heat maps do not "
        rf"depend on the segmenter; the run's segmenter: {tex_escape(seg.name)}"
        + ("" if seg.is_sam else r" (not SAM)")
        + "."
    )
    left = 0.42 if gradcam.compact else 0.33
    lines = [
        rf"\noindent\begin{{minipage}}[t]{{{left}\linewidth}}\vspace{{0pt}}\centering",
        _graphic(gradcam.files[0], r"width=\linewidth", f"{REPORT_GRADCAM}.pdf"),
        r"\refstepcounter{figure}\label{fig:gradcam}",
        rf"{{\small\raggedright Figure~\thefigure: {caption}\par}}",
        r"\end{minipage}\hfill",
        rf"\begin{{minipage}}[t]{{{0.97 - left:.2f}\linewidth}}\vspace{{0pt}}\raggedright",
        r"\section*{Setup}",
        rf"Dataset: {tex_escape(dataset_phrase(inputs))}. "
        rf"Classifier: {tex_escape(classifier_phrase(inputs.settings))}. "
        rf"Heat maps: {tex_escape(inputs.cam_description)}. "
        rf"Segmenter: {tex_escape(seg.description)}"
        + ("" if seg.is_sam else r" --- \textbf{not SAM}")
        + ".",
        "",
        r"\section*{Approaches}",
    ]
    for number, name in enumerate(approaches, 1):
        row = inputs.row(name)
        label = KIND_LABELS.get(row["kind"], row["kind"])
        lines += [
            rf"\textbf{{Approach {number}: {tex_escape(label)}}} ({_tt(name)}, kind "
            rf"{tex_escape(row['kind'])}). {_sentence_tex(approach_description(row), approaches)} "
            rf"Its points prompt {tex_escape(seg.phrase())}.",
            "",
        ]
    return [*lines, r"\end{minipage}", ""]


def _examples_figure(
    examples: ReportFigure, approaches: Sequence[str], seg_caption: str
) -> list[str]:
    """The examples float: the compact figure, or the two full figures side by side."""
    if examples.compact:
        body = _graphic(examples.files[0], r"width=0.9\linewidth", "report examples")
        shown = "one row per approach on the same image"
    else:
        body = r"\hfill".join(
            r"\begin{minipage}[t]{0.49\linewidth}\centering "
            + _graphic(f, r"width=\linewidth", f"examples_{file_stem(a)}.pdf")
            + r"\end{minipage}"
            for f, a in zip(examples.files, approaches, strict=True)
        )
        shown = "the first image of each class, left: approach 1, right: approach 2"
    return [
        r"\begin{figure}[!htb]",
        r"\centering",
        body,
        rf"\caption{{Examples ({shown}): image, heat map, points (foreground green, background "
        rf"red), predicted mask with its IoU, ground truth. {seg_caption}.}}",
        r"\label{fig:examples}",
        r"\end{figure}",
        "",
    ]


def build_report_tex(
    inputs: ComparisonResults, figures: dict[str, ReportFigure], options: ReportOptions
) -> str:
    """The whole ``report.tex`` (11 pt, A4, 2 cm margins; graphicx, booktabs, geometry, hyperref):
    title, the not-SAM note when it applies, the Grad-CAM figure beside the setup and the
    approaches, the metrics table; the examples, the draft discussion, the Colab link, commands.

    Raises:
        UserError: an approach has no row in the results.
    """
    approaches = options.approaches
    sections = table_sections(inputs.rows, approaches)
    seg = segmenter_facts(inputs.settings, inputs.rows)
    note: list[str] = []  # the boxed note of a run whose segmenter is not recorded as SAM
    if not seg.is_sam:
        why = "a segmenter whose kind the results do not record"
        if seg.kind == "classical":
            why = "a classical back end"
        model = inputs.settings.get("config", {}).get("sam_model_type", "vit_b")
        note = [
            r"\noindent\fbox{\parbox{\dimexpr\linewidth-2\fboxsep-2\fboxrule\relax}{",
            rf"\textbf{{Note: these results are not SAM's.}} The masks come from {why}, "
            rf"{_tt(seg.description)}. SAM numbers need a rerun of "
            rf"{_tt(COMPARE_COMMAND + ' --segmenter sam')} with the "
            rf"{_tt(model)} checkpoint, then of this report.}}}}",
            "",
        ]
    not_sam = "" if seg.is_sam else r" (\textbf{not SAM})"
    seg_caption = f"Segmenter: {tex_escape(seg.name)}{not_sam}"
    prompts = "SAM prompts" if seg.is_sam else "segmentation prompts"
    title = f"Segmentation without user input: {inputs.cam_name} points as {prompts}"
    table_caption = (
        rf"Metrics on {tex_escape(dataset_phrase(inputs))}. {seg_caption}. Hit: share of the "
        r"points inside the ground-truth mask (\%); dist: their mean distance to the mask's "
        r"centre of mass (pixels); mIoU: mean IoU of predicted and true masks over the images. "
        r"Arrows show the better direction; -- = no such points, or not saved by the run. The "
        r"full table, with every mask-selection variant, is "
        rf"{_tt(options.full_table)}."
    )
    names = [r["strategy"] for _, rows in sections for r in rows]
    discussion = " ".join(
        _sentence_tex(s, names) for s in discussion_sentences(inputs, approaches, sections, seg)
    )
    link = rf"Colab version of the notebook: \url{{{options.colab_url}}}."
    if not options.colab_url:
        command = _tt(REPORT_COMMAND)
        link = rf"\textbf{{Colab link missing:}} pass \texttt{{--colab URL}} to {command}."
    doc = [
        *_preamble(title, options.author, inputs.folder),
        *note,
        *_gradcam_beside(inputs, seg, figures["gradcam"], approaches),
        compact_table(sections, table_caption),
        "",
        *_examples_figure(figures["examples"], approaches, seg_caption),
        r"\section*{Discussion (draft)}",
        f"% DRAFT: at most {MAX_DISCUSSION_SENTENCES} sentences, each built from the measured "
        "numbers.",
        r"\textit{[Draft generated from the measured numbers: edit before submitting.]} "
        + discussion,
        "",
        r"\section*{Reproduction}",
        r"{\raggedright",
        link,
        rf"Results: {_tt(COMPARE_COMMAND)}; figures: {_tt(FIGURES_COMMAND)}; this report: "
        rf"{_tt(REPORT_COMMAND)}.\par}}",
        r"\end{document}",
        "",
    ]
    return "\n".join(doc)


# ------------------------------------------------------------------------------ LaTeX
#: Engines in order of preference.
ENGINES = ("pdflatex", "tectonic")
#: Seconds one engine run may take.
TIMEOUT_S = 180.0


class LatexError(RuntimeError):
    """The engine failed; the message holds the end of its log."""


@dataclass(frozen=True)
class CompileResult:
    """The ``engine`` that ran, the ``pdf`` it wrote next to the ``.tex`` file and its number of
    ``pages`` (None when it could not be read)."""

    engine: str
    pdf: Path
    pages: int | None


def find_engine() -> str | None:
    """The first of :data:`ENGINES` on the PATH, or None."""
    return next((name for name in ENGINES if shutil.which(name)), None)


def compile_latex(tex: Path, engine: str) -> CompileResult:
    """Compile ``tex`` in its own folder (figures it includes are looked up next to it) with
    ``engine`` (one of :data:`ENGINES`, see :func:`find_engine`) and count the PDF's pages.

    Raises:
        LatexError: a run failed or took over :data:`TIMEOUT_S` (the message ends with its log).
    """
    tex = Path(tex).resolve()
    once = ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    commands = [once, once] if engine == "pdflatex" else [["tectonic", "--keep-logs", tex.name]]
    how = {"cwd": tex.parent, "capture_output": True, "text": True, "errors": "replace"}
    for cmd in commands:
        try:
            proc = subprocess.run(cmd, **how, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise LatexError(f"{engine} did not finish within {TIMEOUT_S:.0f} s") from exc
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
            raise LatexError(f"{engine} failed on {tex} (exit {proc.returncode}):\n{tail}")
    pdf = tex.with_suffix(".pdf")
    if not pdf.is_file():
        raise LatexError(f"{engine} ran but wrote no {pdf}")
    return CompileResult(engine, pdf, count_pdf_pages(pdf, tex.with_suffix(".log")))


def count_pdf_pages(pdf: Path, log: Path | None = None) -> int | None:
    """Pages of ``pdf``: from the LaTeX log's "Output written on X (N pages" line (pdflatex and
    tectonic write it; ``log`` may be None or missing), else the largest ``/Count`` of an
    uncompressed page tree; None when both fail."""
    if log is not None and log.is_file():
        match = re.search(r"Output written on .*?\((\d+) pages?", log.read_text(errors="replace"))
        if match:
            return int(match.group(1))
    counts = re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", Path(pdf).read_bytes())
    return max(int(c) for c in counts) if counts else None


# ------------------------------------------------------------------------------ writing
class ReportEditedError(FileExistsError):
    """``report.tex`` was edited after it was generated; overwriting would lose the edits."""


def checksum_line(body: str) -> str:
    """First line of a generated report.tex: the checksum of the rest (``body``), so that later
    edits can be noticed."""
    return f"% make_report.py checksum: {hashlib.sha256(body.encode()).hexdigest()[:16]}"


@dataclass
class ReportOutcome:
    """What :func:`write_report` did: the ``report.tex`` written, its compilation (None when
    not compiled) and warnings (missing figures, no engine, no Colab link)."""

    tex: Path
    compiled: CompileResult | None
    warnings: list[str]


def write_report(
    results_dir: Path | str,
    out_dir: Path | str,
    options: ReportOptions = ReportOptions(),
    figures_dir: Path | str | None = None,
    compile_pdf: bool = True,
    force: bool = False,
) -> ReportOutcome:
    """Write ``report.tex`` (and copies of the figures it includes, found in ``figures_dir``,
    default ``results_dir``) into ``out_dir``; compile it to ``report.pdf`` when ``compile_pdf``
    and a LaTeX engine is installed. ``force`` overwrites a ``report.tex`` edited by hand.

    Raises:
        ReportEditedError: ``report.tex`` exists and was edited (or not written by this
            function) and ``force`` is off.
        MissingResultsError: no ``metrics.json``.
        UserError: an approach has no row.
        ValueError: the Colab link is not an https:// link to Colab or Google Drive.
        LatexError: the engine failed.
    """
    if options.colab_url:
        options = dataclasses.replace(options, colab_url=validate_colab_url(options.colab_url))
    # per_image.csv and predictions.npz are optional: only the miss analysis reads them
    inputs = load_results(results_dir, required=("metrics.json",))
    out_dir = Path(out_dir)
    figures, sources, warnings = find_figures(
        Path(figures_dir) if figures_dir is not None else inputs.folder, options.approaches
    )
    body = build_report_tex(inputs, figures, options)
    path = out_dir / "report.tex"
    if path.is_file() and not force:
        first, _, old_body = path.read_text().partition("\n")
        if first != checksum_line(old_body):
            raise ReportEditedError(
                f"{path} was edited after it was generated (or not generated here); pass "
                "--force to overwrite it, or --out another folder"
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, src in sources.items():
        shutil.copyfile(src, out_dir / name)
    path.write_text(f"{checksum_line(body)}\n{body}")
    if not options.colab_url:
        warnings.append(f"no Colab link: pass --colab URL to {REPORT_COMMAND}")
    compiled = None
    if compile_pdf:
        if (engine := find_engine()) is None:
            warnings.append(
                "neither pdflatex nor tectonic is on the PATH: wrote report.tex only "
                "(compile it elsewhere, e.g. on Overleaf, with the figures next to it)"
            )
        else:
            compiled = compile_latex(path, engine)
    return ReportOutcome(path, compiled, warnings)
