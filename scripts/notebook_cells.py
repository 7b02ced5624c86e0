"""The project's own cells of ``notebook.ipynb`` (see scripts/build_notebook.py).

Each entry is ``(kind, text)``: ``"md"`` markdown, ``"code"`` code, or ``"template"`` with the
template header whose code blocks are inserted unchanged.
"""

NOTEBOOK_CELLS: list[tuple[str, str]] = [
    (
        "md",
        """
# Homework 2: Image segmentation without user input

A classifier's **Grad-CAM** heat map is turned into point prompts, and a segmenter (SAM when
its checkpoint is available) segments the shape from those points, with no user input.
The implementation lives in the repository's packages (`cam/`, `prompting/`,
`sam_pipelines/`, `metrics/`); this notebook imports them and runs start to end.

* Colab: see the README for the link.
* Offline or without the SAM checkpoint, the notebook still runs: it generates a look-alike
  dataset, trains the classifier from scratch and segments with a classical back end. Every
  table names the segmenter that produced it.
* `CAMSAM_SMOKE=1` runs a tiny smoke version (used by the project's tests).
""",
    ),
    ("md", "# 0. Preliminaries\n\n## Imports"),
    ("template", "Imports"),
    (
        "md",
        """
## Project setup and offline fallbacks

Imports the project's packages and makes sure the template's cells below can run here:
the course dataset is downloaded when reachable (else a look-alike is generated), and when
ImageNet weights are unreachable the classifier is trained from scratch and saved where the
template loads it from.
""",
    ),
    (
        "code",
        """
import sys
sys.path.insert(0, str(Path.cwd()))  # the repository root, when run from a checkout

from evaluation.notebook_setup import (
    NotebookSettings,
    prepare_classifier_checkpoint,
    prepare_dataset,
)

settings = NotebookSettings.from_env()
print(settings)
print(prepare_dataset(Path("./data/synthetic_shapes"), settings))
""",
    ),
    ("md", "## Dataset [do not modify]"),
    ("template", "Dataset [do not modify]"),
    (
        "md",
        """
## Classifier checkpoint (offline fallback)

With ImageNet weights reachable this does nothing and the template below fine-tunes for 5
epochs. Without them, ResNet-18 from scratch stays at chance on this data with the template's
recipe, so the project's curriculum recipe trains it and saves `model_checkpoint.pth`.
""",
    ),
    (
        "code",
        """
classifier_setup = prepare_classifier_checkpoint(
    Path("./model_checkpoint.pth"), Path("./data/synthetic_shapes"), settings
)
print(classifier_setup["action"])
""",
    ),
    ("md", "## Training a classifier [do not modify]"),
    ("template", "Training a classifier [do not modify]"),
    (
        "md",
        """
# 1. GradCAM

## GradCAM implementation (add your code)

`cam.GradCAM` follows the paper: the gradients of the pre-softmax class score with respect to
the target layer's activations are averaged over space to weight the activation channels; the
weighted sum goes through a ReLU, is upsampled bilinearly to the input size and rescaled
min..max to 0..1 per image and per layer (several layers are averaged). Gradients come from
`torch.autograd.grad` with respect to the target layers' outputs only, so no parameter
gradients are formed and the model's state is left as it was. The source is printed below.
""",
    ),
    (
        "code",
        """
import inspect

import cam
from cam import GradCAM

print(inspect.getsource(cam.base))
print(inspect.getsource(cam.methods.GradCAM))
""",
    ),
    ("md", "## GradCAM results [do not modify]"),
    ("template", "GradCAM results [do not modify]"),
    (
        "md",
        """
## More Grad-CAM results: GradCAM++ and LayerCAM

The same three test images with the two other CAM methods that share `cam.GradCAM`'s base.
""",
    ),
    (
        "code",
        """
from cam import GradCAMPlusPlus, LayerCAM
from cam.overlay import heatmap_to_rgb

def compare_cam_methods(indices=(3, 10, 42)):
    methods = {"Grad-CAM": GradCAM, "Grad-CAM++": GradCAMPlusPlus, "LayerCAM": LayerCAM}
    for test_idx in indices:
        if test_idx >= len(test_dataset):
            continue
        img, label, mask = test_dataset[test_idx]
        row = {"Input image": inverse_transform(img)}
        for title, method in methods.items():
            heat = method(model, target_layers)(img.unsqueeze(0).to(device), targets=[label])[0]
            row[title] = heatmap_to_rgb(heat)
        row["Ground-truth mask"] = mask
        show_image_row(row)

compare_cam_methods()
""",
    ),
]
