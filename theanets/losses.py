"""Loss functions: how far a model's output is from its target.

A loss is built from a registered name (``'mse'``, ``'mae'``, ``'hinge'``,
``'xe'``, ``'kl'``, ``'gll'``, ``'mmd'``) and a target: an int (the number of
dimensions of a float target array, created here), a PyTensor variable (an
integer one holds class labels) or ``None`` (reconstruction: the target is the
model's input). Calling the loss on the graph's outputs gives a scalar
expression; the network multiplies it by ``loss.weight``.

>>> loss = build('mse', target=2)  # doctest: +SKIP
>>> expr = loss({'out:out': y}, inputs=[x])  # doctest: +SKIP

Shapes never broadcast: a target of shape ``(n, 1)`` against an output of
shape ``(n, 3)`` raises when the compiled function runs.
"""

import numpy as np

from . import backend
from .backend import TT
from .util import ConfigurationError, Registrar, closest, log

__all__ = [
    'Loss', 'build', 'MeanSquaredError', 'MeanAbsoluteError', 'Hinge',
    'CrossEntropy', 'KullbackLeiblerDivergence', 'GaussianLogLikelihood',
    'MaximumMeanDiscrepancy',
]

#: Smallest probability taken the log of.
EPSILON = 1e-7
_LOG_2PI = float(np.log(2 * np.pi))


def build(spec, target, **kwargs):
    """Build a loss from a registered name, or return a :class:`Loss` as is.

    Parameters
    ----------
    spec : str or Loss
        A registered name such as ``'mse'`` or ``'xe'`` (case-insensitive).
    target : int, Variable or None
        See :class:`Loss`.
    **kwargs
        Passed to the loss's constructor.
    """
    if isinstance(spec, Loss):
        return spec
    return Loss.lookup(spec)(target, **kwargs)


def _full_name(name):
    """``'out'`` -> ``'out:out'``; names with a colon are kept."""
    return name if ':' in name else f'{name}:out'


def _log_prob(output):
    """``log(output)``, stable when ``output`` is a softmax over its last axis.

    A softmax output is replaced by ``log_softmax`` of its input (in every
    compile mode, not only where PyTensor's rewrite runs); any other output
    is clipped below at :data:`EPSILON` so that ``log(0)`` stays finite.
    """
    owner = output.owner
    if owner is not None and isinstance(owner.op, TT.special.Softmax):
        axis = owner.op.axis
        if axis is None or tuple(axis) in ((-1,), (output.ndim - 1,)):
            return TT.special.log_softmax(owner.inputs[0], axis=-1)
    return TT.log(TT.maximum(output, EPSILON))


class Loss(Registrar):
    """Base class of losses; subclasses register under their class name.

    Parameters
    ----------
    target : int, Variable or None
        An int ``ndim`` creates a floatX target variable named ``'targets'``
        of that many dimensions; a variable is used as given (an integer
        dtype means class labels, shape ``(n,)`` or ``(n, t)``, against
        outputs ``(n, k)`` or ``(n, t, k)``); ``None`` means the target is the
        model's first input, passed when the loss is called.
    weight : float, default=1.0
        Importance of this loss in the model's total loss (applied by the
        network, not by :meth:`__call__`).
    weighted : bool, default=False
        Create a floatX ``'weights'`` variable, with the target's number of
        dimensions, that weights each target value; the loss becomes
        ``sum(w * err) / sum(w)``.
    output_name : str, default='out'
        The graph output compared with the target; ``'out'`` means
        ``'out:out'``.
    input_ndim : int, default=2
        Dimensions of the model input; sets the weights' dimensions when
        ``target`` is None and ``weighted`` is True.

    Attributes
    ----------
    weight : float
    output_name : str
    """

    _registry = {}
    _kind = 'loss'

    def __init__(self, target, weight=1.0, weighted=False, output_name='out',
                 input_ndim=2, **kwargs):
        if kwargs:
            key = sorted(kwargs)[0]
            raise ConfigurationError(
                f'unknown option {key!r} for loss {type(self).__name__}'
                f'{closest(key, ["weight", "weighted", "output_name"])}')
        if isinstance(target, (int, np.integer)) and not isinstance(
                target, bool):
            target = TT.tensor(dtype=backend.floatX(),
                               shape=(None,) * int(target), name='targets')
        elif target is not None and not isinstance(target, backend.Variable):
            raise ConfigurationError(
                f'expected the loss target to be an ndim (int), a PyTensor '
                f'variable or None (reconstruction), got {target!r}')
        self.weight = float(weight)
        self._target = target
        self._weights = None
        if weighted:
            ndim = input_ndim if target is None else target.ndim
            self._weights = TT.tensor(dtype=backend.floatX(),
                                      shape=(None,) * ndim, name='weights')
        self.output_name = _full_name(output_name)

    @property
    def labels(self):
        """True when the target holds integer class labels."""
        return (self._target is not None and
                self._target.dtype.startswith(('int', 'uint')))

    @property
    def target_variable(self):
        """The target variable, or None when reconstructing the input."""
        return self._target

    @property
    def weights_variable(self):
        """The weights variable, or None; settable so losses can share one."""
        return self._weights

    @weights_variable.setter
    def weights_variable(self, variable):
        if self._weights is None or variable is None or \
                variable.ndim != self._weights.ndim:
            raise ConfigurationError(
                f'{type(self).__name__}: weights can only be replaced by a '
                f'variable with the same number of dimensions')
        self._weights = variable

    def to_spec(self):
        """Constructor options as JSON-ready data: ``{'form': 'mse', ...}``.

        The target is not included: a network gives the loss its target.
        ``build(spec.pop('form'), target, **spec)`` rebuilds the loss.
        """
        own = type(self).__dict__.get('aliases') or (type(self).__name__,)
        return dict(form=own[0].lower(), weight=self.weight,
                    weighted=self._weights is not None,
                    output_name=self.output_name, **self._options())

    def _options(self):
        """Subclass options for :meth:`to_spec`."""
        return {}

    @property
    def variables(self):
        """Variables to feed: the target (unless reconstructing), weights."""
        result = [] if self._target is None else [self._target]
        if self._weights is not None:
            result.append(self._weights)
        return result

    def __repr__(self):
        target = 'input' if self._target is None else self._target.name
        return (f'{type(self).__name__}(output_name={self.output_name!r}, '
                f'target={target!r}, weight={self.weight}, '
                f'weighted={self._weights is not None})')

    def log(self):
        """Log this loss on the ``theanets`` logger."""
        log('loss: {} * {} (output {})', self.weight, type(self).__name__,
            self.output_name)

    def __call__(self, outputs, inputs=None):
        """Build the scalar loss expression (not multiplied by ``weight``).

        Parameters
        ----------
        outputs : dict of str -> Variable
            The graph's outputs by full name (``'out:out'``).
        inputs : list of Variable, optional
            The model's inputs; ``inputs[0]`` is the target when the loss was
            built with ``target=None``.

        Returns
        -------
        Variable
            A scalar expression.
        """
        raise NotImplementedError

    # helpers for subclasses ------------------------------------------------

    def _output(self, outputs, name=None):
        """The graph output called ``name`` (default: ``output_name``)."""
        name = name or self.output_name
        if name not in outputs:
            raise ConfigurationError(
                f'{type(self).__name__} needs the output {name!r}, which the '
                f'graph does not have{closest(name, outputs)}; outputs: '
                f'{", ".join(sorted(outputs))}')
        return outputs[name]

    def _target_for(self, output, inputs):
        """The target expression, checked against ``output``'s ndim."""
        target = self._target
        if target is None:
            if not inputs:
                raise ConfigurationError(
                    f'{type(self).__name__} reconstructs the model input but '
                    f'was called without inputs')
            target = inputs[0]
        want = output.ndim - 1 if self.labels else output.ndim
        if target.ndim != want:
            kind = 'labels' if self.labels else 'targets'
            raise ConfigurationError(
                f'{type(self).__name__}: {kind} have {target.ndim} '
                f'dimensions, expected {want} for an output with '
                f'{output.ndim}')
        return target

    def _weights_like(self, err):
        """The weights variable, checked to match ``err``'s ndim."""
        w = self._weights
        if w.ndim != err.ndim:
            raise ConfigurationError(
                f'{type(self).__name__}: weights have {w.ndim} dimensions, '
                f'expected {err.ndim} (one weight per target value)')
        return w

    def _average(self, err, row_sum=False):
        """Mean of ``err``, or the weighted mean ``sum(w*err) / sum(w)``.

        With ``row_sum`` the error is first summed over the last axis (a
        divergence per row); weights stay per element and all-ones weights
        give the unweighted value.
        """
        if self._weights is None:
            return err.sum(axis=-1).mean() if row_sum else err.mean()
        w = self._weights_like(err)
        value = (w * err).sum() / w.sum()
        if row_sum:
            value = value * TT.cast(err.shape[-1], err.dtype)
        return value

    def _flat(self, output, labels):
        """``(m, k)`` output, ``(m,)`` labels and weights for label losses.

        A label count other than ``m`` fails at run time. For a 2-D output
        the labels are reshaped to its row count, so PyTensor can prove the
        two lengths equal and adds no broadcasting checks (three operations
        fewer to compile and run per step); a ``(n, t, k)`` output is
        flattened and its labels too (the JAX mode cannot compile a reshape
        to the flattened row count).
        """
        weights = None
        if self._weights is not None:
            weights = self._weights_like(labels).flatten()
        if output.ndim == 2:
            return output, labels.reshape((output.shape[0],)), weights
        flat = output.reshape((-1, output.shape[-1]), ndim=2)
        return flat, labels.flatten(), weights

    def _label_average(self, err, weights):
        if weights is None:
            return err.mean()
        return (weights * err).sum() / weights.sum()

    def accuracy(self, outputs):
        """Fraction of rows whose largest output is the label (labels only).

        Parameters
        ----------
        outputs : dict of str -> Variable
            The graph's outputs; ``output_name`` must be one of them.
        """
        if not self.labels:
            raise ConfigurationError(
                f'accuracy needs integer class labels as the target of '
                f'{type(self).__name__}')
        output = self._output(outputs)
        flat, labels, weights = self._flat(
            output, self._target_for(output, None))
        correct = TT.cast(TT.eq(flat.argmax(axis=-1), labels),
                          backend.floatX())
        return self._label_average(correct, weights)


class MeanSquaredError(Loss):
    """Mean of ``(output - target) ** 2`` over all elements."""
    aliases = ('mse',)

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        err = output - self._target_for(output, inputs)
        return self._average(err * err)


class MeanAbsoluteError(Loss):
    """Mean of ``|output - target|`` over all elements."""
    aliases = ('mae',)

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        return self._average(abs(output - self._target_for(output, inputs)))


def _pick(flat, labels):
    """``flat[i, labels[i]]`` for each row ``i`` of an ``(m, k)`` matrix.

    Written as a masked sum rather than ``arange`` indexing (or
    ``take_along_axis``, which PyTensor builds from ``arange``): the JAX
    backend cannot compile an ``arange`` whose bounds are not constants.
    """
    mask = TT.eq(_column_index(flat), labels[:, None])
    return TT.sum(TT.switch(mask, flat, 0), axis=1)


def _column_index(flat):
    """Each element's column index: ``(1, k)`` (broadcasting) when the class
    count ``k`` is known statically, as it is for a layer's output, else an
    ``(m, k)`` matrix built with ``cumsum``.

    The constant ``arange`` compiles in every mode (JAX included) and
    spares the C mode four operations to compile and run per step.
    """
    classes = flat.type.shape[-1]
    if classes is not None:
        return TT.arange(classes, dtype='int32')[None, :]
    return TT.cumsum(TT.ones_like(flat, dtype='int32'), axis=1) - 1


class Hinge(Loss):
    """Hinge loss.

    With integer labels ``y`` (shape ``(n,)`` or ``(n, t)``) and outputs
    ``o`` (``(n, k)`` or ``(n, t, k)``), the multiclass hinge
    ``max(0, 1 + max_{j != y} o_j - o_y)`` per row. With float targets
    ``t`` in ``{-1, +1}``, ``max(0, 1 - t * o)`` per element.
    """

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        target = self._target_for(output, inputs)
        if not self.labels:
            return self._average(TT.maximum(0, 1 - target * output))
        flat, labels, weights = self._flat(output, target)
        true = _pick(flat, labels)
        others = TT.neq(_column_index(flat), labels[:, None])
        margin = (1 + flat - true[:, None]) * TT.cast(others, flat.dtype)
        return self._label_average(TT.maximum(0, margin.max(axis=-1)),
                                   weights)


class CrossEntropy(Loss):
    """Cross-entropy.

    With integer labels ``y`` (``(n,)`` or ``(n, t)``) and class
    probabilities ``p`` (``(n, k)`` or ``(n, t, k)``): the mean of
    ``-log p[y]``; a softmax output is handled as ``log_softmax`` of its
    input. With float targets ``t`` in ``[0, 1]``: binary cross-entropy
    ``-t log p - (1 - t) log(1 - p)`` per element, computed from the logits
    when ``p`` is a sigmoid and with ``p`` clipped to
    ``[EPSILON, 1 - EPSILON]`` otherwise.
    """
    aliases = ('xe',)

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        target = self._target_for(output, inputs)
        if self.labels:
            flat, labels, weights = self._flat(_log_prob(output), target)
            nlp = -_pick(flat, labels)
            return self._label_average(nlp, weights)
        owner = output.owner
        if owner is not None and owner.op == TT.sigmoid:
            z = owner.inputs[0]
            err = target * TT.softplus(-z) + (1 - target) * TT.softplus(z)
        else:
            p = TT.clip(output, EPSILON, 1 - EPSILON)
            err = -target * TT.log(p) - (1 - target) * TT.log(1 - p)
        return self._average(err)


class KullbackLeiblerDivergence(Loss):
    """KL divergence ``sum_i t_i log(t_i / o_i)`` of the target
    distribution from the output, over the last axis, averaged over rows.
    """
    aliases = ('kl', 'kld')

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        t = self._target_for(output, inputs)
        kl = t * (TT.log(TT.maximum(t, EPSILON)) - _log_prob(output))
        return self._average(kl, row_sum=True)


class GaussianLogLikelihood(Loss):
    """Negative log-likelihood of the target under a diagonal Gaussian.

    Per row, ``0.5 * sum_i (log 2 pi + log v_i + (t_i - mu_i)**2 / v_i)``
    with ``v = |covar| + covar_eps``, averaged over rows.

    Parameters
    ----------
    mean_name : str, optional
        Output holding the mean; defaults to ``output_name``.
    covar_name : str, optional
        Output holding the diagonal covariance; unit covariance if None.
    covar_eps : float, default=1e-3
        Added to ``|covar|`` so that the precision stays finite.
    """
    aliases = ('gll',)

    def __init__(self, target, mean_name=None, covar_name=None,
                 covar_eps=1e-3, **kwargs):
        super().__init__(target, **kwargs)
        self.mean_name = _full_name(mean_name or self.output_name)
        self.covar_name = covar_name and _full_name(covar_name)
        self.covar_eps = float(covar_eps)

    def _options(self):
        return dict(mean_name=self.mean_name, covar_name=self.covar_name,
                    covar_eps=self.covar_eps)

    def log(self):
        log('loss: {} * {} (mean {}, covar {})', self.weight,
            type(self).__name__, self.mean_name, self.covar_name or 1)

    def __call__(self, outputs, inputs=None):
        mean = self._output(outputs, self.mean_name)
        target = self._target_for(mean, inputs)
        err = target - mean
        if self.covar_name:
            var = abs(self._output(outputs, self.covar_name)) + self.covar_eps
            nll = 0.5 * (_LOG_2PI + TT.log(var) + err * err / var)
        else:
            nll = 0.5 * (_LOG_2PI + err * err)
        return self._average(nll, row_sum=True)


class MaximumMeanDiscrepancy(Loss):
    """Maximum mean discrepancy between output and target rows.

    ``mean k(t, t) - 2 mean k(t, o) + mean k(o, o)`` over all pairs of rows
    (leading axes flattened), with the Gaussian kernel
    ``k(a, b) = exp(-|a - b|**2 / kernel)`` or a callable kernel.

    Parameters
    ----------
    kernel : float or callable, default=1
        Gaussian bandwidth, or ``kernel(a, b) -> (n, m)`` on row matrices.
    """
    aliases = ('mmd',)

    def __init__(self, target, kernel=1, **kwargs):
        super().__init__(target, **kwargs)
        if self._weights is not None:
            raise ConfigurationError('the mmd loss cannot be weighted')
        self.bandwidth = None if callable(kernel) else float(kernel)
        self.kernel = kernel if callable(kernel) else self.gaussian(kernel)

    def _options(self):
        if self.bandwidth is None:
            raise ConfigurationError(
                'an mmd loss with a callable kernel cannot be saved; use a '
                'numeric (Gaussian) bandwidth')
        return dict(kernel=self.bandwidth)

    @staticmethod
    def gaussian(bandwidth):
        """A Gaussian kernel with the given bandwidth."""
        def kernel(a, b):
            diff = a[:, None, :] - b[None, :, :]
            return TT.exp(-(diff * diff).sum(axis=-1) / bandwidth)
        return kernel

    def __call__(self, outputs, inputs=None):
        output = self._output(outputs)
        target = self._target_for(output, inputs)
        o = output.reshape((-1, output.shape[-1]), ndim=2)
        t = target.reshape((-1, target.shape[-1]), ndim=2)
        return (self.kernel(t, t).mean() - 2 * self.kernel(t, o).mean() +
                self.kernel(o, o).mean())
