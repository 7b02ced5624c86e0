"""The template's Grad-CAM check, drawn from the saved CAMs with `cam.visualize.gradcam_figure`."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from cam.visualize import gradcam_figure
from evaluation.results import ComparisonResults
from plots.style import first_of_each_class, pick_indices, report_style, set_title
from shapes import CLASSES

#: The test indices the assignment's Grad-CAM cell shows.
TEMPLATE_INDICES = (3, 10, 42)


@report_style
def gradcam_check_figure(
    results: ComparisonResults,
    indices: Sequence[int] = TEMPLATE_INDICES,
    per_class: bool = True,
    panel_size: float = 1.45,
) -> Figure:
    """Input, JET heat map, overlay and ground truth for ``indices`` of the evaluated split and
    (``per_class``) the first image of each class, from the CAMs saved in ``predictions.npz``;
    ``panel_size`` is one panel's width in inches (4 a row). Indices past the end of the split
    are skipped; the figure's footer says which.

    Raises:
        ValueError: no index is left to show.
    """
    pred = results.predictions
    kept, skipped = pick_indices(indices, results.n_images)
    rows = [(i, f"#{i} {CLASSES[int(pred.classes[i])]}") for i in kept]
    if per_class:
        rows += [
            (i, f"first {CLASSES[int(pred.classes[i])]}: #{i}")
            for i in first_of_each_class(pred.classes, len(CLASSES))
        ]
    if not rows:
        raise ValueError(
            f"none of the indices {list(indices)} exists in a split of {results.n_images} images"
        )
    idx = [i for i, _ in rows]
    arrays = (pred.images[idx], pred.cams[idx], pred.gt_masks[idx])
    fig = gradcam_figure(*arrays, [t for _, t in rows], panel_size=panel_size)
    fig.set_size_inches(fig.get_size_inches()[0], fig.get_size_inches()[1] + 0.45)
    set_title(
        fig,
        f"Grad-CAM check: {results.cam_description}, CAM of the predicted class\n"
        f"{results.caption(segmenter=False)}",
    )
    if skipped:
        fig.supxlabel(
            f"skipped index(es) {', '.join(map(str, skipped))}: the split has only "
            f"{results.n_images} images",
            fontsize=7,
        )
    return fig
