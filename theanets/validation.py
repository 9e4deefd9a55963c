"""Validation at the door: every public entry point cleans its arrays here.

Each check returns a clean array (floatX or int32, C-contiguous) or raises
one ``ValueError`` that names the offending value and what was expected.
"""

import numpy as np

from .backend import floatX

__all__ = ['check_array', 'check_labels', 'check_lengths']


def _describe(shape):
    dims = ', '.join(['n'] + ['?' if s is None else str(s) for s in shape])
    return f'({dims})'


def _as_numeric(x, name):
    if x is None:
        raise ValueError(f'{name}: expected an array, got None')
    try:
        x = np.asarray(x)
    except (ValueError, TypeError) as err:
        raise ValueError(f'{name}: could not make an array ({err})') from None
    if x.dtype.kind not in 'biuf':
        raise ValueError(f'{name}: expected numbers, got an array of dtype '
                         f'{x.dtype} (kind {x.dtype.kind!r})')
    return x


def check_array(x, name, shape, what='features'):
    """Cast ``x`` to a floatX array of shape ``(n,) + shape``.

    Parameters
    ----------
    x : array-like
        The data; float64, integer and boolean values are cast to floatX.
    name : str
        What the array is, for messages (``'inputs'``).
    shape : tuple
        The expected shape of one sample; ``None`` entries accept any size.
    what : str, default='features'
        The word for the last axis in messages.

    Returns
    -------
    ndarray
        Contiguous, dtype floatX.

    Raises
    ------
    ValueError
        Wrong number of axes, wrong sizes, no samples, NaN or inf.
    """
    x = _as_numeric(x, name)
    shape = tuple(shape)
    if x.ndim != len(shape) + 1:
        hint = ''
        if x.ndim == len(shape) and what == 'features':
            hint = ' (for one sample, pass x[None])'
        raise ValueError(
            f'{name}: expected a {len(shape) + 1}-D array of shape '
            f'{_describe(shape)}, got a {x.ndim}-D array of shape '
            f'{x.shape}{hint}')
    if len(x) == 0:
        raise ValueError(f'{name}: got no samples (shape {x.shape})')
    for axis, (want, got) in enumerate(zip(shape, x.shape[1:]), 1):
        if want is not None and want != got:
            if axis == x.ndim - 1:
                raise ValueError(
                    f"{name}: expected {want} {what} (the model's size), "
                    f'got {got} (array shape {x.shape})')
            raise ValueError(
                f'{name}: expected shape {_describe(shape)}, got {x.shape}')
    x = np.ascontiguousarray(x, dtype=floatX())
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(
            f'{name}: found {x[tuple(bad)]} at index {tuple(bad.tolist())}; '
            'all values must be finite (no NaN or inf)')
    return x


def check_labels(y, name, shape, n_classes):
    """Cast integer class labels to int32 and check their range.

    Parameters
    ----------
    y : array-like
        Labels of shape ``(n,) + shape``; integer-valued floats are
        accepted.
    name : str
        For messages (``'labels'``).
    shape : tuple
        Expected shape of one sample's labels (``()`` for one label).
    n_classes : int
        Labels must lie in ``[0, n_classes)``.

    Returns
    -------
    ndarray of int32
    """
    y = _as_numeric(y, name)
    if y.ndim != len(shape) + 1:
        hint = ''
        if y.ndim == len(shape) + 2 and y.shape[-1] == n_classes:
            hint = ' (one-hot labels? pass y.argmax(axis=-1))'
        raise ValueError(
            f'{name}: expected a {len(shape) + 1}-D array of class indices '
            f'of shape {_describe(shape)}, got shape {y.shape}{hint}')
    if y.dtype.kind == 'f':
        if not np.isfinite(y).all() or (y != np.round(y)).any():
            raise ValueError(f'{name}: class labels must be whole numbers, '
                             f'got {y[~np.isfinite(y) | (y != np.round(y))][0]}')
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        bad = y.min() if y.min() < 0 else y.max()
        raise ValueError(
            f'{name}: label {bad} is outside [0, {n_classes}) (the model has '
            f'{n_classes} output classes)')
    return np.ascontiguousarray(y, dtype=np.int32)


def check_lengths(**arrays):
    """Raise when the named arrays do not all hold the same number of rows."""
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if len(set(lengths.values())) > 1:
        desc = ', '.join(f'{k} has {n}' for k, n in lengths.items())
        raise ValueError(f'arrays must have the same number of samples: {desc}')
