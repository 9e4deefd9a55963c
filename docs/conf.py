"""Sphinx configuration of the theanets documentation.

Build with ``python -m sphinx -W -b html docs docs/_build/html`` from the
repository root (``pip install '.[docs]'`` installs Sphinx). The API pages
import theanets from this checkout, so the reference always describes the
code beside it; the command-line page runs ``theanets COMMAND --help`` at
build time for the same reason.
"""

import contextlib
import io
import os
import re
import sys

from docutils import nodes
from docutils.parsers.rst import Directive, directives

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
# Importing theanets compiles nothing; the python mode keeps any example
# that does compile (none runs at build time today) quick.
os.environ.setdefault('THEANETS_MODE', 'python')

with open(os.path.join(ROOT, 'theanets', '__init__.py')) as _handle:
    release = re.search(r"__version__ = '([^']+)'", _handle.read()).group(1)
version = '.'.join(release.split('.')[:2])

project = 'theanets'
author = 'the theanets developers'
copyright = 'the theanets developers'

extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]

# numpydoc-style docstrings, read by napoleon (no numpydoc dependency).
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# ':ivar:' fields for "Attributes" sections, so an attribute that is also a
# documented property is not described twice.
napoleon_use_ivar = True
napoleon_use_rtype = False

autodoc_member_order = 'bysource'
autodoc_default_options = {
    'members': True,
    'show-inheritance': True,
}
autodoc_typehints = 'none'
autoclass_content = 'class'
add_module_names = False

templates_path = []
exclude_patterns = ['_build']
master_doc = 'index'
source_suffix = {'.rst': 'restructuredtext'}
pygments_style = 'sphinx'
default_role = 'literal'

html_theme = 'alabaster'
html_title = f'theanets {release}'
html_static_path = []
html_theme_options = {
    'description': 'Neural networks on PyTensor',
    'fixed_sidebar': True,
}


class CommandHelp(Directive):
    """``.. theanets-help:: train`` inserts ``theanets train --help``.

    With no argument, the output of ``theanets --help``. The text comes from
    the command itself at build time (80 columns), so it cannot drift from
    the code.
    """

    optional_arguments = 1
    has_content = False
    option_spec = {'caption': directives.unchanged}

    def run(self):
        from theanets import cli
        argv = (self.arguments[0].split() if self.arguments else []) + ['--help']
        old = os.environ.get('COLUMNS')
        os.environ['COLUMNS'] = '80'
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                cli.main(argv)
        finally:
            if old is None:
                os.environ.pop('COLUMNS', None)
            else:
                os.environ['COLUMNS'] = old
        text = out.getvalue().rstrip()
        if not text:
            raise self.error(f'theanets {" ".join(argv)} printed nothing')
        block = nodes.literal_block(text, text)
        block['language'] = 'text'
        return [block]


class AlgorithmTable(Directive):
    """``.. theanets-algorithms::`` inserts a table of every registered
    update rule with its hyperparameters and their defaults, read from the
    keyword-only arguments of each rule's constructor."""

    has_content = False

    def run(self):
        import inspect

        from docutils.statemachine import StringList

        from theanets import optimize
        classes = {}
        for name, cls in sorted(optimize.UpdateRule._registry.items()):
            classes.setdefault(cls, []).append(name)
        rows = []
        for cls, names in classes.items():
            params = inspect.signature(cls.__init__).parameters.values()
            hyper = ', '.join(
                f'``{p.name}={p.default!r}``' for p in params
                if p.kind is inspect.Parameter.KEYWORD_ONLY)
            path = f'{cls.__module__}.{cls.__qualname__}'
            rows += [f'   * - ``{names[0]}``',
                     f'     - :class:`~{path}`',
                     f'     - {hyper}']
        lines = ['.. list-table::', '   :header-rows: 1',
                 '   :widths: 12 18 70', '',
                 '   * - ``algo``', '     - class',
                 '     - hyperparameters (defaults)'] + rows
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source='theanets-algorithms'),
                                self.content_offset, node)
        return node.children


def setup(app):
    app.add_directive('theanets-help', CommandHelp)
    app.add_directive('theanets-algorithms', AlgorithmTable)
