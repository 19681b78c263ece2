"""Sphinx configuration of the lessons book (built by scripts/book.sh; see book/index.md).

scripts/book.sh copies this file, index.md, notebooks/*.ipynb and docs/*.md into a staging folder
and runs sphinx-build on it. MLCORE_BOOK_EXECUTE says whether myst-nb executes the notebooks
("force": every notebook, in full mode unless MLCORE_QUICK=1) or renders copies that were
already executed ("off").
"""

import os

project = "mlcore: the lessons"
author = "the mlcore authors"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "jupyter_execute", "**.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# A notebook that raises fails the build; every warning fails it too (sphinx-build -W).
nb_execution_mode = os.environ.get("MLCORE_BOOK_EXECUTE", "force")
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_allow_errors = False
nb_merge_streams = True

myst_heading_anchors = 3  # "#1-one-primitive-call-one-record" style anchors for ## and ###
html_theme = "alabaster"
html_title = project
html_theme_options = {"description": "classic ML on CPU, GPU and a TPU-style array"}
