"""The report's figures and the report itself, drawn from what ``scripts/compare_strategies.py``
saved (matplotlib, Agg; read with :func:`evaluation.results.load_results`).

Modules: ``charts`` (IoU distributions, per-class IoU, point metrics, the classifier's learning
curve), ``examples`` (image galleries), ``gradcam`` (the template's Grad-CAM check), ``features``
(feature maps; runs a model), ``style`` (the shared look and saving), ``make`` (every figure of a
results folder, for ``scripts/make_figures.py``), ``report`` and ``latex`` (the report, for
``scripts/make_report.py``).

Every figure function returns a pyplot-free ``matplotlib.figure.Figure``; write it with
:func:`plots.style.save_figure` (PNG at 150 dpi and vector PDF). Only the feature-map figures
run a model; the others read saved arrays.
"""
