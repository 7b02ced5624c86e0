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
    (
        "md",
        """
# 2. Segmentation with SAM, without user input

## Segmenter

`sam_pipelines.resolve_segmenter("auto")` uses SAM ViT-B when its checkpoint is found
(`SAM_CHECKPOINT`, then `checkpoints/sam_vit_b_01ec64.pth`, then the official download) and
otherwise falls back to the best weight-free classical back end with a warning. SAM's image
embeddings are cached per image, so the two pipelines below cost one encoder pass per image.
""",
    ),
    (
        "code",
        """
from sam_pipelines import (
    BasicSamPipeline,
    ForegroundBackgroundPointsPipeline,
    ForegroundPointsPipeline,
    resolve_segmenter,
)

segmenter = resolve_segmenter(settings.segmenter, checkpoint=settings.sam_checkpoint, device=device)
print("segmenter:", segmenter.describe())
""",
    ),
    (
        "md",
        """
## `BasicSamPipeline`

The assignment's contract: `__call__(images)` takes a normalised batch (B, 3, H, W) and returns
bool masks (B, H, W); `segment(images, point_coords, point_labels)` takes int points (B, N, 2)
in (x, y) order and labels (B, N) (1 foreground, 0 background), runs `set_image` and
`predict(..., multimask_output=True)` per image and keeps the mask with the highest score. The
base class prompts the image centre. Both approaches below subclass it and override `__call__`
only.
""",
    ),
    (
        "code",
        """
print(inspect.getsource(BasicSamPipeline.segment))
baseline = BasicSamPipeline(segmenter)
""",
    ),
    (
        "md",
        """
## The two approaches

The strategies come from the `prompting` registry; `scripts/compare_strategies.py` compares all
of them (the table at the end of this notebook) and these two are the best of each kind there.
""",
    ),
    (
        "code",
        """
from prompting import get_strategy

FG_STRATEGY = "segment_heat"        # approach 1: foreground point(s) only
FG_BG_STRATEGY = "segment_heat_bg"  # approach 2: foreground and background points

for name in (FG_STRATEGY, FG_BG_STRATEGY):
    print(f"{name}: {get_strategy(name).description}")

model.eval()
pipeline_fg = ForegroundPointsPipeline(model, FG_STRATEGY, GradCAM, target_layers=target_layers,
                                       segmenter=segmenter)
pipeline_fg_bg = ForegroundBackgroundPointsPipeline(model, FG_BG_STRATEGY, GradCAM,
                                                    target_layers=target_layers,
                                                    segmenter=segmenter)
print(pipeline_fg.settings())
print(pipeline_fg_bg.settings())
""",
    ),
    (
        "md",
        """
## Evaluation

Both pipelines on the test split with the template's evaluation batch size (5). Point metrics
are reported separately for foreground points (*hit rate*: share inside the ground-truth mask;
*distance*: pixels to the mask's centre of mass) and background points (*correctness*: share
outside the mask; a high hit rate would be bad for them). IoU is per image, averaged.
""",
    ),
    (
        "code",
        """
from evaluation.pipeline_eval import evaluate_pipeline
from evaluation.tables import latex_table, text_table

results = [
    evaluate_pipeline(p, test_dataset, batch_size=5, limit=settings.limit)
    for p in (pipeline_fg, pipeline_fg_bg)
]
rows = [{k: v for k, v in r.items() if k != "arrays"} for r in results]
caption = f"Test split ({rows[0]['n_images']} images), segmenter: {segmenter.describe()}"
print(text_table(rows, caption))
for row in rows:
    print(row["strategy"], "per-class mIoU:",
          {k: round(v, 3) for k, v in row["per_class_miou"].items()})
""",
    ),
    (
        "code",
        """
print(latex_table(rows, caption, label="tab:pipelines"))
""",
    ),
    ("md", "## Examples"),
    (
        "code",
        """
from evaluation.pipeline_eval import to_comparison_results
from figures_lib.examples import strategy_examples_figure

evaluated = to_comparison_results(results, segmenter.describe())
for row in rows:
    display(strategy_examples_figure(evaluated, row["strategy"]))
""",
    ),
    (
        "md",
        """
## All strategies

`python scripts/compare_strategies.py` writes `figures/metrics.tex` with every registered
strategy, the oracle ceiling and the supervised reference; it is shown here when present.
""",
    ),
    (
        "code",
        """
table = Path("figures/metrics.tex")
print(table.read_text() if table.exists() else "run scripts/compare_strategies.py to make it")
""",
    ),
]
