"""The documentation builds without a warning and covers every registered name.

The build runs ``sphinx-build -W`` (warnings are errors) into a temporary
folder when Sphinx is installed (``pip install '.[docs]'``) and is skipped
otherwise. The coverage check needs no Sphinx: every layer form, activation,
loss, regularizer keyword, algorithm, trainer and training keyword that the
code registers must be named somewhere in the user guide, so a new one cannot
land undocumented.
"""

import glob
import importlib
import importlib.util
import os
import re
import subprocess
import sys

import pytest

import theanets
from theanets import optimize, trainer

# Register the recurrent and convolution forms, whatever ran before.
for _module in ('theanets.recurrent', 'theanets.convolution'):
    if importlib.util.find_spec(_module) is not None:
        importlib.import_module(_module)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, 'docs')


@pytest.mark.skipif(importlib.util.find_spec('sphinx') is None,
                    reason='Sphinx is not installed (pip install ".[docs]")')
def test_docs_build_without_warnings(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    proc = subprocess.run(
        [sys.executable, '-m', 'sphinx', '-W', '--keep-going', '-q',
         '-b', 'html', '-d', str(tmp_path / 'doctrees'), DOCS,
         str(tmp_path / 'html')],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert proc.returncode == 0, (
        f'sphinx-build failed (exit {proc.returncode}):\n'
        f'{proc.stderr[-6000:]}\n{proc.stdout[-2000:]}')
    assert (tmp_path / 'html' / 'index.html').is_file()
    assert (tmp_path / 'html' / 'api' / 'models.html').is_file()


def _guide_text():
    pages = glob.glob(os.path.join(DOCS, '*.rst')) + glob.glob(
        os.path.join(DOCS, 'guide', '*.rst'))
    text = []
    for page in pages:
        with open(page, encoding='utf-8') as handle:
            text.append(handle.read())
    return '\n'.join(text).lower()


def _own_names(registry, aliases_only=False):
    """Registered names; with ``aliases_only``, skip bare class names of
    classes that have aliases (those are the names users type)."""
    names = set()
    for name, cls in registry.items():
        if not cls.__module__.startswith('theanets.'):
            continue  # a user's (or a test's) subclass
        own = tuple(getattr(cls, 'aliases', ()))
        if aliases_only and own and name not in own:
            continue
        names.add(name)
    return names


def _missing(names, text):
    return sorted(n for n in names if not re.search(
        r'(?<![a-z0-9_])' + re.escape(n.lower()) + r'(?![a-z0-9_])', text))


@pytest.mark.parametrize('kind, names', [
    ('layer form', lambda: _own_names(theanets.Layer._registry)),
    ('activation', lambda: _own_names(theanets.Activation._registry)),
    ('loss', lambda: _own_names(theanets.Loss._registry)),
    ('regularizer keyword',
     lambda: _own_names(theanets.Regularizer._registry, aliases_only=True)),
    ('algorithm', lambda: _own_names(optimize.UpdateRule._registry)),
    ('trainer', lambda: {n for n, c in trainer.Trainer._registry.items()
                         if n in getattr(c, 'aliases', ())}),
    ('training keyword', lambda: set(optimize.ITERATE_OPTIONS) | set(
        optimize.BUILD_OPTIONS) | set(trainer.TRAINER_OPTIONS)),
])
def test_guide_names_every_registered_name(kind, names):
    missing = _missing(names(), _guide_text())
    assert not missing, (f'the user guide (docs/*.rst, docs/guide/*.rst) '
                         f'never names the {kind}(s) {missing}')
