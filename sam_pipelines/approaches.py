"""The assignment's two approaches: CAM -> point prompts -> segmenter, as ``BasicSamPipeline``
subclasses that override ``__call__`` only (same signature).

- :class:`ForegroundPointsPipeline`: at least one foreground point, no background point;
- :class:`ForegroundBackgroundPointsPipeline`: foreground and background points.

Each is built from the classifier, a CAM method (a class from :mod:`cam`, e.g. ``cam.GradCAM``,
instantiated with ``target_layers``, by default ``[classifier.default_target_layer(model)]``)
and a registered prompt strategy (a :mod:`prompting` name such as ``"cam_argmax"``). The
strategy must match the approach: a foreground-only pipeline refuses a strategy that emits
background points and the reverse; oracle strategies (which read the ground truth) are refused
too, because ``__call__`` sees images only.

Example::

    from cam import GradCAM
    fg = ForegroundPointsPipeline(model, "cam_argmax", GradCAM, segmenter="sam")
    masks = fg(images)  # bool (B, H, W)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor, nn

from classifier import default_target_layer
from sam_pipelines.pipeline import BasicSamPipeline, check_images
from sam_pipelines.registry import Segmenter
from shapes import to_uint8_images


@dataclass(frozen=True)
class PromptBatch:
    """What a CAM pipeline feeds the segmenter for one batch.

    Attributes:
        images: uint8 RGB (B, H, W, 3).
        cams: float32 (B, H, W) in 0..1.
        coords: int64 (B, N, 2), (X, Y) pixels.
        labels: int64 (B, N), 1 = foreground, 0 = background.
    """

    images: np.ndarray
    cams: np.ndarray
    coords: np.ndarray
    labels: np.ndarray


def resolve_strategy(strategy: Any) -> Any:
    """A strategy object: a registry name is looked up in :mod:`prompting`, objects pass through.

    An object must have ``name``, ``emits_background`` and ``oracle`` attributes and be called
    as ``strategy(cams, images, masks=None) -> (coords, labels)``.
    """
    if isinstance(strategy, str):
        from prompting import get_strategy  # imported here: prompting is optional for the base

        return get_strategy(strategy)
    missing = [a for a in ("name", "emits_background", "oracle") if not hasattr(strategy, a)]
    if missing or not callable(strategy):
        raise TypeError(
            f"strategy must be a registered name or a strategy object (callable, with name, "
            f"emits_background and oracle); {strategy!r} lacks {missing or ['__call__']}"
        )
    return strategy


class CamPromptPipeline(BasicSamPipeline):
    """Shared ``__call__`` of the two approaches: classifier -> CAM -> strategy -> segmenter.

    Args:
        classifier: the trained classifier (its predicted class is explained).
        strategy: registered strategy name (see ``prompting.list_strategies()``) or object.
        cam_method: CAM class, called as ``cam_method(classifier, target_layers)`` (default
            ``cam.GradCAM``), or an already built CAM callable (then ``target_layers`` must be
            None).
        target_layers: layers for the CAM (default ``[default_target_layer(classifier)]``).
        segmenter, mask_selection, refine, max_mask_fraction: see :class:`BasicSamPipeline`.
    """

    emits_background: ClassVar[bool]
    approach: ClassVar[str]

    def __init__(
        self,
        classifier: nn.Module,
        strategy: Any,
        cam_method: type | Callable[..., np.ndarray] | None = None,
        *,
        target_layers: Sequence[nn.Module] | None = None,
        segmenter: Segmenter | str = "sam",
        mask_selection: str = "score",
        refine: bool = False,
        max_mask_fraction: float = 0.5,
    ) -> None:
        strategy = resolve_strategy(strategy)
        if strategy.oracle:
            raise ValueError(
                f"strategy {strategy.name!r} is an oracle (it reads the ground-truth mask); "
                f"{type(self).__name__} sees images only"
            )
        if bool(strategy.emits_background) != self.emits_background:
            does = "emits" if strategy.emits_background else "does not emit"
            raise ValueError(
                f"{type(self).__name__} ({self.approach}) needs a strategy that "
                f"{'emits' if self.emits_background else 'does not emit'} background points, "
                f"but {strategy.name!r} {does} them"
            )
        super().__init__(
            segmenter,
            mask_selection=mask_selection,
            refine=refine,
            max_mask_fraction=max_mask_fraction,
        )
        self.classifier = classifier
        self.strategy = strategy
        if cam_method is None:
            from cam import GradCAM  # imported here: the base pipeline does not need cam

            cam_method = GradCAM
        if inspect.isclass(cam_method):
            layers = list(target_layers) if target_layers is not None else None
            self.cam = cam_method(classifier, layers or [default_target_layer(classifier)])
        else:
            if target_layers is not None:
                raise ValueError("target_layers is only used with a CAM class, not a CAM instance")
            self.cam = cam_method

    def settings(self) -> dict[str, Any]:
        """The pipeline's options, including approach, strategy and CAM method."""
        return {
            **super().settings(),
            "approach": self.approach,
            "strategy": self.strategy.name,
            "cam_method": type(self.cam).__name__,
        }

    def prompts(self, images: Tensor) -> PromptBatch:
        """CAMs and point prompts for a normalised batch (B, 3, H, W) (for the point metrics)."""
        check_images(images, type(self).__name__)
        device = next(self.classifier.parameters()).device
        cams = np.asarray(self.cam(images.to(device)), dtype=np.float32)
        uint8 = to_uint8_images(images)
        coords, labels = self.strategy(cams, uint8)
        return PromptBatch(uint8, cams, np.asarray(coords), np.asarray(labels))

    def __call__(self, images: Tensor) -> Tensor:
        """Segment a normalised batch (B, 3, H, W) without user input: bool (B, H, W) on the CPU."""
        p = self.prompts(images)
        return torch.from_numpy(self.segment_uint8(p.images, p.coords, p.labels, cams=p.cams).masks)


class ForegroundPointsPipeline(CamPromptPipeline):
    """Approach 1: foreground points only (the strategy must not emit background points)."""

    emits_background = False
    approach = "fg"


class ForegroundBackgroundPointsPipeline(CamPromptPipeline):
    """Approach 2: foreground and background points (the strategy must emit both)."""

    emits_background = True
    approach = "fg+bg"
