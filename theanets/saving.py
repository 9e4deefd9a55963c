"""Model files: architecture as JSON plus parameter arrays, in a zip.

A saved model is data, never code. The zip holds ``model.json`` (format
version, model class, layer specs, losses, training history) and one
``.npy`` array per parameter, read back with ``allow_pickle=False``.
Saving writes a temporary file beside the target and renames it into place,
so a crash mid-save leaves the previous file intact. Loading never
unpickles: a pickle, a truncated file, a zip of something else or a file
from a newer format raises :class:`ModelFileError` and runs nothing.

The same state (without the zip) is what a model pickles to when it is sent
to another process (:meth:`Network.__getstate__`).
"""

import io
import json
import os
import tempfile
import zipfile

import numpy as np

from .util import ConfigurationError

__all__ = ['save', 'load', 'load_checkpoint', 'load_weights', 'to_state',
           'restore_state', 'ModelFileError', 'FORMAT_VERSION']

#: Version of the file layout this code writes; it reads this and older.
FORMAT_VERSION = 1
_MAGIC = 'theanets-model'
_JSON = 'model.json'


class ModelFileError(ValueError):
    """A file is not a theanets model this version can read."""


def to_state(net):
    """The model as plain data: JSON-able architecture + numpy arrays."""
    from . import __version__
    return {
        'format': _MAGIC,
        'version': FORMAT_VERSION,
        'theanets_version': __version__,
        'class': f'{type(net).__module__}.{type(net).__qualname__}',
        'weighted': net.weighted,
        'rng': net._rng_seed,
        'layers': [layer.to_spec() for layer in net.layers],
        'losses': [loss.to_spec() for loss in net.losses],
        'history': [[dict(t), dict(v)] for t, v in net.history],
        'params': {p.name: p.get_value() for p in net.params},
    }


def restore_state(net, state):
    """Rebuild ``net`` (a bare instance) from :func:`to_state`'s data."""
    from .graph import Network
    Network.__init__(net, layers=(), weighted=state['weighted'],
                     rng=state.get('rng') or 13)
    specs = state['layers']
    try:
        for i, spec in enumerate(specs):
            net.add_layer(dict(spec), is_output=i == len(specs) - 1 and i > 0)
        for spec in state['losses']:
            spec = dict(spec)
            net.add_loss(spec.pop('form'), **spec)
    except (ConfigurationError, TypeError, KeyError) as err:
        raise ModelFileError(f'cannot rebuild the saved architecture: {err}') from err
    values = state['params']
    for param in net.params:
        if param.name not in values:
            raise ModelFileError(f'the file has no values for parameter '
                                 f'{param.name!r}')
        value = np.asarray(values[param.name])
        expected = param.get_value(borrow=True)
        if value.shape != expected.shape:
            raise ModelFileError(
                f'parameter {param.name!r} has shape {value.shape} in the '
                f'file, but the architecture needs {expected.shape}')
        param.set_value(value.astype(expected.dtype))
    net.history = [tuple(pair) for pair in state.get('history', [])]
    return net


def save(net, target, extra=None):
    """Write ``net`` to ``target``, a path or a binary file object.

    Parameters
    ----------
    net : Network
    target : str, os.PathLike or binary file
        A path is written atomically (temporary file, then rename).
    extra : dict, optional
        ``{'json': {...}, 'arrays': {name: ndarray}}`` stored beside the
        model (the trainer keeps checkpoint state there).
    """
    state = to_state(net)
    params = state.pop('params')
    extra = extra or {}
    state['extra'] = extra.get('json', {})
    state['params'] = list(params)
    if hasattr(target, 'write'):
        _write_zip(target, state, params, extra.get('arrays', {}))
        return
    target = os.fspath(target)
    folder = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix='.tmp-', suffix='.theanets', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as handle:
            _write_zip(handle, state, params, extra.get('arrays', {}))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _write_zip(handle, state, params, arrays):
    with zipfile.ZipFile(handle, 'w', zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_JSON, json.dumps(state, indent=1))
        for prefix, group in (('params', params), ('extra', arrays)):
            for i, (name, value) in enumerate(group.items()):
                buffer = io.BytesIO()
                np.lib.format.write_array(buffer, np.asarray(value),
                                          allow_pickle=False)
                archive.writestr(f'{prefix}/{i:04d}.npy', buffer.getvalue())
        archive.writestr('extra/names.json', json.dumps(list(arrays)))


def _describe(source):
    return repr(os.fspath(source)) if not hasattr(source, 'read') else 'the file'


def _read(source):
    """Open, check and read a model file: (state, extra arrays)."""
    what = _describe(source)
    handle = source if hasattr(source, 'read') else open(source, 'rb')
    try:
        head = handle.read(4)
        handle.seek(-len(head), os.SEEK_CUR)
        if head[:1] == b'\x80' or head[:1] in (b'(', b']', b'}'):
            raise ModelFileError(
                f'{what} looks like a Python pickle (how the original theanets '
                'saved models). theanets never unpickles a file, because '
                'loading a pickle can run any code. Export the weights as '
                'arrays and load them into the same architecture: see the '
                "'Migrating from the original theanets' page of the docs.")
        if head != b'PK\x03\x04':
            raise ModelFileError(f'{what} is not a theanets model file (it '
                                 'is not a zip archive)')
        try:
            with zipfile.ZipFile(handle) as archive:
                names = set(archive.namelist())
                if _JSON not in names:
                    raise ModelFileError(f'{what} is a zip archive but not a '
                                         f'theanets model (no {_JSON} in it)')
                state = json.loads(archive.read(_JSON).decode('utf-8'))
                _check_header(state, what)
                state['params'] = {
                    name: _read_array(archive, f'params/{i:04d}.npy', what)
                    for i, name in enumerate(state['params'])}
                extra_names = json.loads(archive.read('extra/names.json'))
                arrays = {name: _read_array(archive, f'extra/{i:04d}.npy', what)
                          for i, name in enumerate(extra_names)}
        except (zipfile.BadZipFile, EOFError, KeyError, UnicodeDecodeError,
                json.JSONDecodeError, zipfile.LargeZipFile) as err:
            raise ModelFileError(f'{what} is truncated or corrupt ({err})') from err
    finally:
        if handle is not source:
            handle.close()
    return state, arrays


def _check_header(state, what):
    if not isinstance(state, dict) or state.get('format') != _MAGIC:
        raise ModelFileError(f'{what} is not a theanets model file')
    version = state.get('version')
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f'{what} was written in model format {version!r} by theanets '
            f'{state.get("theanets_version")}; this theanets reads format '
            f'{FORMAT_VERSION} and older: upgrade theanets to load it')


def _read_array(archive, name, what):
    try:
        with archive.open(name) as member:
            return np.lib.format.read_array(io.BytesIO(member.read()),
                                            allow_pickle=False)
    except ValueError as err:
        raise ModelFileError(f'{what}: array {name} is unreadable ({err})') from err


def load_checkpoint(source):
    """Load a model and the extra data saved with it: ``(net, extra)``.

    ``extra`` is ``{'json': ..., 'arrays': {...}}`` as given to :func:`save`.
    """
    from .graph import Network
    state, arrays = _read(source)
    cls = Network._models.get(state.get('class'))
    if cls is None:
        raise ModelFileError(
            f'{_describe(source)} holds a model of class {state.get("class")!r}'
            ', which is not defined in this process; import the module that '
            'defines it first')
    net = cls.__new__(cls)
    restore_state(net, state)
    return net, {'json': state.get('extra', {}), 'arrays': arrays}


def load(source):
    """Load a model saved by :func:`save` from a path or binary file."""
    return load_checkpoint(source)[0]


def load_weights(net, source):
    """Set ``net``'s parameters from arrays named like them (``'hid1.w'``).

    This is how a model trained with the original theanets moves here:
    in the old environment, ``numpy.savez('weights.npz', **{p.name:
    p.get_value() for p in net.params})``; here, build the same
    architecture and call ``net.load_weights('weights.npz')``.

    Parameters
    ----------
    net : Network
    source : dict or str or os.PathLike or file
        Parameter name -> array, or a ``.npz`` file of them (read with
        ``allow_pickle=False``).

    Raises
    ------
    ValueError
        A parameter missing from ``source``, an array of the wrong shape, or
        a name in ``source`` that the model does not have; nothing is
        changed then.
    """
    if isinstance(source, dict):
        arrays = {str(k): np.asarray(v) for k, v in source.items()}
    else:
        with np.load(source, allow_pickle=False) as archive:
            arrays = {k: archive[k] for k in archive.files}
    params = {p.name: p for p in net.params}
    extra = sorted(set(arrays) - set(params))
    missing = sorted(set(params) - set(arrays))
    if extra or missing:
        raise ValueError(
            f'the arrays do not match the model\'s parameters: missing '
            f'{missing or "none"}, unknown {extra or "none"} (the model has '
            f'{", ".join(params)})')
    for name, param in params.items():
        expected = param.get_value(borrow=True).shape
        if arrays[name].shape != expected:
            raise ValueError(f'{name}: expected an array of shape {expected}, '
                             f'got {arrays[name].shape}')
    for name, param in params.items():
        param.set_value(arrays[name].astype(param.dtype))
