"""Recurrent models, and helpers that cut sequences into training batches.

A recurrent model reads arrays shaped ``(n, time, features)``: ``n``
sequences of any number of time steps. Its input spec is the number of
features, so ``[5, ('lstm', 64), 3]`` reads ``(n, time, 5)``; a pair
``(time, features)`` fixes the number of steps, which the JAX compile mode
needs (``[(50, 5), ('lstm', 64), 3]`` reads ``(n, 50, 5)``). Targets are
``(n, time, outputs)`` for a regressor and integer labels ``(n, time)`` for
a classifier; a model built with ``weighted=True`` takes a trailing weights
array, where a ``(n, time)`` mask of 0s and 1s drops padded steps from the
loss and its gradient.

>>> net = Classifier([5, ('lstm', 8), 3], weighted=True)  # doctest: +SKIP
>>> net.train((x, labels, mask), max_gradient_norm=1)  # doctest: +SKIP
"""

import collections

import numpy as np

from . import feedforward
from .backend import floatX
from .util import ConfigurationError

__all__ = ['Autoencoder', 'Regressor', 'Classifier', 'Text', 'batches']


def _rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.RandomState):
        return np.random.default_rng(rng.randint(2 ** 31))
    return np.random.default_rng(rng)


def _as_streams(arrays):
    """Parallel streams of sequences: a list of lists of arrays."""
    if not isinstance(arrays, (tuple, list)) or not len(arrays):
        raise ValueError('batches: arrays must be a list of parallel data, '
                         'e.g. [inputs] or [inputs, targets]')
    streams = [[np.asarray(a)] if isinstance(a, np.ndarray) else
               [np.asarray(s) for s in a] for a in arrays]
    counts = [len(s) for s in streams]
    if len(set(counts)) != 1:
        raise ValueError(f'batches: the parallel arrays hold {counts} '
                         'sequences; they must hold the same number')
    lengths = [len(s) for s in streams[0]]
    for k, stream in enumerate(streams[1:], 1):
        other = [len(s) for s in stream]
        if other != lengths:
            raise ValueError(
                f'batches: array {k} has sequences of {other[:5]} steps but '
                f'array 0 has {lengths[:5]}; to sample from a list of '
                'sequences, wrap it: batches([sequences], ...)')
    return streams, np.array(lengths)


def batches(arrays, steps, batch_size=32, rng=None, mask=False):
    """A callable that samples fixed-length windows from sequences.

    Parameters
    ----------
    arrays : list
        Parallel data, one entry per array a batch holds (``[inputs]``,
        ``[inputs, targets]``, ``[inputs, labels]``...). Each entry is one
        long sequence (an array with time on axis 0: ``(time, features)``
        or ``(time,)`` labels) or a list of such sequences of any lengths;
        the i-th sequences of all entries must have equal lengths.
    steps : int
        Time steps per window.
    batch_size : int, default=32
        Windows per batch.
    rng : int or numpy Generator, optional
        Seed or generator for choosing sequences and offsets.
    mask : bool, default=False
        Zero-pad sequences shorter than ``steps`` and add a ``(batch,
        steps)`` weights array (1 on real steps) to each batch, for a model
        built with ``weighted=True``. Without it, every sequence must have
        at least ``steps`` steps.

    Returns
    -------
    callable
        Each call returns a tuple: one array ``(batch_size, steps, ...)``
        per entry of ``arrays`` (floats as floatX, integers as int32), then
        the mask when ``mask=True``. Sequences are chosen in proportion to
        how many windows they hold, offsets uniformly.
    """
    streams, lengths = _as_streams(arrays)
    steps, batch_size = int(steps), int(batch_size)
    if steps < 1 or batch_size < 1:
        raise ValueError(f'batches: steps and batch_size must be >= 1, got '
                         f'{steps} and {batch_size}')
    short = np.flatnonzero(lengths < steps)
    if len(short) and not mask:
        raise ValueError(
            f'batches: sequence {short[0]} has {lengths[short[0]]} steps, '
            f'fewer than steps={steps}; pass mask=True to pad short sequences '
            'and get a weights array')
    windows = np.maximum(1, lengths - steps + 1)
    dtypes = [np.int32 if s[0].dtype.kind in 'biu' else np.dtype(floatX())
              for s in streams]
    rng = _rng(rng)

    def sample():
        which = rng.choice(len(lengths), size=batch_size,
                           p=windows / windows.sum())
        outs = [np.zeros((batch_size, steps) + s[0].shape[1:], d)
                for s, d in zip(streams, dtypes)]
        weights = np.zeros((batch_size, steps), floatX())
        for row, seq in enumerate(which):
            start = rng.integers(windows[seq])
            stop = min(lengths[seq], start + steps)
            for out, stream in zip(outs, streams):
                out[row, :stop - start] = stream[seq][start:stop]
            weights[row, :stop - start] = 1
        return tuple(outs) + ((weights,) if mask else ())

    return sample


class Text:
    """Text as class labels: an alphabet, encoding and training batches.

    Parameters
    ----------
    text : str
        The corpus.
    alphabet : str, optional
        The characters to model; by default those in ``text`` occurring at
        least ``min_count`` times, sorted.
    min_count : int, default=1
        See ``alphabet``.
    unknown : str, default='\\0'
        Stands for characters outside the alphabet; class 0.

    Attributes
    ----------
    alphabet : str
        Class ``i + 1`` is ``alphabet[i]``; class 0 is ``unknown``.
    text : str
        The corpus with out-of-alphabet characters replaced by ``unknown``.

    Examples
    --------
    >>> txt = Text('hello world')
    >>> txt.decode(txt.encode('hold'))
    'hold'
    """

    def __init__(self, text, alphabet=None, min_count=1, unknown='\0'):
        if not isinstance(unknown, str) or len(unknown) != 1:
            raise ValueError(f'unknown must be one character, got {unknown!r}')
        if alphabet is None:
            counts = collections.Counter(text)
            alphabet = ''.join(sorted(c for c, k in counts.items()
                                      if k >= min_count and c != unknown))
        if unknown in alphabet:
            raise ValueError(f'the alphabet contains the unknown character '
                             f'{unknown!r}; pick another unknown=')
        self.alphabet = alphabet
        self.unknown = unknown
        self._chars = unknown + alphabet
        self._index = {c: i for i, c in enumerate(self._chars)}
        self.text = ''.join(c if c in self._index else unknown for c in text)
        self._encoded = self.encode(self.text)

    @property
    def alpha(self):
        """The alphabet (the original theanets' name)."""
        return self.alphabet

    @property
    def num_classes(self):
        """Number of classes: ``len(alphabet) + 1`` (class 0 is unknown)."""
        return len(self._chars)

    def encode(self, text):
        """Class labels of ``text``: int32 array ``(len(text),)``."""
        return np.array([self._index.get(c, 0) for c in text], dtype=np.int32)

    def decode(self, labels):
        """The string for a sequence (or iterable) of class labels."""
        return ''.join(self._chars[int(i)] for i in labels)

    def classifier_batches(self, steps, batch_size, rng=None):
        """A callable returning ``(x, y)`` batches of next-character data.

        Parameters
        ----------
        steps : int
            Characters per sequence.
        batch_size : int
            Sequences per batch.
        rng : int or numpy Generator, optional

        Returns
        -------
        callable
            Each call returns one-hot inputs ``x`` ``(batch_size, steps,
            num_classes)`` floatX and labels ``y`` ``(batch_size, steps)``
            int32, where ``y[:, t]`` is the character after ``x[:, t]``.
        """
        steps, batch_size = int(steps), int(batch_size)
        if len(self._encoded) < steps + 1:
            raise ValueError(f'the text has {len(self._encoded)} characters; '
                             f'batches of {steps} steps need {steps + 1}')
        rng = _rng(rng)
        onehot = np.eye(self.num_classes, dtype=floatX())
        span = np.arange(steps + 1)

        def batch():
            start = rng.integers(len(self._encoded) - steps, size=batch_size)
            enc = self._encoded[start[:, None] + span]
            return onehot[enc[:, :-1]], np.ascontiguousarray(enc[:, 1:])

        return batch


def _sequence_shape(shape):
    return '(n, ' + ', '.join('time' if s is None else str(s)
                              for s in shape) + ')'


class _Sequences:
    """Mixin of the recurrent models: sequence inputs and their checks."""

    def _make_layer(self, spec, is_output):
        if not self.layers and spec.get('form', 'input') == 'input' and \
                'shape' not in spec and 'size' in spec:
            spec['shape'] = (None, spec.pop('size'))
        return super()._make_layer(spec, is_output)

    def _check_inputs(self, x, name='inputs'):
        shape = self.layers[0].output_shape
        ndim = np.ndim(x) if isinstance(x, (np.ndarray, list, tuple)) else None
        if ndim is not None and ndim != 1 + len(shape):
            hint = (' (one sequence? pass x[None])' if ndim == len(shape)
                    else '')
            raise ValueError(
                f'{name}: a recurrent model reads sequences: expected a '
                f'{1 + len(shape)}-D array of shape {_sequence_shape(shape)} '
                f'(samples, time steps, features), got a {ndim}-D array of '
                f'shape {np.shape(x)}{hint}')
        return super()._check_inputs(x, name)

    def _check_weights(self, w, like, x):
        """Weights shaped like the targets; a ``(n, time)`` mask is
        broadcast over the last axis of 3-D targets."""
        if w is not None and like.ndim == 3:
            w = np.asarray(w)
            if w.shape == like.shape[:2]:
                w = np.broadcast_to(w[..., None], like.shape)
        return feedforward.Network._check_weights(w, like, x)

    def check_data(self, data):
        out = super().check_data(data)
        steps = out[0].shape[1]
        names = [v.name or 'array' for v in self.variables]
        for name, array in zip(names[1:], out[1:]):
            if array.ndim >= 2 and array.shape[1] != steps:
                raise ValueError(
                    f'{name}: expected {steps} time steps (like the inputs), '
                    f'got {array.shape[1]} (array shape {array.shape})')
        return out


class Autoencoder(_Sequences, feedforward.Autoencoder):
    """A recurrent autoencoder: reproduces sequences ``(n, time, k)``.

    >>> net = Autoencoder([3, ('gru', 8), 3])  # doctest: +SKIP
    >>> net.train((x,))  # doctest: +SKIP
    """


class Regressor(_Sequences, feedforward.Regressor):
    """A recurrent regressor: ``(n, time, nin)`` -> ``(n, time, nout)``.

    >>> net = Regressor([3, dict(form='gru', size=32), 2])  # doctest: +SKIP
    >>> net.train((x, y))  # doctest: +SKIP
    """


class Classifier(_Sequences, feedforward.Classifier):
    """A recurrent classifier: one class per time step.

    Inputs ``(n, time, nin)``; labels int ``(n, time)``; ``predict`` gives
    ``(n, time)`` classes and ``predict_proba`` ``(n, time, k)``.

    >>> net = Classifier([5, ('lstm', 64), 3])  # doctest: +SKIP
    >>> net.train((x, labels), max_gradient_norm=1)  # doctest: +SKIP
    """

    def predict_sequence(self, labels, steps, streams=1, rng=None,
                         temperature=1.0):
        """Generate classes by feeding each prediction back as an input.

        The model must read one-hot classes (input size = number of
        classes, as with :class:`Text`). Starting from ``labels``, each
        step samples the next class from the model's output at the last
        step, appends it to the input, and runs the model again.

        Parameters
        ----------
        labels : sequence of int
            The seed (at least one class).
        steps : int
            How many classes to generate.
        streams : int, default=1
            Independent sequences generated side by side.
        rng : int or numpy Generator, optional
        temperature : float, default=1.0
            Sharpens (< 1) or flattens (> 1) the distribution; 0 always
            picks the most probable class.

        Yields
        ------
        int or list of int
            Each step's class (a list of ``streams`` classes when
            ``streams > 1``).
        """
        nin, k = self.layers[0].output_shape[-1], self.layers[-1].size
        if nin != k:
            raise ConfigurationError(
                f'predict_sequence feeds predicted classes back as one-hot '
                f'inputs, so the input size ({nin}) must equal the number of '
                f'classes ({k})')
        labels = np.asarray(labels, dtype=int).ravel()
        if not len(labels) or labels.min() < 0 or labels.max() >= k:
            raise ValueError(f'labels: expected at least one class in '
                             f'[0, {k}), got {labels.tolist()}')
        rng = _rng(rng)
        x = np.zeros((streams, len(labels) + int(steps), k), floatX())
        x[:, np.arange(len(labels)), labels] = 1
        for t in range(len(labels), x.shape[1]):
            probs = self.predict_proba(x[:, :t])[:, -1].astype(float)
            if temperature > 0:
                probs = np.exp(np.log(np.maximum(probs, 1e-12)) / temperature)
                probs /= probs.sum(axis=1, keepdims=True)
                draw = rng.random((streams, 1))
                below = (probs.cumsum(axis=1) < draw).sum(axis=1)
                chosen = np.minimum(below, k - 1)
            else:
                chosen = probs.argmax(axis=1)
            x[np.arange(streams), t, chosen] = 1
            yield int(chosen[0]) if streams == 1 else [int(c) for c in chosen]
