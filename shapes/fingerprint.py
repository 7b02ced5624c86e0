"""A content fingerprint of a dataset folder, used to key caches (classifier, CAMs, results)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from shapes.classes import SPLITS


def dataset_fingerprint(root: Path | str, splits: tuple[str, ...] = SPLITS) -> str:
    """SHA-256 (first 16 hex digits) over the relative paths and bytes of every dataset file.

    Any change to any image, mask or label (or a renamed file) changes the fingerprint.
    """
    root = Path(root)
    digest = hashlib.sha256()
    for kind in ("images", "masks", "labels"):
        for split in splits:
            folder = root / kind / split
            for path in sorted(folder.glob("*")):
                if path.is_file():
                    digest.update(f"{kind}/{split}/{path.name}\0".encode())
                    digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
