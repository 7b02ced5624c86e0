"""cam/: Grad-CAM checked against pytorch-grad-cam, hand-computed golden values and its contract.

Tolerance for the oracle (ATOL below): both implementations compute in float32 and their maps
live in 0..1. Legitimate differences come from summation order (torch vs numpy reductions over
128 channels) and the reference's 1e-7 epsilons in its min-max rescaling; measured differences
are <= 1e-6 on these nets. ATOL = 1e-4 leaves 100x headroom for other BLAS builds, while every
bug the issue names moves some pixel by >= 0.2 on the same inputs (weights from the spatial max
or no spatial mean, a missing ReLU, softmax instead of pre-softmax gradients, swapped H/W; the
mutation tests assert > MUTANT_MIN_DIFF = 100 * ATOL). The reference min-max-normalizes before
its cv2 upsampling but rescales the (single-layer) result once more afterwards, so its output is
directly comparable with ours, which rescales after upsampling.
"""

from __future__ import annotations

import ast
import gc
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from pytorch_grad_cam import GradCAM as RefGradCAM
from pytorch_grad_cam import GradCAMPlusPlus as RefGradCAMPlusPlus
from pytorch_grad_cam import LayerCAM as RefLayerCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import Tensor, nn

import cam as cam_package
from cam import BaseCAM, CAMResult, GradCAM, GradCAMPlusPlus, LayerCAM
from cam.base import minmax_normalize, upsample_bilinear
from classifier import build_classifier

ATOL = 1e-4
MUTANT_MIN_DIFF = 100 * ATOL
H, W = 48, 64
NUM_CLASSES = 5


# ----------------------------------------------------------------------------------- fixtures
@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny inputs: one intra-op thread is faster than two on a shared, busy CPU. Restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _resnet(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return build_classifier(imagenet_weights=False).eval()


def _vgg(seed: int = 1) -> nn.Module:
    """A small VGG-style net: conv-ReLU(inplace)-pool blocks, then a flattening linear head."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(inplace=True),  # index 7: the target layer (output 12 x 16)
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 6 * 8, NUM_CLASSES),
    ).eval()


@pytest.fixture(scope="module")
def resnet() -> nn.Module:
    return _resnet()


@pytest.fixture(scope="module")
def vgg() -> nn.Module:
    return _vgg()


def _images(batch: int, seed: int = 0, size: tuple[int, int] = (H, W)) -> Tensor:
    return torch.randn(batch, 3, *size, generator=torch.Generator().manual_seed(seed))


def _targets(batch: int) -> list[int]:
    """Different classes for the images of a batch."""
    return [(3 * i + 1) % NUM_CLASSES for i in range(batch)]


def _reference(method: type, model: nn.Module, layer: nn.Module, x: Tensor, targets) -> np.ndarray:
    with method(model, [layer]) as ref:
        out = ref(x, [ClassifierOutputTarget(int(t)) for t in targets])
    model.zero_grad(set_to_none=True)  # the reference leaves parameter gradients behind
    return out


def _model_and_layer(name: str, resnet: nn.Module, vgg: nn.Module) -> tuple[nn.Module, nn.Module]:
    return (resnet, resnet.layer2[-1]) if name == "resnet" else (vgg, vgg[7])


# ------------------------------------------------------------------- oracle: pytorch-grad-cam
@pytest.mark.parametrize("net", ["resnet", "vgg"])
@pytest.mark.parametrize("batch", [1, 4])
def test_gradcam_matches_pytorch_grad_cam(net: str, batch: int, resnet, vgg) -> None:
    model, layer = _model_and_layer(net, resnet, vgg)
    x, targets = _images(batch, seed=batch), _targets(batch)
    ours = GradCAM(model, [layer])(x, targets)
    ref = _reference(RefGradCAM, model, layer, x, targets)
    assert ours.shape == (batch, H, W) and ours.dtype == np.float32
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)
    # Not a trivial agreement: the maps have structure and differ between images.
    assert np.all(ours.reshape(batch, -1).max(1) == 1.0)
    assert ours.std() > 0.1


@pytest.mark.parametrize(
    ("method", "reference", "kwargs"),
    [
        # pytorch-grad-cam adds 1e-6 to alpha's denominator; match it for the comparison.
        (GradCAMPlusPlus, RefGradCAMPlusPlus, {"eps": 1e-6}),
        (LayerCAM, RefLayerCAM, {}),
    ],
)
def test_plusplus_and_layercam_match_pytorch_grad_cam(method, reference, kwargs, resnet) -> None:
    x, targets = _images(4, seed=7), _targets(4)
    ours = method(resnet, [resnet.layer2[-1]], **kwargs)(x, targets)
    ref = _reference(reference, resnet, resnet.layer2[-1], x, targets)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=ATOL)


class _MaxWeights(GradCAM):
    def channel_weights(self, activations: Tensor, gradients: Tensor) -> Tensor:
        return gradients.amax(dim=(2, 3))


class _NoSpatialMean(GradCAM):
    def layer_map(self, activations: Tensor, gradients: Tensor) -> Tensor:
        return (gradients * activations).sum(dim=1).relu()


class _NoReLU(GradCAM):
    def layer_map(self, activations: Tensor, gradients: Tensor) -> Tensor:
        weights = self.channel_weights(activations, gradients)
        return torch.einsum("bc,bchw->bhw", weights, activations)


class _SoftmaxScores(GradCAM):
    def class_scores(self, logits: Tensor, targets: Tensor) -> Tensor:
        return logits.softmax(dim=1).gather(1, targets[:, None])[:, 0]


class _SwappedHW(GradCAM):
    def upsample(self, maps: Tensor, size: tuple[int, int]) -> Tensor:
        swapped = F.interpolate(maps[:, None], size=size[::-1], mode="bilinear")[:, 0]
        return swapped.transpose(-1, -2)


@pytest.mark.parametrize("net", ["resnet", "vgg"])
@pytest.mark.parametrize(
    "mutant", [_MaxWeights, _NoSpatialMean, _NoReLU, _SoftmaxScores, _SwappedHW]
)
def test_tolerance_rejects_known_bugs(net: str, mutant: type[GradCAM], resnet, vgg) -> None:
    model, layer = _model_and_layer(net, resnet, vgg)
    x, targets = _images(4, seed=4), _targets(4)
    ref = _reference(RefGradCAM, model, layer, x, targets)
    wrong = mutant(model, [layer])(x, targets)
    assert wrong.shape == ref.shape
    assert np.abs(wrong - ref).max() > MUTANT_MIN_DIFF


def test_output_is_input_sized_for_non_square_input(resnet) -> None:
    # A plain H/W swap (cv2.resize(cam, (H, W)) style) changes the shape; 48 != 64 catches it.
    out = GradCAM(resnet, [resnet.layer2[-1]])(_images(2, size=(40, 72)), [0, 1])
    assert out.shape == (2, 40, 72)


# --------------------------------------------------------------------- golden, worked by hand
class _HandNet(nn.Module):
    """features = 2x2 average pooling of the input; score = W @ (global mean of the features).

    d score_k / d A_cij = W_kc / 4 (4 cells), so Grad-CAM's channel weight is W_kc / 4.
    """

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.AvgPool2d(2)
        self.head = nn.Linear(2, 2, bias=False)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor([[1.0, -1.0], [0.5, 1.0]]))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


# Activations A (channels 0 and 1, 2 x 2 each); the input repeats each value in a 2 x 2 block.
_A = torch.tensor([[[1.0, 2.0], [3.0, 4.0]], [[4.0, 0.0], [0.0, 1.0]]])
_HAND_INPUT = _A.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2)[None]  # (1, 2, 4, 4)


def test_gradcam_golden_values_hand_network() -> None:
    net = _HandNet()
    cam = GradCAM(net, [net.features])
    # Class 0: weights (1/4, -1/4); (A0 - A1) / 4 = [[-3, 2], [3, 3]] / 4 -> ReLU.
    result = cam.compute(_HAND_INPUT, [0])
    np.testing.assert_allclose(result.layer_maps[0][0], [[0, 0.5], [0.75, 0.75]], atol=1e-7)
    # Bilinear x2 (half-pixel centres) of rows/cols (a, b) -> (a, 3a/4 + b/4, a/4 + 3b/4, b),
    # then divided by the max 0.75 (the min is 0).
    expected = [
        [0, 1 / 6, 1 / 2, 2 / 3],
        [1 / 4, 3 / 8, 5 / 8, 3 / 4],
        [3 / 4, 19 / 24, 7 / 8, 11 / 12],
        [1, 1, 1, 1],
    ]
    np.testing.assert_allclose(result.heatmaps[0], expected, atol=1e-6)
    # Class 1: weights (1/8, 1/4): [[4.5, 1], [1.5, 3]] / 4, all positive.
    low = cam.compute(_HAND_INPUT, [1]).layer_maps[0][0]
    np.testing.assert_allclose(low, [[1.125, 0.25], [0.375, 0.75]], atol=1e-7)


def test_plusplus_and_layercam_golden_values_hand_network() -> None:
    net = _HandNet()
    # Class 0: g = (1/4, -1/4) per channel. Grad-CAM++: channel 0 has sum(A0) = 10 and
    # alpha = g^2 / (2 g^2 + 10 g^3) = 1 / (2 + 10/4) = 2/9, weight = 4 * 2/9 * 1/4 = 2/9;
    # channel 1 has ReLU(g) = 0. So the map is 2/9 * A0.
    plusplus = GradCAMPlusPlus(net, [net.features]).compute(_HAND_INPUT, [0])
    np.testing.assert_allclose(plusplus.layer_maps[0][0], 2 / 9 * _A[0].numpy(), atol=1e-6)
    # LayerCAM: ReLU(g) * A summed over channels = A0 / 4.
    layer = LayerCAM(net, [net.features]).compute(_HAND_INPUT, [0])
    np.testing.assert_allclose(layer.layer_maps[0][0], _A[0].numpy() / 4, atol=1e-7)
    # Both rescale to (A0 - 1) / 3 at low resolution; the full map is the same for both.
    np.testing.assert_allclose(plusplus.heatmaps, layer.heatmaps, atol=1e-6)


# ----------------------------------------------------------------------- contract and rules
def test_targets_none_uses_top_class(resnet) -> None:
    x = _images(4, seed=3)
    cam = GradCAM(resnet, [resnet.layer2[-1]])
    with torch.no_grad():
        top = resnet(x).argmax(dim=1)
    result = cam.compute(x)
    np.testing.assert_array_equal(result.targets, top.numpy())
    np.testing.assert_array_equal(result.heatmaps, cam(x, top.tolist()))
    assert result.logits.shape == (4, NUM_CLASSES)


@pytest.mark.parametrize(
    "targets",
    [
        [1, 2, 3],
        [1, 2, 3, 4, 0],
        [],
    ],
)
def test_targets_of_wrong_length_raise_value_error(targets: list[int], resnet) -> None:
    with pytest.raises(ValueError, match="targets has"):
        GradCAM(resnet, [resnet.layer2[-1]])(_images(4), targets)


@pytest.mark.parametrize(
    ("targets", "error"),
    [(3, TypeError), ([0.5, 1.0], TypeError), ([0, 5], ValueError), ([-1, 0], ValueError)],
)
def test_bad_targets_are_rejected(targets, error, resnet) -> None:
    with pytest.raises(error, match="targets"):
        GradCAM(resnet, [resnet.layer2[-1]])(_images(2), targets)


def test_targets_accept_tensors_arrays_and_generators(resnet) -> None:
    cam = GradCAM(resnet, [resnet.layer2[-1]])
    x = _images(3)
    expected = cam(x, [0, 4, 2])
    for targets in (torch.tensor([0, 4, 2]), np.array([0, 4, 2]), (t for t in (0, 4, 2))):
        np.testing.assert_array_equal(cam(x, targets), expected)


def test_bad_constructor_arguments() -> None:
    net = _vgg()
    with pytest.raises(ValueError, match="empty"):
        GradCAM(net, [])
    with pytest.raises(TypeError, match="iterable"):
        GradCAM(net, net[7])
    with pytest.raises(ValueError, match="not a submodule"):
        GradCAM(net, [nn.ReLU()])
    with pytest.raises(ValueError, match="twice"):
        GradCAM(net, [net[7], net[7]])
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        GradCAM(net, [net[7]])(torch.zeros(3, H, W), [0])


def test_module_reused_in_forward_is_rejected(resnet) -> None:
    # torchvision's BasicBlock applies its one `relu` module twice.
    with pytest.raises(RuntimeError, match="ran 2 times"):
        GradCAM(resnet, [resnet.layer2[-1].relu])(_images(1), [0])
    assert not _hook_count(resnet)


def test_multi_layer_result_is_average_of_single_layers(resnet) -> None:
    x, targets = _images(3, seed=5), _targets(3)
    layers = [resnet.layer1[-1], resnet.layer2[-1], resnet.layer3[-1]]  # 12x16, 6x8, 3x4
    both = GradCAM(resnet, layers).compute(x, targets)
    singles = [GradCAM(resnet, [layer])(x, targets) for layer in layers]
    np.testing.assert_allclose(both.heatmaps, np.mean(singles, axis=0), atol=1e-6)
    assert [m.shape for m in both.layer_maps] == [(3, 12, 16), (3, 6, 8), (3, 3, 4)]


def test_heatmap_is_rescaled_upsampled_layer_map(vgg) -> None:
    result = GradCAM(vgg, [vgg[7]]).compute(_images(2), [0, 1])
    low = torch.from_numpy(result.layer_maps[0])
    assert low.shape == (2, 12, 16) and low.min() >= 0
    expected = minmax_normalize(upsample_bilinear(low, (H, W)))
    np.testing.assert_allclose(result.heatmaps, expected.numpy(), atol=1e-6)


class _ViewsActivations(nn.Module):
    """A net that calls ``.view`` on a 4-D activation before its target layer (``self.head``)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4, NUM_CLASSES)

    def forward(self, x: Tensor) -> Tensor:
        a = self.conv(x)
        a = a.view(a.shape[0], -1).view(a.shape)  # needs a contiguous NCHW tensor
        return self.fc(self.head(a).mean(dim=(2, 3)))


@pytest.mark.parametrize("method", [GradCAM, GradCAMPlusPlus])
def test_cpu_channels_last_equals_the_nchw_path(method: type[BaseCAM], resnet) -> None:
    """The channels-last copy of the input changes the speed, not the maps (float rounding)."""
    x, targets = _images(3, seed=4), _targets(3)
    layers = [resnet.layer2[-1], resnet.layer3[-1]]
    fast = method(resnet, layers).compute(x, targets)
    plain = method(resnet, layers, cpu_channels_last=False).compute(x, targets)
    np.testing.assert_allclose(fast.heatmaps, plain.heatmaps, atol=1e-5)
    for a, b in zip(fast.layer_maps, plain.layer_maps, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6 * float(np.abs(b).max()))
    np.testing.assert_array_equal(fast.targets, plain.targets)
    assert x.is_contiguous()  # the caller's tensor is not touched


def test_cpu_channels_last_failure_names_the_switch() -> None:
    torch.manual_seed(0)
    net = _ViewsActivations().eval()
    x = _images(2)
    with pytest.raises(RuntimeError, match="cpu_channels_last=False"):
        GradCAM(net, [net.head])(x, [0, 1])
    assert not _hook_count(net)
    out = GradCAM(net, [net.head], cpu_channels_last=False)(x, [0, 1])
    assert out.shape == (2, H, W) and np.isfinite(out).all()


def test_aug_smooth_averages_mirrored_and_half_cell_shifted_views(resnet) -> None:
    x, targets = _images(3, seed=7), _targets(3)
    plain = GradCAM(resnet, [resnet.layer2[-1]])  # 6 x 8 cells of 8 px: views shift by 4 px
    smooth = GradCAM(resnet, [resnet.layer2[-1]], aug_smooth=True)
    result = smooth.compute(x, targets)
    mirrored = plain(x.flip(-1), targets)[:, :, ::-1]
    padded = F.pad(x, (4, 4, 4, 4), mode="replicate")
    shifted = plain(padded, targets)[:, 4 : 4 + H, 4 : 4 + W]
    both = plain(padded.flip(-1), targets)[:, 4 : 4 + H, 4 : 4 + W][:, :, ::-1]
    views = np.stack([plain(x, targets), mirrored, shifted, both]).mean(axis=0)
    expected = minmax_normalize(torch.from_numpy(views)).numpy()
    np.testing.assert_allclose(result.heatmaps, expected, atol=1e-6)
    assert result.heatmaps.dtype == np.float32 and result.heatmaps.max() == 1.0
    # everything but the heat maps is the unaugmented pass's
    unaugmented = plain.compute(x, targets)
    np.testing.assert_array_equal(result.layer_maps[0], unaugmented.layer_maps[0])
    np.testing.assert_array_equal(result.logits, unaugmented.logits)
    assert not np.allclose(result.heatmaps, unaugmented.heatmaps, atol=0.05)


def test_aug_smooth_commutes_with_mirroring_and_keeps_the_top_class(resnet) -> None:
    x, targets = _images(2, seed=8), _targets(2)
    cam = GradCAM(resnet, [resnet.layer2[-1]], aug_smooth=True)
    np.testing.assert_allclose(cam(x.flip(-1), targets), cam(x, targets)[:, :, ::-1], atol=1e-6)
    with torch.no_grad():
        top = resnet(x).argmax(dim=1).numpy()
    np.testing.assert_array_equal(cam.compute(x).targets, top)
    assert "aug_smooth=True" in repr(cam)


class _ConstantFeatures(nn.Module):
    """Target layer output is the same number everywhere; the head still depends on it."""

    def __init__(self, sign: float) -> None:
        super().__init__()
        self.features = nn.Conv2d(3, 2, 1)
        with torch.no_grad():
            self.features.weight.zero_()
            self.features.bias.copy_(torch.tensor([1.0, 2.0]))
        self.head = nn.Linear(2, 3)
        with torch.no_grad():
            self.head.weight.copy_(sign * torch.ones(3, 2))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


@pytest.mark.parametrize("sign", [1.0, -1.0])  # constant positive map; map killed by the ReLU
@pytest.mark.parametrize("method", [GradCAM, GradCAMPlusPlus, LayerCAM])
def test_constant_map_becomes_zeros(sign: float, method: type[BaseCAM]) -> None:
    net = _ConstantFeatures(sign)
    out = method(net, [net.features])(_images(2, size=(5, 7)), [0, 2])
    assert out.shape == (2, 5, 7)
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, 0.0)


def test_minmax_normalize_rules() -> None:
    maps = torch.stack(
        [
            torch.full((3, 4), 7.0),
            torch.full((3, 4), 7.0) + torch.rand(3, 4) * 7e-7,  # rounding noise: constant
            torch.zeros(3, 4),
            torch.arange(12.0).reshape(3, 4),
        ]
    )
    out = minmax_normalize(maps)
    np.testing.assert_array_equal(out[:3].numpy(), 0.0)
    np.testing.assert_allclose(out[3].numpy(), np.arange(12.0).reshape(3, 4) / 11, atol=1e-7)


# ------------------------------------------------------------------------------ side effects
def _hook_count(model: nn.Module) -> int:
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


def _state(model: nn.Module) -> dict[str, object]:
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grad_ids": [None if p.grad is None else id(p.grad) for p in model.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "buffers": [b.clone() for b in model.buffers()],
    }


def test_call_leaves_model_as_it_was() -> None:
    model = _resnet()
    model.train()
    model.layer3.eval()  # mixed modes must come back per module
    model.layer1.requires_grad_(False)
    model.fc.weight.grad = torch.full_like(model.fc.weight, 0.25)
    model.layer4[0].conv1.weight.grad = torch.ones_like(model.layer4[0].conv1.weight)
    before = _state(model)
    x = _images(2).requires_grad_()

    out = GradCAM(model, [model.layer2[-1], model.layer3[-1]])(x, [1, 2])

    after = _state(model)
    assert after["training"] == before["training"]
    assert after["requires_grad"] == before["requires_grad"]
    assert after["grad_ids"] == before["grad_ids"]  # None stays None, tensors are the same ones
    for old, new in zip(before["grads"], after["grads"], strict=True):
        assert (old is None and new is None) or torch.equal(old, new)
    for old, new in zip(before["buffers"], after["buffers"], strict=True):
        assert torch.equal(old, new)  # eval mode during the call: BN statistics untouched
    assert x.grad is None
    assert _hook_count(model) == 0
    # Train mode is not used for the map: same as on the model in eval mode.
    np.testing.assert_allclose(
        out, GradCAM(model.eval(), [model.layer2[-1], model.layer3[-1]])(x, [1, 2]), atol=1e-6
    )


def test_no_hook_survives_an_error_or_a_with_block(resnet) -> None:
    with GradCAM(resnet, [resnet.layer2[-1]]) as cam:
        cam(_images(1), [0])
        with pytest.raises(ValueError, match="out of range"):
            cam(_images(1), [9])  # detected after the forward pass, hooks already registered
        assert _hook_count(resnet) == 0
        assert torch.is_grad_enabled()
    assert _hook_count(resnet) == 0


def test_works_inside_no_grad_and_inference_mode(resnet) -> None:
    cam = GradCAM(resnet, [resnet.layer2[-1]])
    x, targets = _images(2, seed=9), [3, 0]
    expected = cam(x, targets)
    with torch.no_grad():
        np.testing.assert_array_equal(cam(x, targets), expected)
        assert not torch.is_grad_enabled()
    with torch.inference_mode():
        np.testing.assert_array_equal(cam(x.clone(), targets), expected)
        assert torch.is_inference_mode_enabled()
    assert torch.is_grad_enabled()


def test_activations_survive_later_in_place_ops(resnet) -> None:
    """Target layer2[-1].bn2: the block then does `out += identity` and an in-place ReLU."""
    x, targets = _images(2, seed=11), [2, 4]
    ours = GradCAM(resnet, [resnet.layer2[-1].bn2])(x, targets)

    # Hand-written oracle: run the block's pieces explicitly, with the bn2 output as a leaf.
    m, block = resnet, resnet.layer2[-1]
    with torch.no_grad():
        h = m.layer2[0](m.layer1(m.maxpool(m.relu(m.bn1(m.conv1(x))))))
        a = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(h)))))
    a.requires_grad_()
    out = torch.relu(a + h)  # layer2[-1] has no downsample
    logits = m.fc(torch.flatten(m.avgpool(m.layer4(m.layer3(out))), 1))
    (grad,) = torch.autograd.grad(logits[[0, 1], targets].sum(), a)
    raw = torch.einsum("bc,bchw->bhw", grad.mean(dim=(2, 3)), a.detach()).relu()
    oracle = minmax_normalize(F.interpolate(raw[:, None], size=(H, W), mode="bilinear")[:, 0])
    np.testing.assert_allclose(ours, oracle.numpy(), atol=ATOL)
    assert (a.detach() < 0).any()  # the ReLU really would have changed the activations


def test_no_parameter_gradients_are_formed() -> None:
    model = _resnet()
    seen: list[str] = []
    for name, p in model.named_parameters():
        p.register_post_accumulate_grad_hook(lambda _p, name=name: seen.append(name))
    GradCAM(model, [model.layer2[-1]])(_images(2), [0, 1])
    assert seen == []
    assert all(p.grad is None for p in model.parameters())


# ------------------------------------------------------------------------------------ memory
def _live_tensors() -> int:
    gc.collect()
    # type(), not isinstance(): isinstance would trigger lazy module attributes' warnings.
    return sum(1 for obj in gc.get_objects() if issubclass(type(obj), torch.Tensor))


def test_hundred_calls_do_not_grow_memory() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(4, 4, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    )
    x = _images(2, size=(8, 10))
    cam = GradCAM(net, [net[1], net[3]])

    def run() -> np.ndarray:
        return cam(x, [0, 2])

    for _ in range(5):  # warm-up: lazily built caches are not leaks
        run()
    tensors_before = _live_tensors()
    tracemalloc.start()
    try:
        for _ in range(20):  # warm-up under tracing (free lists, interned objects)
            run()
        gc.collect()
        python_before = tracemalloc.get_traced_memory()[0]
        for _ in range(100):
            run()
        gc.collect()
        python_after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert _live_tensors() == tensors_before
    assert _hook_count(net) == 0
    # Python-side allocations (incl. numpy outputs): a leak of one 8x10 float32 map per call
    # would add 32 KB; allow a little interpreter noise.
    assert python_after - python_before < 16_000


def test_result_type() -> None:
    net = _vgg()
    result = GradCAM(net, [net[7]]).compute(_images(1), [4])
    assert isinstance(result, CAMResult)
    assert result.targets.dtype == np.int64 and result.targets.tolist() == [4]
    assert result.heatmaps.flags.c_contiguous
    assert repr(GradCAM(net, [net[7]])) == "GradCAM(target_layers=['7'])"


# ---------------------------------------------------------------- GradCAM++ and LayerCAM basics
@pytest.mark.parametrize("method", [GradCAMPlusPlus, LayerCAM])
def test_other_methods_basic_properties(method: type[BaseCAM], resnet) -> None:
    x = _images(3, seed=2)
    result = method(resnet, [resnet.layer2[-1]]).compute(x, [0, 1, 2])
    maps = result.heatmaps
    assert maps.shape == (3, H, W) and maps.dtype == np.float32
    assert np.isfinite(maps).all() and maps.min() == 0.0 and maps.max() == 1.0
    assert np.all(maps.reshape(3, -1).max(1) == 1.0)
    assert (result.layer_maps[0] >= 0).all()
    # A different class gives a different map (by far more than float noise).
    other = method(resnet, [resnet.layer2[-1]])(x, [1, 2, 3])
    assert np.abs(other - maps).max() > MUTANT_MIN_DIFF
    assert _hook_count(resnet) == 0


def test_plusplus_rejects_negative_eps(vgg) -> None:
    with pytest.raises(ValueError, match="eps"):
        GradCAMPlusPlus(vgg, [vgg[7]], eps=-1.0)


# ------------------------------------------------------------------------- assignment's rule
ALLOWED_IMPORTS = {"torch", "torchvision", "numpy", "scipy", "cv2", "PIL", "tqdm", "matplotlib"}


def test_cam_package_imports_only_allowed_modules() -> None:
    package = Path(cam_package.__file__).parent
    found: set[str] = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    disallowed = found - ALLOWED_IMPORTS - set(sys.stdlib_module_names) - {"cam"}
    assert not disallowed, f"cam/ imports {sorted(disallowed)}"
    assert {"torch", "numpy"} <= found


# ------------------------------------------------ issue 13: dtypes, autocast, non-finite inputs
@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16, torch.float16])
def test_input_is_cast_to_the_models_dtype(dtype: torch.dtype) -> None:
    model = _resnet()
    images = torch.randn(2, 3, 48, 64, generator=torch.Generator().manual_seed(0))
    expected = GradCAM(model, [model.layer2[-1]])(images)
    got = GradCAM(model, [model.layer2[-1]])(images.to(dtype))
    assert got.dtype == np.float32 and got.shape == (2, 48, 64)
    # the cast input differs from the float32 one by the rounding of ``dtype`` only
    assert np.abs(got - expected).max() < (1e-6 if dtype == torch.float64 else 0.2)


def test_works_under_bf16_autocast_and_returns_float32() -> None:
    model = _resnet()
    images = torch.randn(2, 3, 48, 64, generator=torch.Generator().manual_seed(1))
    expected = GradCAM(model, [model.layer2[-1]]).compute(images)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = GradCAM(model, [model.layer2[-1]]).compute(images)
    assert got.heatmaps.dtype == np.float32 and got.logits.dtype == np.float32
    assert all(m.dtype == np.float32 for m in got.layer_maps)
    assert np.isfinite(got.heatmaps).all()
    assert np.corrcoef(got.heatmaps.ravel(), expected.heatmaps.ravel())[0, 1] > 0.9


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_inputs_raise(value: float) -> None:
    model = _resnet()
    images = torch.zeros(2, 3, 48, 64)
    images[1, 2, 3, 4] = value
    with pytest.raises(ValueError, match=r"1 NaN or Inf value\(s\)"):
        GradCAM(model, [model.layer2[-1]])(images)


def test_integer_inputs_raise() -> None:
    model = _resnet()
    with pytest.raises(TypeError, match="floating-point"):
        GradCAM(model, [model.layer2[-1]])(torch.zeros(1, 3, 8, 8, dtype=torch.uint8))


def test_non_finite_model_outputs_raise() -> None:
    model = _resnet()
    with torch.no_grad():
        model.layer2[-1].bn2.weight.fill_(float("nan"))
    with pytest.raises(ValueError, match=r"layer2\.1.*NaN or Inf activations"):
        GradCAM(model, [model.layer2[-1]])(torch.zeros(1, 3, 48, 64))
