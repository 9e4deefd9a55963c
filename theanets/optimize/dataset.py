"""Mini-batches for training and validation.

A :class:`Dataset` turns arrays, a batch-making callable or an iterable of
batches into epochs of batches. Every batch is a tuple of C-contiguous numpy
arrays whose dtypes the compiled functions accept as they are: floats become
floatX and integers int32 (labels), unless explicit ``dtypes`` are given.
"""

import collections.abc
import logging

import numpy as np

from .. import backend

__all__ = ['Dataset']

log = logging.getLogger('theanets')


def _convert(array, dtype=None):
    """``array`` as a C-contiguous numpy array of ``dtype`` (or the default).

    The default keeps integer arrays (class labels) as int32 and casts
    everything else to floatX.
    """
    array = np.asarray(array)
    if dtype is None:
        dtype = 'int32' if array.dtype.kind in 'iu' else backend.floatX()
    return np.ascontiguousarray(array, dtype=dtype)


class Dataset:
    """Batches of data, one epoch per iteration.

    Parameters
    ----------
    data : tuple of ndarray, ndarray, callable or iterable of tuples
        - A tuple or list of arrays with the same first dimension (the
          samples), for example ``(inputs, targets)``; a single array means
          ``(array,)``. The arrays are converted once; each pass over them
          uses a fresh shuffle (unless ``shuffle=False``), and batches are
          consecutive slices of the shuffled arrays.
        - A callable returning one batch (a tuple of arrays) per call.
        - An iterable of batches, each a tuple of arrays (a list of tuples,
          a generator, ...).
    name : str, default='train'
        Used in log lines and error messages.
    batch_size : int, default=32
        Samples per batch, for array data. The last batch of a pass may be
        smaller.
    iteration_size : int, optional
        Batches per epoch. For arrays it defaults to one pass over the data;
        when given, each epoch continues where the previous one stopped
        (reshuffling at the end of each pass). For a callable it defaults to
        ``len(data)`` when the callable has a length, else 100. For an
        iterable it defaults to one pass through it; when given, batches are
        drawn from one running iterator that restarts when it runs out.
    rng : int or numpy.random.Generator, default=13
        Seed (or generator) for shuffling.
    shuffle : bool, default=True
        Shuffle array data at the start of every pass.
    dtypes : sequence of str, optional
        One dtype per array. Defaults to floatX for floats (and booleans) and
        int32 for integers.

    Raises
    ------
    ValueError
        When the arrays are empty or have different lengths, or
        ``batch_size`` / ``iteration_size`` are not positive.

    Examples
    --------
    >>> import numpy as np
    >>> ds = Dataset((np.zeros((10, 3)), np.arange(10)), batch_size=4)
    >>> [len(x) for x, y in ds]
    [4, 4, 2]
    """

    def __init__(self, data, name='train', batch_size=32, iteration_size=None,
                 rng=13, shuffle=True, dtypes=None):
        self.name = name
        self.batch_size = _positive('batch_size', batch_size)
        if iteration_size is not None:
            iteration_size = _positive('iteration_size', iteration_size)
        self.iteration_size = iteration_size
        self.shuffle = bool(shuffle)
        self.dtypes = None if dtypes is None else list(dtypes)
        self._rng = np.random.default_rng(rng)
        self._arrays = self._callable = self._iterable = None
        self._iterator = None
        if isinstance(data, np.ndarray):
            data = (data,)
        if isinstance(data, (tuple, list)) and data and not isinstance(
                data[0], tuple):
            self._init_arrays(data)
        elif callable(data):
            self._callable = data
            if self.iteration_size is None:
                try:
                    self.iteration_size = len(data)
                except TypeError:
                    self.iteration_size = 100
        elif isinstance(data, collections.abc.Iterable):
            self._iterable = data
        else:
            raise ValueError(
                f'{name} data must be a tuple of arrays, a callable or an '
                f'iterable of batches; got {type(data).__name__}')

    def _init_arrays(self, arrays):
        dtypes = self.dtypes or [None] * len(arrays)
        if len(dtypes) != len(arrays):
            raise ValueError(f'{self.name} data has {len(arrays)} arrays but '
                             f'{len(dtypes)} dtypes were given')
        self._arrays = [_convert(a, d) for a, d in zip(arrays, dtypes)]
        lengths = [len(a) if a.ndim else None for a in self._arrays]
        if None in lengths:
            raise ValueError(f'{self.name} data holds a 0-d array; every '
                             f'array needs one row per sample')
        if len(set(lengths)) > 1:
            raise ValueError(
                f'{self.name} arrays have different lengths {lengths} (shapes '
                f'{[a.shape for a in self._arrays]}); every array needs one '
                f'row per sample')
        if not lengths[0]:
            raise ValueError(f'{self.name} data is empty (0 samples)')
        self._size = lengths[0]
        self._order = None  # the current pass's shuffled row order
        self._position = self._size  # the first epoch starts a new pass
        log.debug('%s: %d samples in batches of %d', self.name, self._size,
                  self.batch_size)

    @property
    def is_arrays(self):
        """True when the data are arrays (converted and checked up front)."""
        return self._arrays is not None

    @property
    def arrays(self):
        """The converted arrays (in their original order), or None."""
        return None if self._arrays is None else tuple(self._arrays)

    def __len__(self):
        """Batches per epoch (raises TypeError for an unsized iterable)."""
        if self.iteration_size is not None:
            return self.iteration_size
        if self._arrays is not None:
            return -(-self._size // self.batch_size)
        return len(self._iterable)

    def __iter__(self):
        """Yield one epoch of batches, each a tuple of arrays."""
        if self._arrays is not None:
            return self._iter_arrays()
        if self._callable is not None:
            return self._iter_callable()
        return self._iter_batches()

    def _iter_arrays(self):
        # Shuffling permutes an index, never the data: each batch gathers
        # its rows (a copy of one batch), so memory stays at one copy of the
        # data (a permuted copy per epoch would briefly hold three).
        for _ in range(len(self)):
            if self._position >= self._size:
                if self.shuffle:
                    self._order = self._rng.permutation(self._size)
                self._position = 0
            start = self._position
            self._position = stop = min(start + self.batch_size, self._size)
            if self._order is None:
                yield tuple([a[start:stop] for a in self._arrays])
            else:
                rows = self._order[start:stop]
                yield tuple([a.take(rows, axis=0) for a in self._arrays])

    def _batch(self, batch):
        if isinstance(batch, np.ndarray) or not isinstance(
                batch, (tuple, list)):
            batch = (batch,)
        dtypes = self.dtypes or [None] * len(batch)
        return tuple(_convert(a, d) for a, d in zip(batch, dtypes))

    def _iter_callable(self):
        for _ in range(self.iteration_size):
            yield self._batch(self._callable())

    def _iter_batches(self):
        count = 0
        if self.iteration_size is None:
            for batch in self._iterable:
                count += 1
                yield self._batch(batch)
        else:
            restarted = False
            while count < self.iteration_size:
                if self._iterator is None:
                    self._iterator = iter(self._iterable)
                try:
                    batch = next(self._iterator)
                except StopIteration:
                    self._iterator = None
                    if restarted or iter(self._iterable) is self._iterable:
                        break  # an empty iterable, or a spent generator
                    restarted = True
                    continue
                restarted = False
                count += 1
                yield self._batch(batch)
        if not count:
            raise ValueError(
                f'{self.name} data produced no batches: a generator can be '
                f'iterated only once; pass a list of batches or a callable '
                f'that returns one batch per call')

    def __repr__(self):
        if self._arrays is not None:
            kind = f'{self._size} samples, batch_size={self.batch_size}'
        else:
            kind = 'callable' if self._callable is not None else 'iterable'
        return f'Dataset({self.name!r}, {kind})'


def _positive(name, value):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f'{name} must be a positive integer; got {value!r}')
    return int(value)
