"""cam.overlay and cam.visualize: JET colours, the template's blend and the Grad-CAM figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import PIL.Image
import pytest

from cam import heatmap_to_rgb, overlay_heatmap
from cam.visualize import COLUMN_TITLES, gradcam_figure


def _examples(n: int = 3, h: int = 48, w: int = 64):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, h, w, 3), dtype=np.uint8)
    yy, xx = np.mgrid[:h, :w]
    heatmaps = np.stack(
        [np.exp(-((yy - 10 * i - 10) ** 2 + (xx - 20) ** 2) / 60.0) for i in range(n)]
    ).astype(np.float32)
    masks = heatmaps > 0.5
    return images, heatmaps, masks


def test_heatmap_colours_follow_jet() -> None:
    rgb = heatmap_to_rgb(np.array([[0.0, 0.5, 1.0]], dtype=np.float32))
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8
    low, mid, high = rgb[0].astype(int)
    assert low[2] > 100 and low[0] == 0 and low[1] == 0  # dark blue
    assert mid[1] > 200  # green-ish middle
    assert high[0] > 100 and high[2] == 0 and high[1] == 0  # dark red
    # Batched input colours each map the same way as one at a time.
    _, heat, _ = _examples(2)
    np.testing.assert_array_equal(heatmap_to_rgb(heat)[1], heatmap_to_rgb(heat[1]))


def test_overlay_equals_template_pil_blend() -> None:
    images, heat, _ = _examples(1)
    ours = overlay_heatmap(images[0], heat[0], alpha=0.3)
    pil = PIL.Image.blend(
        PIL.Image.fromarray(images[0]), PIL.Image.fromarray(heatmap_to_rgb(heat[0])), alpha=0.3
    )
    assert np.abs(ours.astype(int) - np.asarray(pil).astype(int)).max() <= 1


def test_overlay_rejects_mismatched_inputs() -> None:
    images, heat, _ = _examples(1)
    with pytest.raises(ValueError, match="does not match"):
        overlay_heatmap(images[0], heat[0][:, :10])
    with pytest.raises(ValueError, match="uint8"):
        overlay_heatmap(images[0].astype(np.float32), heat[0])
    with pytest.raises(ValueError, match="alpha"):
        overlay_heatmap(images[0], heat[0], alpha=1.5)


def test_gradcam_figure_writes_an_image(tmp_path: Path) -> None:
    images, heat, masks = _examples(3)
    fig = gradcam_figure(images, heat, masks, titles=["test #3", "test #10", "test #42"])
    axes = fig.get_axes()
    assert len(axes) == 12
    assert [ax.get_title() for ax in axes[:4]] == list(COLUMN_TITLES)
    named = gradcam_figure(images, heat, masks, heatmap_name="LayerCAM")
    assert (
        named.axes[1].get_title() == "LayerCAM heatmap"
        and named.axes[0].get_title() == (COLUMN_TITLES[0])
    )
    assert axes[4].get_ylabel() == "test #10"
    path = tmp_path / "gradcam.png"
    fig.savefig(path, dpi=50)
    with PIL.Image.open(path) as saved:
        pixels = np.asarray(saved.convert("RGB"))
    assert pixels.shape[0] > 50 and pixels.shape[1] > 200
    assert pixels.std() > 10  # not a blank canvas


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ("heatmaps", "heatmaps shape"),
        ("masks", "masks shape"),
        ("titles", "titles"),
        ("images", "uint8"),
    ],
)
def test_gradcam_figure_rejects_bad_inputs(change: str, match: str) -> None:
    images, heat, masks = _examples(2)
    kwargs = {"images": images, "heatmaps": heat, "masks": masks, "titles": ["a", "b"]}
    kwargs[change] = {
        "heatmaps": heat[:, :-1],
        "masks": masks[:1],
        "titles": ["only one"],
        "images": images.astype(np.float32),
    }[change]
    with pytest.raises(ValueError, match=match):
        gradcam_figure(**kwargs)
