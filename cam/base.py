"""Shared machinery of gradient-based class activation maps (Grad-CAM and its relatives).

`BaseCAM` takes the gradients of the pre-softmax class scores with respect to the target layers'
outputs only, upsamples each layer's map (and moves it by a measured ``offset``, `shift_maps`),
rescales it to 0..1 and averages over layers; a method overrides `BaseCAM.channel_weights` (or
`layer_map`). Autograd starts at the first target layer, so no parameter gradient is formed; on
CPU the part before it runs channels-last (see `BaseCAM`). The caller's ``torch.autocast``
applies to the forward pass; maps are float32.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cam.batchnorm_fold import BatchNormFolding

#: A map whose (max - min) is at most this fraction of max(|max|, |min|) is constant (zeros).
CONSTANT_RTOL = 1e-5


@dataclass(frozen=True)
class CAMResult:
    """Everything one CAM call computes.

    Attributes:
        heatmaps: float32 (B, H, W) in 0..1 at the input's resolution: the mean over target
            layers of each upsampled map rescaled to 0..1 per image (constant maps: zeros).
        layer_maps: one float32 (B, h_l, w_l) per target layer, in the order given: the raw map
            after the ReLU, before upsampling; cell (i, j) covers about (H / h_l, W / w_l) px.
        targets: int64 (B,), the class index explained for each image.
        logits: float32 (B, K), the model's pre-softmax outputs.
    """

    heatmaps: np.ndarray
    layer_maps: list[np.ndarray]
    targets: np.ndarray
    logits: np.ndarray


def minmax_normalize(maps: Tensor, rtol: float = CONSTANT_RTOL) -> Tensor:
    """A new float tensor (B, H, W): each map of float ``maps`` (B, H, W) rescaled to 0..1
    independently; a map whose relative range is at most ``rtol`` (see `CONSTANT_RTOL`) counts
    as constant and becomes all zeros."""
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (B, H, W), got {tuple(maps.shape)}")
    flat = maps.flatten(1)
    lo, hi = flat.amin(dim=1), flat.amax(dim=1)
    span = hi - lo
    constant = span <= rtol * torch.maximum(hi.abs(), lo.abs())
    safe_span = torch.where(constant, torch.ones_like(span), span)
    out = (maps - lo[:, None, None]) / safe_span[:, None, None]
    out[constant] = 0.0
    return out.clamp_(0.0, 1.0)


def upsample_bilinear(maps: Tensor, size: tuple[int, int]) -> Tensor:
    """Float (B, H, W): bilinear resize of float (B, h, w) ``maps`` to ``size`` (H, W), rows
    first (half-pixel centres, as cv2.resize)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]


def shift_maps(maps: Tensor, offset: tuple[float, float]) -> Tensor:
    """Float (B, H, W): float ``maps`` (B, H, W) moved by ``(-dx, -dy)`` px, ``offset = (dx,
    dy)`` (X right, Y down; fractions allowed): output pixel (x, y) reads the input at (x + dx,
    y + dy), bilinearly, the edge values repeated outside. A map whose features sit ``dx`` px
    right of the object they respond to comes back onto it. (0, 0) returns ``maps`` itself."""
    dx, dy = (float(v) for v in offset)
    if maps.ndim != 3:
        raise ValueError(f"maps must have shape (B, H, W), got {tuple(maps.shape)}")
    if not (np.isfinite(dx) and np.isfinite(dy)):
        raise ValueError(f"offset must be finite (dx, dy) in px, got {offset}")
    if dx == 0.0 and dy == 0.0:
        return maps
    b, h, w = maps.shape
    # grid_sample reads normalised positions; with align_corners=False pixel x sits at
    # (2 x + 1) / W - 1
    xs = (2.0 * (torch.arange(w, device=maps.device, dtype=maps.dtype) + dx) + 1.0) / w - 1.0
    ys = (2.0 * (torch.arange(h, device=maps.device, dtype=maps.dtype) + dy) + 1.0) / h - 1.0
    grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), dim=-1).expand(b, h, w, 2)
    return F.grid_sample(
        maps[:, None], grid, mode="bilinear", padding_mode="border", align_corners=False
    )[:, 0]


def shift_heatmaps(heatmaps: np.ndarray, offset: tuple[float, float]) -> np.ndarray:
    """float32 (B, H, W) in 0..1: numpy heat maps (B, H, W) moved as by `shift_maps` and
    rescaled to 0..1 (`minmax_normalize`); for a one-layer CAM the same as computing it with
    that ``offset``. (0, 0) returns the maps as float32."""
    maps = torch.from_numpy(np.asarray(heatmaps, dtype=np.float32))
    if not any(float(v) for v in offset):
        return maps.numpy()
    return minmax_normalize(shift_maps(maps, offset)).numpy().astype(np.float32)


def smoothed_heatmaps(
    images: Tensor, plain: CAMResult, compute: Callable[[Tensor], CAMResult]
) -> np.ndarray:
    """The `BaseCAM` ``aug_smooth`` map: float32 (B, H, W) in 0..1.

    ``plain`` is the result for the float ``images`` (B, C, H, W) themselves; ``compute(view)``
    returns the result for a view (B, C, H', W') of them (same targets). The views are the
    left-right mirror and, with ``s`` the largest stride min(H // h_l, W // w_l) over the target
    layers and p = s // 2, the image and its mirror padded by p px on each side (edge
    replication), which moves every layer's cell grid by p px (half a cell of the coarsest
    layer; no shifted views when p = 0).
    Each view's heat map is cropped back to (H, W) and un-mirrored; their mean over the views,
    ``plain`` included, is rescaled to 0..1 per image (see `minmax_normalize`).
    """
    h, w = images.shape[2], images.shape[3]
    stride = max(min(h // m.shape[1], w // m.shape[2]) for m in plain.layer_maps)
    pad = stride // 2
    total = plain.heatmaps.astype(np.float64)
    views = 1
    for mirror, shift in [(True, 0)] + ([(False, pad), (True, pad)] if pad else []):
        view = images.flip(-1) if mirror else images
        if shift:
            view = F.pad(view, (shift, shift, shift, shift), mode="replicate")
        heat = compute(view).heatmaps[:, shift : shift + h, shift : shift + w]
        total += heat[:, :, ::-1] if mirror else heat
        views += 1
    return minmax_normalize(torch.from_numpy(total / views)).numpy().astype(np.float32)


class BaseCAM:
    """Base class of the gradient-based CAM methods; subclasses say how channels are weighted.

    Usage::

        cam = GradCAM(model, target_layers=[model.layer2[-1]])
        heatmaps = cam(images, targets=[0, 3])   # float32 (B, H, W) in 0..1
        with GradCAM(model, [model.layer4]) as cam:  # also a context manager
            result = cam.compute(images)             # CAMResult with low-resolution maps too

    No side effect outlives a call: hooks exist only during it, the model runs in eval mode
    (train flags restored), parameters' ``requires_grad`` and ``.grad`` are never touched; the
    caller's grad mode does not matter.
    """

    def __init__(
        self,
        model: nn.Module,
        target_layers: Iterable[nn.Module],
        *,
        aug_smooth: bool = False,
        offset: tuple[float, float] = (0.0, 0.0),
        cpu_channels_last: bool = True,
        fold_batchnorm: bool = True,
    ) -> None:
        """Args:
        model: a classifier returning pre-softmax scores (B, K) for a batch (B, C, H, W).
        target_layers: submodules of ``model`` whose output (B, C_l, h_l, w_l) is explained;
            each must run exactly once per forward pass.
        aug_smooth: average the maps of four views (test-time augmentation, 4x the cost): the
            image, its left-right mirror, and both again with the coarsest target layer's cell
            grid moved by half a cell (the image padded by s // 2 px on every side by edge
            replication, s = that layer's stride in px); each view's map is mapped back to the
            image's pixels, then the mean is rescaled to 0..1. The explained class is the
            unaugmented image's. See `smoothed_heatmaps`.
        offset: (dx, dy) px, how far right and down of the object the map's features sit
            (a network's strides and padding can place them off centre; measure it with
            `prompting.calibration.estimate_heat_offset`): each upsampled map is moved back
            by it (`shift_maps`) before the rescaling. With ``aug_smooth`` each view is moved
            in its own frame, before it is un-mirrored.
        cpu_channels_last: on CPU, feed the model a channels-last (NHWC) copy of the images,
            so the no-grad part of the forward pass before the first target layer runs in
            oneDNN's native layout (for a ResNet-18 stem and layer1-2 about half the time of
            NCHW); the first target layer's output is turned back into the default layout,
            whose backward pass is the faster one on CPU. The maps equal the NCHW path's within
            float rounding. Turn it off for a model that calls ``.view`` on those activations.
        fold_batchnorm: during a call, each eval-mode BatchNorm2d that is the only user of a
            Conv2d is folded into it (`cam.batchnorm_fold`; pairs found once with
            ``torch.fx``, folded weights recomputed whenever the model's change; the model's
            parameters are never written): one pass over the activations instead of two,
            forward and backward (ResNet-18, batch 64: about 10 % less time). The maps equal
            the unfolded ones within float rounding (about 2e-5 on maps in 0..1). A model
            ``torch.fx`` cannot trace runs unfolded; ``fold_status`` says which happened.
        """
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(target_layers, nn.Module):
            raise TypeError("target_layers must be an iterable of modules, e.g. [model.layer4]")
        layers = list(target_layers)
        if not layers:
            raise ValueError("target_layers is empty; give at least one submodule of the model")
        names = {id(module): name for name, module in model.named_modules()}
        for position, layer in enumerate(layers):
            what = f"target_layers[{position}] ({type(layer).__name__})"
            if not isinstance(layer, nn.Module):
                raise TypeError(f"{what} is not an nn.Module")
            if id(layer) not in names:
                raise ValueError(f"{what} is not a submodule of the model")
            if any(layer is other for other in layers[:position]):
                raise ValueError(f"{what} is listed twice")
        self.model = model
        self.target_layers: tuple[nn.Module, ...] = tuple(layers)
        self.layer_names: tuple[str, ...] = tuple(names[id(layer)] or "<model>" for layer in layers)
        self.aug_smooth = bool(aug_smooth)
        if len(offset) != 2 or not all(np.isfinite(float(v)) for v in offset):
            raise ValueError(f"offset must be two finite numbers (dx, dy) in px, got {offset}")
        self.offset: tuple[float, float] = (float(offset[0]), float(offset[1]))
        self.cpu_channels_last = bool(cpu_channels_last)
        self._folding = BatchNormFolding(model) if fold_batchnorm else None

    @property
    def fold_status(self) -> str:
        """What BatchNorm folding does for this model (``fold_batchnorm``)."""
        return self._folding.status if self._folding is not None else "off"

    def channel_weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """Float (B, C), one weight per channel and image, from a target layer's float (B, C, h, w)
        ``activations`` and their ``gradients`` d(score of each image's target) / d(activations).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must override channel_weights or layer_map"
        )

    def layer_map(self, activations: Tensor, gradients: Tensor) -> Tensor:
        """One layer's low-resolution map ReLU(sum_c weight_c * activations_c): float (B, h, w),
        non-negative, from float (B, C, h, w) activations and gradients (see `channel_weights`).
        """
        weights = self.channel_weights(activations, gradients)
        return torch.einsum("bc,bchw->bhw", weights, activations).relu_()

    def class_scores(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Float (B,), the scores whose gradients are used: the pre-softmax logit (B, K) of each
        image's int64 (B,) target."""
        return logits.gather(1, targets[:, None])[:, 0]

    def upsample(self, maps: Tensor, size: tuple[int, int]) -> Tensor:
        """Resize (B, h, w) maps to the input size (H, W); bilinear, see `upsample_bilinear`."""
        return upsample_bilinear(maps, size)

    def __call__(self, images: Tensor, targets: Iterable[int] | None = None) -> np.ndarray:
        """Heat maps for a batch.

        Args:
            images: normalized input batch (B, C, H, W), as the model expects it.
            targets: one class index per image (any iterable of ints, e.g. list, numpy array or
                1-D tensor); ``None`` explains each image's top predicted class.

        Returns:
            float32 numpy array (B, H, W) with values in 0..1, see `CAMResult.heatmaps`.

        Raises:
            TypeError: ``images`` is not a floating-point tensor, ``targets`` not integers.
            ValueError: ``images`` is not (B, C, H, W) or not finite; ``targets`` does not have
                one in-range class index per image; the model's activations or gradients at a
                target layer are not finite.
        """
        return self.compute(images, targets).heatmaps

    def compute(self, images: Tensor, targets: Iterable[int] | None = None) -> CAMResult:
        """Like ``__call__`` but returns the low-resolution maps, targets and logits as well
        (with ``aug_smooth``: those of the unaugmented pass; only the heat maps are averaged)."""
        if not isinstance(images, Tensor):
            raise TypeError(f"images must be a torch.Tensor (B, C, H, W), got {type(images)}")
        if images.ndim != 4:
            raise ValueError(f"images must have shape (B, C, H, W), got {tuple(images.shape)}")
        if not images.is_floating_point():
            raise TypeError(f"images must be a floating-point tensor, got {images.dtype}")
        # one fused pass: NaN propagates into both extremes, +-Inf into one of them
        if not bool(torch.isfinite(torch.stack(torch.aminmax(images))).all()):
            bad = int((~torch.isfinite(images)).sum())
            raise ValueError(f"images hold {bad} NaN or Inf value(s); Grad-CAM needs finite inputs")
        requested = _as_index_list(targets, images.shape[0])
        plain = self._compute_once(images, requested)
        if not self.aug_smooth:
            return plain

        def views(view: Tensor) -> CAMResult:
            return self._compute_once(view, plain.targets.tolist())

        return replace(plain, heatmaps=smoothed_heatmaps(images, plain, views))

    def _compute_once(self, images: Tensor, requested: list[int] | None) -> CAMResult:
        """One forward and backward pass: the `CAMResult` of validated ``images``."""
        size = (int(images.shape[2]), int(images.shape[3]))
        activations, gradients, logits, target_tensor = self._activations_and_gradients(
            images, requested
        )
        # the maps are float32 whatever the caller's autocast: disable it for this part
        with torch.autocast(activations[0].device.type, enabled=False):
            pairs = zip(activations, gradients, strict=True)
            low_res = [self.layer_map(a.float(), g.float()).float() for a, g in pairs]
            for name, low in zip(self.layer_names, low_res, strict=True):
                if not bool(torch.isfinite(low).all()):
                    raise ValueError(
                        f"target layer {name}: the model produced NaN or Inf activations or "
                        "gradients for finite images"
                    )
            normalized = [
                minmax_normalize(shift_maps(self.upsample(m, size), self.offset)) for m in low_res
            ]
            heatmaps = torch.stack(normalized).mean(dim=0)
        return CAMResult(
            heatmaps=_to_numpy(heatmaps, np.float32),
            layer_maps=[_to_numpy(m, np.float32) for m in low_res],
            targets=_to_numpy(target_tensor, np.int64),
            logits=_to_numpy(logits, np.float32),
        )

    def __enter__(self) -> BaseCAM:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Nothing to release: hooks exist only while a call runs."""

    def __repr__(self) -> str:
        smooth = ", aug_smooth=True" if self.aug_smooth else ""
        moved = f", offset=({self.offset[0]:.2f}, {self.offset[1]:.2f})" if any(self.offset) else ""
        return f"{type(self).__name__}(target_layers={list(self.layer_names)}{smooth}{moved})"

    def _activations_and_gradients(
        self, images: Tensor, requested: list[int] | None
    ) -> tuple[list[Tensor], list[Tensor], Tensor, Tensor]:
        """Forward once, then d(sum of target scores) / d(each target layer's output).

        Returns detached (activations, gradients) per layer, each (B, C_l, h_l, w_l), the logits
        (B, K) and the targets (B,), all on the model's device.
        """
        model = self.model
        captured: list[list[Tensor]] = [[] for _ in self.target_layers]

        def make_hook(position: int):
            def hook(module: nn.Module, inputs: object, output: object) -> Tensor:
                if not isinstance(output, Tensor):
                    raise TypeError(
                        f"target layer {self.layer_names[position]} returned a "
                        f"{type(output).__name__}; Grad-CAM needs a tensor (B, C, h, w)"
                    )
                # From the first target layer on, record the graph (see the module docstring).
                torch.set_grad_enabled(True)
                if output.requires_grad:
                    node = output
                else:  # the first target layer: back to the default layout (see __init__)
                    node = output.detach().contiguous().requires_grad_()
                captured[position].append(node)
                # Downstream layers get a copy, so their in-place ops (ResNet's `out += identity`,
                # ReLU(inplace=True)) can neither corrupt the activations nor the graph node.
                return node.clone()

            return hook

        parameter = next(model.parameters(), None)
        if parameter is not None:
            dtype = parameter.dtype if parameter.is_floating_point() else images.dtype
            images = images.to(device=parameter.device, dtype=dtype)
        channels_last = self.cpu_channels_last and images.device.type == "cpu"
        if channels_last:
            images = images.contiguous(memory_format=torch.channels_last)
        training_flags = [(module, module.training) for module in model.modules()]
        handles = []
        try:
            model.eval()
            handles = [
                layer.register_forward_hook(make_hook(position))
                for position, layer in enumerate(self.target_layers)
            ]
            # The hook turns grad mode on mid-forward; no_grad's exit restores the caller's mode.
            folding = self._folding.applied() if self._folding is not None else nullcontext()
            with torch.inference_mode(False), torch.no_grad(), folding:
                try:
                    logits = model(images)
                except RuntimeError as err:
                    if not channels_last:
                        raise
                    raise RuntimeError(
                        f"{err}\n(the model ran on a channels-last copy of the images; if it "
                        f"needs contiguous NCHW activations, pass cpu_channels_last=False to "
                        f"{type(self).__name__})"
                    ) from err
                nodes = self._check_captured(captured, images.shape[0])
                target_tensor = self._resolve_targets(logits, requested)
                score = self.class_scores(logits, target_tensor).sum()
                if score.requires_grad:
                    found = torch.autograd.grad(score, nodes, allow_unused=True)
                else:  # the target layers do not influence the scores at all
                    found = (None,) * len(nodes)
        finally:
            for handle in handles:
                handle.remove()
            for module, flag in training_flags:
                module.training = flag
        gradients = [
            torch.zeros_like(node) if grad is None else grad
            for node, grad in zip(nodes, found, strict=True)
        ]
        return [n.detach() for n in nodes], gradients, logits.detach(), target_tensor

    def _check_captured(self, captured: list[list[Tensor]], batch: int) -> list[Tensor]:
        for name, outputs in zip(self.layer_names, captured, strict=True):
            if len(outputs) != 1:
                raise RuntimeError(
                    f"target layer {name} ran {len(outputs)} times in one forward pass; "
                    "Grad-CAM needs a module that runs exactly once (a module reused inside the "
                    "forward, like torchvision BasicBlock.relu, is ambiguous)"
                )
            shape = tuple(outputs[0].shape)
            if len(shape) != 4 or shape[0] != batch:
                raise ValueError(
                    f"target layer {name} output has shape {shape}; expected (B={batch}, C, h, w)"
                )
        return [outputs[0] for outputs in captured]

    @staticmethod
    def _resolve_targets(logits: Tensor, requested: list[int] | None) -> Tensor:
        if logits.ndim != 2:
            raise ValueError(
                f"the model must return scores of shape (B, K), got {tuple(logits.shape)}"
            )
        if requested is None:
            return logits.detach().argmax(dim=1)
        num_classes = logits.shape[1]
        bad = [t for t in requested if not 0 <= t < num_classes]
        if bad:
            raise ValueError(
                f"targets {bad} are out of range for a model with {num_classes} classes"
            )
        return torch.tensor(requested, dtype=torch.int64, device=logits.device)


def _as_index_list(targets: Iterable[int] | None, batch: int) -> list[int] | None:
    """Validate ``targets`` (one int class index per image) and return them as a list."""
    if targets is None:
        return None
    if isinstance(targets, (int, np.integer)) or (
        isinstance(targets, (Tensor, np.ndarray)) and targets.ndim == 0
    ):
        raise TypeError(
            f"targets must be an iterable with one class index per image, got the scalar "
            f"{targets!r}; wrap it in a list"
        )
    items = list(targets)
    try:
        indices = [operator.index(t) for t in items]
    except TypeError as err:
        raise TypeError(f"targets must be integer class indices, got {items!r}") from err
    if len(indices) != batch:
        raise ValueError(
            f"targets has {len(indices)} entries but the batch has {batch} images; "
            "give one class index per image (or None for the top predicted class)"
        )
    return indices


def _to_numpy(tensor: Tensor, dtype: type[np.generic]) -> np.ndarray:
    tensor = tensor.detach()
    if tensor.is_floating_point():  # numpy has no bfloat16
        tensor = tensor.float()
    return np.ascontiguousarray(tensor.cpu().numpy(), dtype=dtype)
