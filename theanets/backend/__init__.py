"""The one module that talks to PyTensor.

Everything else in theanets imports tensor operations, ``floatX``, shared
variables, compilation and random streams from here, so the graph compiler
can be configured (and swapped) in one place.

Compile modes
-------------
``'c'`` (default)
    PyTensor's C virtual machine (``CVM``) with a BLAS found automatically.
``'numba'``
    PyTensor's Numba backend.
``'jax'``
    PyTensor's JAX backend: the path to GPUs. It also runs on the CPU.
``'python'``
    PyTensor's ``FAST_COMPILE`` mode: no C compilation, slow to run; for
    debugging and quick experiments.

Pick one with the ``THEANETS_MODE`` environment variable or at run time with
``theanets.config.mode = 'numba'``. Models compiled before a change keep
their compiled functions.
"""

import logging
import os
import warnings

import numpy as np

# floatX follows PyTensor's config when the user set it; otherwise float32.
if 'floatX' not in os.environ.get('PYTENSOR_FLAGS', ''):
    _flags = os.environ.get('PYTENSOR_FLAGS', '')
    os.environ['PYTENSOR_FLAGS'] = ','.join(
        f for f in (_flags, 'floatX=float32') if f)

import pytensor  # noqa: E402
import pytensor.tensor as TT  # noqa: E402
from pytensor.compile.sharedvalue import SharedVariable  # noqa: E402
from pytensor.graph.basic import Variable, equal_computations  # noqa: E402
from pytensor.graph.replace import clone_replace  # noqa: E402
from pytensor.tensor.random.utils import RandomStream  # noqa: E402

if 'floatX' not in os.environ.get('PYTENSOR_FLAGS', '').replace(
        'floatX=float32', ''):
    # pytensor may have been imported before us, before the flag was set.
    pytensor.config.floatX = 'float32'

__all__ = [
    'TT', 'Variable', 'SharedVariable', 'equal_computations', 'config',
    'floatX', 'cast', 'shared', 'shared_like', 'compile', 'grad', 'scan',
    'clone_replace', 'random_stream', 'blas_status', 'BlasWarning', 'MODES',
]

log = logging.getLogger('theanets')

#: theanets mode name -> PyTensor mode name.
MODES = {
    'c': 'CVM',
    'numba': 'NUMBA',
    'jax': 'JAX',
    'python': 'FAST_COMPILE',
}

grad = pytensor.grad

from . import cmode  # noqa: E402
from .cmode import BlasWarning  # noqa: E402


def _pytensor_mode(name):
    """The PyTensor mode (name or ``Mode``) for theanets mode ``name``."""
    if name == 'c':
        return cmode.mode()
    if name == 'jax':
        # scan_pushout_add moves a loop's summed products out of the loop
        # with a reshape to computed sizes (time * n), which JAX refuses.
        return pytensor.compile.mode.get_mode('JAX').excluding(
            'scan_pushout_add')
    return MODES[name]


class Config:
    """Run-time settings of theanets (``theanets.config``).

    Attributes
    ----------
    mode : str, default='c'
        Compile mode for newly compiled functions: one of ``'c'``,
        ``'numba'``, ``'jax'``, ``'python'``. Read from ``THEANETS_MODE`` at
        import time.
    """

    def __init__(self):
        self._mode = None
        self.mode = os.environ.get('THEANETS_MODE', 'c')

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, value):
        name = str(value).lower()
        if name not in MODES:
            raise ValueError(
                f'unknown compile mode {value!r}; expected one of '
                f'{sorted(MODES)} (set with THEANETS_MODE or '
                f'theanets.config.mode)')
        self._mode = name

    def __repr__(self):
        return f'Config(mode={self._mode!r}, floatX={floatX()!r})'


config = Config()


def floatX():
    """The float dtype of parameters and data: PyTensor's ``floatX``."""
    return pytensor.config.floatX


def cast(array):
    """Return ``array`` as a C-contiguous numpy array of dtype floatX.

    A scalar stays 0-d (``np.ascontiguousarray`` would make it 1-d).
    """
    array = np.asarray(array, dtype=floatX())
    return np.ascontiguousarray(array) if array.ndim else array


def shared(value, name=None, **kwargs):
    """Create a PyTensor shared variable holding ``value`` cast to floatX."""
    return pytensor.shared(cast(value), name=name, **kwargs)


def shared_like(param, suffix, value=0.0):
    """A shared variable shaped and typed like ``param``, filled with ``value``.

    Used for optimizer state (velocities, running averages).

    Parameters
    ----------
    param : SharedVariable
        The parameter to copy the shape, dtype and broadcast pattern of.
    suffix : str
        Appended to the parameter's name: ``'hid1.w_vel'``.
    value : float, default=0.0
        Initial value of every element.
    """
    current = param.get_value(borrow=True)
    return pytensor.shared(
        np.full(current.shape, value, dtype=current.dtype),
        name=f'{param.name}_{suffix}',
        shape=param.type.shape)


def scan(fn, **kwargs):
    """``pytensor.scan`` whose loop body compiles in theanets' mode.

    Scan compiles its inner function on its own, in FAST_RUN (C code)
    unless told otherwise; in the ``'python'`` mode it should skip C
    compilation like the outer function does, and in the ``'c'`` mode it
    inlines the softmax ops like the outer function does.
    """
    if config.mode in ('python', 'c'):
        kwargs.setdefault('mode', _pytensor_mode(config.mode))
    return pytensor.scan(fn, **kwargs)


def random_stream(seed):
    """A seeded stream of symbolic random numbers (for noise and dropout)."""
    with warnings.catch_warnings():
        # PyTensor 3 deprecates RandomStream in favour of shared_rng(), whose
        # state updates must be threaded through every compiled function by
        # hand; RandomStream still works and updates its state itself.
        warnings.simplefilter('ignore', FutureWarning)
        return RandomStream(seed=int(seed))


def blas_status():
    """The BLAS linker flags of the C mode, set up once per process.

    See :func:`theanets.backend.cmode.blas_status`.
    """
    return cmode.blas_status()


_jax_state = {'cache': None}


def _jax_cache():
    """Turn on JAX's persistent compilation cache for the JAX mode, once.

    Like PyTensor's cache of C modules, it keeps compiled functions on disk
    for the next process: in ``<PyTensor compiledir>/theanets-jax``, for
    every function however quick to compile (JAX's default skips those under
    one second, which are all of a small model's). A warm start measured
    2.0 s instead of 2.8-3.0 s here. A cache directory configured for JAX
    (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``) is used as it is.
    Returns the directory, or None when JAX has no such cache.
    """
    if _jax_state['cache'] is None:
        _jax_state['cache'] = ''
        try:
            import jax
            current = jax.config.jax_compilation_cache_dir
        except (ImportError, AttributeError):
            return None
        if not current:
            current = os.path.join(pytensor.config.compiledir, 'theanets-jax')
            jax.config.update('jax_compilation_cache_dir', current)
            jax.config.update('jax_persistent_cache_min_compile_time_secs', 0)
        _jax_state['cache'] = current
    return _jax_state['cache'] or None


def compile(inputs, outputs, updates=None, mode=None, name=None):
    """Compile a PyTensor function in theanets' current mode.

    Parameters
    ----------
    inputs : list of Variable
        Symbolic inputs, in call order.
    outputs : Variable or list of Variable
        What the function returns.
    updates : list of (SharedVariable, Variable), optional
        Shared-variable updates applied by every call.
    mode : str, optional
        A theanets mode name; defaults to ``theanets.config.mode``.
    name : str, optional
        A name for profiling and error messages.
    """
    mode = (mode or config.mode).lower()
    if mode not in MODES:
        raise ValueError(f'unknown compile mode {mode!r}; expected one of '
                         f'{sorted(MODES)}')
    if mode == 'c':
        cmode.setup()
    elif mode == 'jax':
        _jax_cache()
        from . import lstm_jax
        lstm_jax.register()
    with warnings.catch_warnings():
        # PyTensor's own BLAS warning is replaced by blas_status()'s.
        warnings.filterwarnings('ignore', message='PyTensor could not link')
        return pytensor.function(
            list(inputs), outputs, updates=updates or [],
            mode=_pytensor_mode(mode),
            on_unused_input='ignore', name=name)
