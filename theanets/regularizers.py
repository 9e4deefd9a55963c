"""Regularizers: extra loss terms and training-time changes to the graph.

A regularizer either adds a penalty to the loss (:meth:`Regularizer.loss`,
for example weight decay) or rewrites layer outputs while the training graph
is built (:meth:`Regularizer.modify_graph`, for example dropout). The network
builds a separate graph without regularizers for prediction.

Training keywords name them (see :func:`from_kwargs`):

>>> net.train(train, weight_l2=1e-4, hidden_dropout=0.5)  # doctest: +SKIP
>>> net.train(train, hidden_l1={'hid2:out': 0.1})  # doctest: +SKIP

Patterns are shell-style globs (:mod:`fnmatch`) matched against parameter
names (``'hid1.w'``) or output names (``'hid1:out'``); a pattern may also be
a list of globs.
"""

import fnmatch

from . import backend
from .backend import TT
from .util import ConfigurationError, Registrar, log

__all__ = [
    'Regularizer', 'from_kwargs', 'WeightL1Penalty', 'WeightL2Penalty',
    'HiddenL1Penalty', 'HiddenL2Penalty', 'Contractive', 'RecurrentNorm',
    'RecurrentState', 'GaussianNoise', 'InputNoise', 'HiddenNoise',
    'OutputNoise', 'BernoulliDropout', 'InputDropout', 'HiddenDropout',
    'OutputDropout',
]


def _matches(name, pattern):
    """True when ``name`` matches the glob ``pattern`` (or one of a list)."""
    patterns = [pattern] if isinstance(pattern, str) else pattern
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _mean_of(terms):
    """Average of a list of scalar expressions; 0.0 when it is empty."""
    return sum(terms) / len(terms) if terms else 0.0


def _hidden_names(layers):
    return [layer.output_name for layer in layers[1:-1]]


class Regularizer(Registrar):
    """Base class of regularizers; subclasses register under their names.

    Parameters
    ----------
    pattern : str or list of str, optional
        Globs selecting the parameters or outputs to act on; each subclass
        has a default.
    weight : float, default=0.0
        Strength: the network adds ``weight * loss(...)`` to the model's
        loss; noise and dropout read it as a standard deviation or a
        probability.
    rng : int or random stream, default=13
        Seed, or a stream from :func:`theanets.backend.random_stream`, for
        the regularizers that draw random numbers.
    """

    _registry = {}
    _kind = 'regularizer'

    def __init__(self, pattern=None, weight=0.0, rng=13):
        self.pattern = pattern
        self.weight = float(weight)
        self.rng = rng
        if self.weight < 0:
            raise ConfigurationError(
                f'{type(self).__name__}: weight must be >= 0, got {weight!r}')

    def __repr__(self):
        return (f'{type(self).__name__}(pattern={self.pattern!r}, '
                f'weight={self.weight})')

    def log(self):
        """Log this regularizer on the ``theanets`` logger."""
        log('regularizer: {} * {}({})', self.weight, type(self).__name__,
            self.pattern or 'default')

    def default_pattern(self, layers):
        """The pattern used when none was given, from the network's layers."""
        return None

    def resolve(self, layers):
        """Fill in the default pattern for ``layers``; returns ``self``."""
        if self.pattern is None:
            self.pattern = self.default_pattern(layers)
        return self

    def modify_graph(self, outputs):
        """Rewrite one layer's outputs in place (training graph only).

        Parameters
        ----------
        outputs : dict of str -> Variable
            The outputs of one layer by full name (``'hid1:out'``); matching
            entries are replaced, so later layers see the change.
        """

    def loss(self, layers, outputs):
        """The penalty term, not multiplied by ``weight``.

        Parameters
        ----------
        layers : list of Layer
            The network's layers: ``layers[0]`` is the input, ``layers[-1]``
            the output; each has ``.name``, ``.output_name`` and ``.params``.
        outputs : dict of str -> Variable
            Every output of the graph by full name.

        Returns
        -------
        Variable or float
            A scalar expression, or 0.0.
        """
        return 0.0

    def _outputs(self, layers, outputs):
        """Expressions of the outputs that match the (default) pattern."""
        pattern = self.pattern
        if pattern is None:
            pattern = self.default_pattern(layers) or []
        return [expr for name, expr in sorted(outputs.items())
                if _matches(name, pattern)]


class _WeightPenalty:
    """Mixin: parameters matching the pattern, or by default every weight
    (ndim > 1).

    A parameter whose ``tag.regularizable`` is False is never selected by
    default.
    """

    def _params(self, layers):
        params = [p for layer in layers for p in layer.params]
        if self.pattern is not None:
            return [p for p in params if _matches(p.name, self.pattern)]
        return [p for p in params if p.ndim > 1 and
                getattr(p.tag, 'regularizable', True)]


class WeightL1Penalty(_WeightPenalty, Regularizer):
    """Mean absolute weight, averaged over the selected parameters.

    Keywords ``weight_l1`` and ``weight_sparsity``; by default every weight
    array (parameters with 2 or more dimensions).
    """
    aliases = ('weight_l1', 'weight_sparsity')

    def loss(self, layers, outputs):
        return _mean_of([abs(p).mean() for p in self._params(layers)])


class WeightL2Penalty(_WeightPenalty, Regularizer):
    """Mean squared weight, averaged over the selected parameters.

    Keywords ``weight_l2`` and ``weight_decay``; by default every weight
    array (parameters with 2 or more dimensions).
    """
    aliases = ('weight_l2', 'weight_decay')

    def loss(self, layers, outputs):
        return _mean_of([(p * p).mean() for p in self._params(layers)])


class _HiddenPenalty:
    """Mixin: by default, the ``':out'`` of every hidden layer."""

    def default_pattern(self, layers):
        return _hidden_names(layers)


class HiddenL1Penalty(_HiddenPenalty, Regularizer):
    """Mean absolute activation of hidden outputs (sparse activity).

    Keywords ``hidden_l1`` and ``hidden_sparsity``; by default the
    ``':out'`` of every hidden layer (``layers[1:-1]``).
    """
    aliases = ('hidden_l1', 'hidden_sparsity')

    def loss(self, layers, outputs):
        hiddens = self._outputs(layers, outputs)
        return _mean_of([abs(h).mean() for h in hiddens])


class HiddenL2Penalty(_HiddenPenalty, Regularizer):
    """Mean squared activation of hidden outputs. Keyword ``hidden_l2``."""
    aliases = ('hidden_l2',)

    def loss(self, layers, outputs):
        hiddens = self._outputs(layers, outputs)
        return _mean_of([(h * h).mean() for h in hiddens])


class Contractive(_HiddenPenalty, Regularizer):
    """Penalize how fast hidden outputs change with the input (Rifai, 2011).

    As in the original theanets, the Frobenius norm of the Jacobian is
    approximated by the mean squared gradient of each hidden output's mean
    with respect to the input, averaged over hidden outputs. Keyword
    ``contractive``.

    Parameters
    ----------
    wrt : str or list of str, optional
        Output names to differentiate with respect to; defaults to the
        input layer's ``':out'``.
    """

    def __init__(self, pattern=None, weight=0.0, rng=13, wrt=None):
        super().__init__(pattern=pattern, weight=weight, rng=rng)
        self.wrt = wrt

    def loss(self, layers, outputs):
        wrt = self.wrt or [layers[0].output_name]
        xs = [expr for name, expr in sorted(outputs.items())
              if _matches(name, wrt)]
        if not xs:
            raise ConfigurationError(
                f'contractive: no graph output matches wrt={wrt!r}')
        terms = []
        for h in self._outputs(layers, outputs):
            grads = backend.grad(h.mean(), xs, disconnected_inputs='ignore')
            terms.append(sum((g * g).mean() for g in grads))
        return _mean_of(terms)


class _NeedsPattern:
    """Mixin: the pattern must be given."""

    def resolve(self, layers):
        if self.pattern is None:
            raise ConfigurationError(
                f'{type(self).__name__} needs a pattern, e.g. '
                f"{{'hid1:out': 0.1}}")
        return self


class RecurrentNorm(_NeedsPattern, Regularizer):
    """Penalize changes of the squared norm of recurrent states over time.

    ``mean_t (|h_t|^2 - |h_{t-1}|^2)^2`` for outputs shaped ``(n, t, k)``
    (time on axis 1), averaged over matching outputs (Krueger & Memisevic,
    2016). Keyword ``recurrent_norm``; a ``pattern`` is required.
    """
    aliases = ('recurrent_norm',)

    def loss(self, layers, outputs):
        self.resolve(layers)
        norms = [(h * h).sum(axis=-1) for h in self._outputs(layers, outputs)]
        return _mean_of([TT.sqr(n[:, 1:] - n[:, :-1]).mean() for n in norms])


class RecurrentState(_NeedsPattern, Regularizer):
    """Penalize changes of recurrent states: ``mean_t |h_t - h_{t-1}|^2``.

    Outputs shaped ``(n, t, k)``. Keyword ``recurrent_state``; a
    ``pattern`` is required.
    """
    aliases = ('recurrent_state',)

    def loss(self, layers, outputs):
        self.resolve(layers)
        deltas = [h[:, 1:] - h[:, :-1] for h in self._outputs(layers, outputs)]
        return _mean_of([(d * d).mean() for d in deltas])


class _Stochastic:
    """Mixin: rewrites matching outputs with random numbers; adds no loss.

    The default pattern is ``'*:out'`` (every layer's output); subclasses
    pick the input, hidden or output layers.
    """
    _layers = None

    def default_pattern(self, layers):
        if self._layers == 'input':
            return [layers[0].output_name]
        if self._layers == 'hidden':
            return _hidden_names(layers)
        if self._layers == 'output':
            return [layers[-1].output_name]
        return '*:out'

    @property
    def stream(self):
        """The random stream (created from the seed on first use)."""
        if not hasattr(self.rng, 'uniform'):
            self.rng = backend.random_stream(self.rng)
        return self.rng

    def modify_graph(self, outputs):
        pattern = self.pattern
        if pattern is None:
            if self._layers is not None:
                raise ConfigurationError(
                    f'{type(self).__name__} has no pattern yet: call '
                    f'resolve(layers) first (from_kwargs does)')
            pattern = '*:out'
        for name in sorted(outputs):
            if _matches(name, pattern) and self.weight > 0:
                outputs[name] = self._apply(outputs[name])


class GaussianNoise(_Stochastic, Regularizer):
    """Add Gaussian noise with standard deviation ``weight``.

    Keywords ``input_noise``, ``hidden_noise``, ``output_noise`` (numbers)
    and ``noise`` (a dict of pattern -> std).
    """
    aliases = ('noise',)

    def _apply(self, x):
        noise = self.stream.normal(0, self.weight, size=x.shape)
        return x + TT.cast(noise, x.dtype)


class InputNoise(GaussianNoise):
    """Gaussian noise on the input layer's output. Keyword ``input_noise``."""
    aliases = ('input_noise',)
    _layers = 'input'


class HiddenNoise(GaussianNoise):
    """Gaussian noise on hidden layers' outputs. Keyword ``hidden_noise``."""
    aliases = ('hidden_noise',)
    _layers = 'hidden'


class OutputNoise(GaussianNoise):
    """Gaussian noise on the output layer. Keyword ``output_noise``."""
    aliases = ('output_noise',)
    _layers = 'output'


class BernoulliDropout(_Stochastic, Regularizer):
    """Zero each value with probability ``weight`` (inverted dropout).

    Kept values are divided by ``1 - weight`` so that the expected output is
    unchanged and prediction needs no rescaling. Keywords
    ``input_dropout``, ``hidden_dropout``, ``output_dropout`` (numbers) and
    ``dropout`` (a dict of pattern -> probability).
    """
    aliases = ('dropout',)

    def __init__(self, pattern=None, weight=0.0, rng=13):
        super().__init__(pattern=pattern, weight=weight, rng=rng)
        if self.weight >= 1:
            raise ConfigurationError(
                f'{type(self).__name__}: dropout probability must be in '
                f'[0, 1), got {weight!r}')

    def _apply(self, x):
        keep = 1.0 - self.weight
        mask = self.stream.uniform(size=x.shape) < keep
        return x * TT.cast(mask, x.dtype) / TT.cast(keep, x.dtype)


class InputDropout(BernoulliDropout):
    """Dropout on the input layer's output. Keyword ``input_dropout``."""
    aliases = ('input_dropout',)
    _layers = 'input'


class HiddenDropout(BernoulliDropout):
    """Dropout on hidden layers' outputs. Keyword ``hidden_dropout``."""
    aliases = ('hidden_dropout',)
    _layers = 'hidden'


class OutputDropout(BernoulliDropout):
    """Dropout on the output layer. Keyword ``output_dropout``."""
    aliases = ('output_dropout',)
    _layers = 'output'


def _specs(key, value):
    """Constructor kwargs for one training keyword's value."""
    if value is None or value is False:
        return []
    if isinstance(value, dict):
        if 'weight' in value:  # constructor options, as in theanets 0.8
            return [dict(value)]
        return [{'pattern': p, 'weight': w} for p, w in value.items() if w]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigurationError(
            f'{key}: expected a number or a dict of pattern -> weight, got '
            f'{value!r}')
    return [{'weight': value}] if value else []


def from_kwargs(layers, **kwargs):
    """Split training keywords into regularizers and the rest.

    Parameters
    ----------
    layers : list of Layer
        The network's layers (for default patterns).
    regularizers : list of Regularizer or dict, optional
        Regularizer instances to use as well; a dict is read as more
        keywords.
    rng : int or random stream, default=13
        Seed (or stream) shared by the noise and dropout regularizers.
    **kwargs
        Any registered name (``weight_l2=1e-4``, ``hidden_dropout=0.5``,
        ``dropout={'hid[12]:out': 0.3}``, ``hidden_l1=dict(weight=0.1,
        pattern='hid2:out')``): zero or None values are skipped.

    Returns
    -------
    regularizers : list of Regularizer
        With their default patterns filled in for ``layers``.
    remaining : dict
        The keywords that name no regularizer, untouched.
    """
    kwargs = dict(kwargs)
    regs = []
    explicit = kwargs.pop('regularizers', None) or []
    if isinstance(explicit, dict):
        kwargs.update(explicit)
    else:
        for reg in explicit:
            if not isinstance(reg, Regularizer):
                raise ConfigurationError(
                    f'regularizers: expected Regularizer instances, got '
                    f'{reg!r}')
            regs.append(reg)
    rng = kwargs.pop('rng', 13)
    remaining = {}
    for key, value in kwargs.items():
        if not Regularizer.is_registered(key):
            remaining[key] = value
            continue
        cls = Regularizer.lookup(key)
        for spec in _specs(key, value):
            if issubclass(cls, _Stochastic):
                if not hasattr(rng, 'uniform'):
                    rng = backend.random_stream(rng)
                spec['rng'] = rng
            try:
                regs.append(cls(**spec))
            except TypeError as err:
                raise ConfigurationError(f'{key}: {err}') from None
    return [reg.resolve(layers) for reg in regs], remaining
