"""Shared test settings.

Most tests compile in PyTensor's ``FAST_COMPILE`` mode (theanets mode
``'python'``): the graph is the same in every mode, and compiling C code for
every tiny model would cost minutes on an empty cache. ``test_backend.py``
runs the same model in every mode (``c``, ``numba``, ``jax``) and checks they
agree; set ``THEANETS_TEST_MODE=c`` to run the whole suite in another mode.
"""

import os

import numpy as np
import pytest

import theanets

theanets.config.mode = os.environ.get('THEANETS_TEST_MODE', 'python')


@pytest.fixture
def rng():
    return np.random.default_rng(0)
