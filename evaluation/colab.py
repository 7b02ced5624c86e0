"""Setting up a fresh runtime (Google Colab) for the submission notebook: what cannot be had
stops the notebook with a :class:`SetupError` saying what to do.

``CAMSAM_DATA_URL``, ``CAMSAM_SAM_URL`` and ``CAMSAM_SAM_MD5`` replace the official URLs and
checksum (tests). The notebook inlines this module after :mod:`sam_pipelines.checkpoint` and
:mod:`shapes.course_zip`, whose downloaders it uses.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import urllib.error
import urllib.request
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sam_pipelines.checkpoint import resolve_sam_checkpoint
from shapes.course_zip import COURSE_DATA_URL, unpack_course_zip

PROJECT_PACKAGES = ("shapes", "classifier", "sam_pipelines", "evaluation")


class SetupError(RuntimeError):
    """The runtime cannot get what the notebook needs; the message says what to do."""


@dataclass(frozen=True)
class RuntimePlan:
    """How the notebook runs here: ``online`` (True: real dataset, ImageNet weights and SAM;
    False: the project's offline stand-ins) and ``reason``, one sentence the notebook prints."""

    online: bool
    reason: str


def course_data_url(environ: Mapping[str, str] = os.environ) -> str:
    """The course zip's URL: ``CAMSAM_DATA_URL`` when set (tests), else the official one."""
    return environ.get("CAMSAM_DATA_URL") or COURSE_DATA_URL


def network_answers(url: str, timeout: float = 10.0) -> bool:
    """Whether the server of ``url`` answers a HEAD request (any HTTP status counts)."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout):
            return True
    except urllib.error.HTTPError:
        return True  # the server answered, if only with an error status
    except (urllib.error.URLError, OSError):
        return False


def project_importable() -> bool:
    """Whether this project's packages can be imported (a checkout or an installed copy)."""
    return all(importlib.util.find_spec(name) is not None for name in PROJECT_PACKAGES)


def plan_runtime(environ: Mapping[str, str] = os.environ, timeout: float = 10.0) -> RuntimePlan:
    """Decide between the real artefacts and the offline stand-ins.

    Offline when ``CAMSAM_OFFLINE`` or ``CAMSAM_SMOKE`` is set, or when the course server does
    not answer and the project's packages are importable; online when the server answers.

    Raises:
        SetupError: the server does not answer and no offline stand-in is available.
    """
    for name in ("CAMSAM_OFFLINE", "CAMSAM_SMOKE"):
        if environ.get(name, "0").strip().lower() not in ("", "0", "false", "no"):
            return RuntimePlan(False, f"{name} is set: the project's offline stand-ins are used")
    url = course_data_url(environ)
    if network_answers(url, timeout):
        return RuntimePlan(True, f"{url} answers: the course data, ImageNet weights and SAM")
    if project_importable():
        return RuntimePlan(
            False,
            f"{url} does not answer and the project's packages are importable: the offline "
            "stand-ins are used, and every table names its segmenter",
        )
    raise SetupError(
        f"{url} does not answer, so the course dataset and the SAM checkpoint cannot be "
        "downloaded. On Colab: check that the runtime is connected to the internet (Runtime > "
        "Restart session, then Run all). Offline: run the notebook from a checkout of the "
        "repository with CAMSAM_OFFLINE=1 to use its stand-ins."
    )


def ensure_pip_package(module: str, requirement: str) -> str:
    """Make ``module`` importable, pip-installing ``requirement`` alone (segment-anything declares
    no dependencies, so the runtime's torch stays) when it is missing; returns what was done.

    Raises:
        SetupError: pip failed (its output is shown) or the module still cannot be imported.
    """
    if importlib.util.find_spec(module) is not None:
        return f"{module} is installed"
    command = [sys.executable, "-m", "pip", "install", "-q", requirement]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    importlib.invalidate_caches()
    if done.returncode != 0 or importlib.util.find_spec(module) is None:
        raise SetupError(
            f"could not install {requirement} ({' '.join(command)} exited {done.returncode}):\n"
            f"{done.stdout}{done.stderr}\nInstall it by hand (!pip install {requirement}) and "
            "run the notebook again."
        )
    return f"installed {requirement}"


def fetch_sam_checkpoint(
    checkpoint_dir: Path, environ: Mapping[str, str] = os.environ, timeout: float = 60.0
) -> Path:
    """The SAM ViT-B checkpoint in ``checkpoint_dir``, downloaded when it is not there yet
    (to a temporary name, checked against the official MD5 or ``CAMSAM_SAM_MD5``, renamed).

    Raises:
        SetupError: the download or the MD5 check failed; says where to put the file.
    """
    try:
        return resolve_sam_checkpoint(
            "vit_b",
            checkpoint_dir=checkpoint_dir,
            environ={},  # this runtime's checkpoint is the one in checkpoint_dir
            url=environ.get("CAMSAM_SAM_URL") or None,
            md5=environ.get("CAMSAM_SAM_MD5") or None,
            timeout=timeout,
        )
    except RuntimeError as err:
        raise SetupError(f"SAM is needed and its checkpoint could not be had: {err}") from err


def fetch_course_data(
    data_dir: Path, environ: Mapping[str, str] = os.environ, timeout: float = 60.0
) -> Path:
    """``data_dir / "synthetic_shapes"`` with the course dataset (see
    :func:`shapes.course_zip.unpack_course_zip`), from ``CAMSAM_DATA_URL`` or the official URL.

    Raises:
        SetupError: the download failed or the archive does not hold ``synthetic_shapes``.
    """
    url = course_data_url(environ)
    try:
        return unpack_course_zip(url, data_dir, timeout)
    except (OSError, zipfile.BadZipFile) as err:
        raise SetupError(
            f"the course dataset could not be had from {url}: {err}. Download the zip by hand "
            f"and unpack it so that {data_dir / 'synthetic_shapes'}/images/test exists."
        ) from err
