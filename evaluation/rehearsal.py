"""Stand-ins that let the tests and ``scripts/rehearse_colab.py`` run the submission notebook as
on a fresh Colab runtime, without the internet: a local HTTP server serves the course zip (a
generated dataset) and a random-weight SAM checkpoint, ImageNet weights are a stand-in file in a
private ``TORCH_HOME``, and a ``sitecustomize`` hides the project's packages.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import torch

from sam_pipelines.checkpoint import file_md5

# Removes the editable install's import hooks (pip install -e .), so that the project's
# packages cannot be imported: what a fresh runtime without the repository looks like.
SITECUSTOMIZE = """
import sys

def _kept(hook):
    return "__editable__" not in getattr(hook, "__module__", "")

sys.meta_path[:] = [f for f in sys.meta_path if _kept(f)]
sys.path_hooks[:] = [h for h in sys.path_hooks if _kept(h)]
sys.path_importer_cache.clear()
"""

# Runs a notebook's code cells one by one in IPython (magics included) and writes each cell's
# wall time; the first failing cell stops the run with its traceback.
CELL_RUNNER = r"""
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
notebook, timings = sys.argv[1], sys.argv[2]
cells = json.load(open(notebook))["cells"]
shell = InteractiveShell.instance()
rows, header = [], ""
for index, cell in enumerate(cells):
    source = "".join(cell["source"])
    if cell["cell_type"] == "markdown":
        heads = [l for l in source.splitlines() if l.startswith("#")]
        header = heads[-1].lstrip("# ").strip() if heads else header
        continue
    start = time.perf_counter()
    result = shell.run_cell(source, store_history=False)
    rows.append({"cell": index, "section": header, "seconds": time.perf_counter() - start})
    json.dump(rows, open(timings, "w"), indent=1)
    if not result.success:
        sys.exit(f"cell {index} ({header}) failed")
"""


def stage_fresh_runtime(work: Path, sizes: Mapping[str, int]) -> str:
    """Write under ``work`` what a rehearsed runtime needs; returns the SAM checkpoint's MD5.

    - ``served/synthetic_shapes.zip``: a course-layout zip
      (``synthetic_shapes/{images,masks,labels}/<split>/...``) of a look-alike dataset generated
      in ``dataset/`` with ``sizes`` images per split (builtin backgrounds, seed 0);
    - ``served/sam_vit_b_01ec64.pth``: a randomly initialised SAM ViT-B state dict (seed 0);
    - random ResNet-18 weights where torchvision looks for the ImageNet file under
      ``torch_home/`` (the template's constructor then loads them without a download);
    - ``fresh_runtime/sitecustomize.py``, which hides the project (see :func:`fresh_runtime_env`).
    """
    import torchvision
    from segment_anything import sam_model_registry

    from shapes.backgrounds import load_backgrounds
    from shapes.generate import GenerationConfig, generate_dataset

    served, root = work / "served", work / "dataset" / "synthetic_shapes"
    served.mkdir(parents=True, exist_ok=True)
    generate_dataset(root, load_backgrounds("builtin"), GenerationConfig(sizes=dict(sizes), seed=0))
    with zipfile.ZipFile(served / "synthetic_shapes.zip", "w") as zf:
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.parts[-3] in ("images", "masks", "labels"):
                zf.write(path, path.relative_to(root.parent))
    torch.manual_seed(0)
    torch.save(sam_model_registry["vit_b"]().state_dict(), served / "sam_vit_b_01ec64.pth")
    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    imagenet = work / "torch_home" / "hub" / "checkpoints" / Path(weights.url).name
    imagenet.parent.mkdir(parents=True, exist_ok=True)
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), imagenet)
    (work / "fresh_runtime").mkdir(parents=True, exist_ok=True)
    (work / "fresh_runtime" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return file_md5(served / "sam_vit_b_01ec64.pth")


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) while the block runs; yields the
    base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def fresh_runtime_env(
    base_url: str, work: Path, sam_md5: str, limit: int | None = None, extra_path: str = ""
) -> dict[str, str]:
    """Environment variables of the runtime that :func:`stage_fresh_runtime` staged in ``work``
    (added to ``os.environ``): the server's URLs, the checkpoint's MD5, ``TORCH_HOME``,
    ``PYTHONPATH`` (the import blocker, then ``extra_path``) and ``CAMSAM_LIMIT``."""
    blocker = str(work / "fresh_runtime")
    env = {
        "PYTHONPATH": os.pathsep.join(p for p in (blocker, extra_path) if p),
        "TORCH_HOME": str(work / "torch_home"),
        "CAMSAM_DATA_URL": f"{base_url}/synthetic_shapes.zip",
        "CAMSAM_SAM_URL": f"{base_url}/sam_vit_b_01ec64.pth",
        "CAMSAM_SAM_MD5": sam_md5,
        "MPLBACKEND": "Agg",
    }
    if limit is not None:
        env["CAMSAM_LIMIT"] = str(limit)
    return env


#: The notebook's offline switches, removed from the rehearsed runtime's environment.
OFFLINE_SWITCHES = ("CAMSAM_SMOKE", "CAMSAM_OFFLINE", "CAMSAM_SEGMENTER", "SAM_CHECKPOINT")


def run_notebook_cells(notebook: Path, cwd: Path, env: Mapping[str, str], timings: Path) -> list:
    """Run the notebook's code cells in a fresh IPython process in ``cwd``, with ``os.environ``
    less :data:`OFFLINE_SWITCHES` plus ``env``; returns ``[{"cell", "section", "seconds"}]``,
    also written to ``timings``. A failed cell raises a RuntimeError with the output's end."""
    environ = {k: v for k, v in os.environ.items() if k not in OFFLINE_SWITCHES} | dict(env)
    done = subprocess.run(
        [sys.executable, "-c", CELL_RUNNER, str(notebook), str(timings)],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    sys.stdout.write(done.stdout[-20000:])
    if done.returncode != 0:
        raise RuntimeError(f"the notebook failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return json.loads(timings.read_text())
