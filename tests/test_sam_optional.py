"""``import sam_pipelines`` works without segment-anything installed; only building the ``sam``
back end needs it, and then the error says what to install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BLOCK_SEGMENT_ANYTHING = """
import sys

class _NoSegmentAnything:
    def find_spec(self, name, path=None, target=None):
        if name == "segment_anything" or name.startswith("segment_anything."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoSegmentAnything())
"""

PROBE = """
import numpy as np
import sam_pipelines
from sam_pipelines import BasicSamPipeline, SegmenterError, SamSegmenter
from sam_pipelines.flood_fill import FloodFillSegmenter

masks = BasicSamPipeline(FloodFillSegmenter()).segment_uint8(
    np.full((1, 48, 64, 3), 90, np.uint8), np.array([[[10, 10]]]), np.array([[1]])
)
print("classical ok", masks[0].mask.shape)
try:
    SamSegmenter(checkpoint="whatever.pth")
except SegmenterError as err:
    print("sam:", err)
"""


def test_sam_pipelines_imports_without_segment_anything(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCK_SEGMENT_ANYTHING)
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "classical ok (48, 64)" in done.stdout
    assert "sam: the sam back end needs the segment-anything package" in done.stdout
    assert "pip install segment-anything" in done.stdout
