"""BatchNorm folding in the CAM (``cam.batchnorm_fold``): the folded weights equal conv + BN, the
maps equal the unfolded ones, folded weights follow the model's weights, only convolutions
whose one user is the BatchNorm are folded, an untraceable model runs unfolded, nothing of the
model is changed afterwards, and tracing does not run the caller's hooks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torchvision.models import resnet18

from cam import GradCAM, GradCAMPlusPlus
from cam.batchnorm_fold import BatchNormFolding, foldable_pairs, folded_weights


def _resnet() -> nn.Module:
    """A small-input ResNet-18 with non-trivial BatchNorm statistics and affine parameters."""
    torch.manual_seed(0)
    model = resnet18(num_classes=5)
    generator = torch.Generator().manual_seed(1)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            n = module.num_features
            module.running_mean.copy_(torch.randn(n, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(n, generator=generator) + 0.5)
            with torch.no_grad():
                module.weight.copy_(torch.rand(n, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(n, generator=generator) * 0.1)
    return model.eval()


def _images(n: int = 4) -> torch.Tensor:
    return torch.randn(n, 3, 48, 64, generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("affine", [False, True])
def test_folded_weights_equal_conv_then_batchnorm(bias: bool, affine: bool) -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 6, 3, padding=1, bias=bias, groups=1).double()
    bn = nn.BatchNorm2d(6, affine=affine).double().eval()
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    if affine:
        with torch.no_grad():
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.normal_()
    x = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    weight, bias_ = folded_weights(conv, bn)
    expected = bn(conv(x))
    got = nn.functional.conv2d(x, weight, bias_, padding=1)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("method", [GradCAM, GradCAMPlusPlus])
def test_folded_maps_equal_the_unfolded_ones(method) -> None:
    model = _resnet()
    images, targets = _images(), [0, 1, 2, 3]
    folded = method(model, [model.layer2[-1], model.layer3[0].bn1])
    plain = method(model, [model.layer2[-1], model.layer3[0].bn1], fold_batchnorm=False)
    a, b = folded.compute(images, targets), plain.compute(images, targets)
    assert folded.fold_status == "20 conv -> BatchNorm pair(s) folded"
    assert plain.fold_status == "off"
    np.testing.assert_allclose(a.heatmaps, b.heatmaps, atol=1e-4)
    np.testing.assert_allclose(a.logits, b.logits, rtol=1e-4, atol=1e-4)
    for x, y in zip(a.layer_maps, b.layer_maps, strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-4, atol=1e-5 * float(np.abs(y).max()))


def test_the_model_is_left_as_it_was() -> None:
    model = _resnet()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    GradCAM(model, [model.layer2[-1]])(_images(), [0, 1, 2, 3])
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
    assert not any("forward" in vars(module) for module in model.modules())


def test_folded_weights_follow_the_model() -> None:
    model = _resnet()
    cam = GradCAM(model, [model.layer2[-1]])
    images, targets = _images(), [0, 1, 2, 3]
    cam(images, targets)
    with torch.no_grad():  # an in-place update, as an optimiser step makes
        model.layer1[0].conv1.weight.mul_(1.5)
        model.layer2[0].bn2.running_var.mul_(2.0)
    expected = GradCAM(model, [model.layer2[-1]], fold_batchnorm=False)(images, targets)
    np.testing.assert_allclose(cam(images, targets), expected, atol=1e-4)
    model.load_state_dict(_resnet().state_dict())  # new tensors' values copied in
    expected = GradCAM(model, [model.layer2[-1]], fold_batchnorm=False)(images, targets)
    np.testing.assert_allclose(cam(images, targets), expected, atol=1e-4)


class _SharedConv(nn.Module):
    """conv1's output goes to bn1 and to a skip connection: folding it would be wrong."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(8)
        self.head = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.conv1(x)
        y = self.bn2(self.conv2(torch.relu(self.bn1(a)))) + a
        return self.head(y.mean(dim=(2, 3)))


def test_only_a_convolution_whose_one_user_is_the_batchnorm_is_folded() -> None:
    model = _SharedConv().eval()
    assert foldable_pairs(model) == [("conv2", "bn2")]
    x = torch.randn(2, 3, 12, 16)
    folded = GradCAM(model, [model.bn1])(x, [0, 2])
    plain = GradCAM(model, [model.bn1], fold_batchnorm=False)(x, [0, 2])
    np.testing.assert_allclose(folded, plain, atol=1e-5)


class _StandardisedConv(nn.Conv2d):
    """A subclass that computes otherwise (weight standardisation): never folded."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = self.weight
        w = (w - w.mean(dim=(1, 2, 3), keepdim=True)) / (w.std(dim=(1, 2, 3), keepdim=True) + 1e-5)
        return self._conv_forward(x, w, self.bias)


def test_a_convolution_subclass_with_its_own_forward_is_not_folded() -> None:
    model = _SharedConv().eval()
    model.conv2 = _StandardisedConv(8, 8, 3, padding=1)
    assert foldable_pairs(model) == []
    x = torch.randn(2, 3, 12, 16)
    np.testing.assert_array_equal(
        GradCAM(model, [model.bn1])(x, [0, 2]),
        GradCAM(model, [model.bn1], fold_batchnorm=False)(x, [0, 2]),
    )


class _Untraceable(_SharedConv):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:  # data-dependent control flow: torch.fx cannot trace it
            x = x * 2
        return super().forward(x)


def test_an_untraceable_model_runs_unfolded() -> None:
    model = _Untraceable().eval()
    x = torch.randn(2, 3, 12, 16)
    cam = GradCAM(model, [model.bn1])
    np.testing.assert_array_equal(
        cam(x, [0, 1]), GradCAM(model, [model.bn1], fold_batchnorm=False)(x, [0, 1])
    )
    assert cam.fold_status.startswith("not folded: torch.fx could not trace the model")


def test_tracing_runs_none_of_the_callers_hooks() -> None:
    model = _resnet()
    seen: list[type] = []
    handle = model.layer2.register_forward_hook(lambda m, i, o: seen.append(type(o)))
    folding = BatchNormFolding(model)
    with folding.applied() as pairs:
        assert pairs == 20
    assert seen == []  # the trace went through layer2 without calling its hook
    model(_images(1))
    assert seen == [torch.Tensor]
    handle.remove()
