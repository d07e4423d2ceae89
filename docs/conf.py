"""Sphinx configuration: numpydoc API reference, Sphinx-Gallery examples, PyData theme.

Build (from the repository root, warnings are errors)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Document this checkout, whatever copy of the package is installed; Sphinx-Gallery
# runs the examples in this process, so they import it too.
sys.path.insert(0, str(ROOT))

import sklearn_rrae  # noqa: E402

project = "sklearn-rrae"
author = "sklearn-rrae developers"
copyright = "2026, sklearn-rrae developers"
version = release = sklearn_rrae.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb", "auto_examples/*.py"]
templates_path = ["_templates"]
default_role = "literal"

# -- API reference -------------------------------------------------------------------
autosummary_generate = True
# Members are listed by the class template, not by numpydoc, so each appears once.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Fail the build on docstrings that lack the sections every public object must have:
# a summary, documented parameters and returns, See Also and Examples.
numpydoc_validation_checks = {"GL08", "SS01", "PR01", "PR02", "PR07", "RT01", "RT03", "SA01", "EX01"}
numpydoc_validation_exclude = {
    # Methods inherited from scikit-learn and Python: documented upstream.
    r"\.get_params$",
    r"\.set_params$",
    r"\.set_output$",
    r"\.fit_transform$",
    r"\.get_feature_names_out$",
    r"\.get_metadata_routing$",
    r"\.__init__$",
    # Methods of the estimators: their class docstring carries See Also and Examples.
    r"\.(fit|transform|inverse_transform|score|score_samples|initialize|on_\w+)$",
    r"\.module_$",
}

# -- Gallery -------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    # quickstart.py is the README's script, not a gallery page.
    "ignore_pattern": r"quickstart\.py|__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("sklearn_rrae",),
    "backreferences_dir": "generated/backreferences",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "show_memory": False,
}

# -- HTML ----------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "sklearn-rrae"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"**": ["sidebar-nav-bs"], "index": [], "user_guide": [], "benchmarks": []}
myst_heading_anchors = 3


# -- Docstring hygiene -----------------------------------------------------------------
# In reST a word that ends with "_" is a hyperlink reference, so a type such as
# "ndarray of shape (n_components_, latent_dim)" would be a broken link. Escape those
# underscores in the type part of "name : type" lines, before numpydoc parses them.
_FIELD = re.compile(r"^(\s*[*\w]+\s+:\s+)(.*)$")
_TRAILING_UNDERSCORE = re.compile(r"(?<![`\\\w])(\w+)_(?=[\s,)\]]|$)")


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        match = _FIELD.match(line)
        if match and "`" not in match.group(2):
            lines[i] = match.group(1) + _TRAILING_UNDERSCORE.sub(r"\1\\_", match.group(2))


def setup(app):
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=100)
