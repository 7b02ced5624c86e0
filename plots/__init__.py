"""The report's figures and the report itself, from what ``scripts/compare_strategies.py`` saved.

Modules: ``charts``, ``examples``, ``features`` (the only one that runs a model), ``style``
(shared look, saving), ``make`` (for ``scripts/make_figures.py``), ``report`` (for
``scripts/make_report.py``). Every figure function returns a pyplot-free
``matplotlib.figure.Figure``; :func:`plots.style.save_figure` writes PNG and PDF.
"""
