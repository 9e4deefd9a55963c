"""Update rules: how a gradient becomes a parameter step.

An :class:`UpdateRule` holds its hyperparameters and turns ``(params,
grads)`` into ``(shared, expression)`` update pairs. Subclasses register
under their lower-cased class name (and aliases), so
``UpdateRule.lookup('rmsprop')`` finds :class:`~.adaptive.RMSProp`.
Momentum, classical or Nesterov, is one helper (:func:`apply_momentum`)
that every rule applies to its parameter updates.
"""

import inspect

import numpy as np

from .. import backend, util

__all__ = ['UpdateRule', 'apply_momentum', 'clip_gradients', 'scalar_state',
           'SGD', 'NAG']


def apply_momentum(updates, params, momentum, nesterov=False):
    """Add (Nesterov) momentum to the parameter updates of any rule.

    Each update ``param -> expr`` is read as a step ``delta = expr - param``
    and replaced by a velocity ``v`` (state made with
    :func:`~theanets.backend.shared_like`, suffix ``'vel'``)::

        v'     = momentum * v + delta
        param' = param + v'                        (classical)
        param' = param + momentum * v' + delta     (nesterov=True)

    The Nesterov form is the reformulation of Sutskever et al. (2013) used
    by Lasagne's ``apply_nesterov_momentum``.

    Parameters
    ----------
    updates : sequence of (SharedVariable, Variable)
        Update pairs from a rule; pairs for variables not in ``params``
        (optimizer state) pass through unchanged.
    params : sequence of SharedVariable
        The parameters whose updates get momentum.
    momentum : float
        Velocity decay in ``[0, 1)``; 0 returns ``updates`` unchanged.
    nesterov : bool, default=False
        Use Nesterov's accelerated gradient instead of classical momentum.

    Returns
    -------
    list of (SharedVariable, Variable)
    """
    if not momentum:
        return list(updates)
    params = set(params)
    result = []
    for var, expr in updates:
        if var not in params:
            result.append((var, expr))
            continue
        mu = np.asarray(momentum, dtype=var.dtype)
        velocity = backend.shared_like(var, 'vel')
        delta = expr - var
        new_velocity = mu * velocity + delta
        step = mu * new_velocity + delta if nesterov else new_velocity
        result.extend([(velocity, new_velocity), (var, var + step)])
    return result


def scalar_state(name, dtype=None, value=0.0):
    """A scalar shared variable and the symbolic scalar it holds.

    Parameters
    ----------
    name : str
        Name of the shared variable (the key of its value in
        :meth:`~theanets.optimize.Optimizer.get_state`).
    dtype : str, optional
        Defaults to floatX.
    value : float, default=0.0
        Initial value.

    Returns
    -------
    var : SharedVariable
        The shared variable (update it with an expression of ``var``).
    scalar : Variable
        Its value as a 0-d expression, for use in a graph.
    """
    var = backend.shared(value, name=name)
    if dtype is not None and var.dtype != dtype:
        var = backend.shared_like(var, 'x', value)
        var.name = name
    return var, (var[0] if var.ndim else var)


def clip_gradients(grads, max_norm=0, max_elem=0):
    """Rescale each gradient to at most ``max_norm``, then clip elements.

    Parameters
    ----------
    grads : list of Variable
        One gradient per parameter.
    max_norm : float, default=0
        Largest L2 norm of each gradient (0: no rescaling).
    max_elem : float, default=0
        Largest absolute value of each element (0: no clipping).

    Returns
    -------
    list of Variable
    """
    TT = backend.TT
    clipped = []
    for grad in grads:
        if max_norm:
            limit = np.asarray(max_norm, dtype=grad.dtype)
            grad = grad * TT.minimum(1, limit / TT.sqrt((grad * grad).sum()))
        if max_elem:
            limit = np.asarray(max_elem, dtype=grad.dtype)
            grad = TT.clip(grad, -limit, limit)
        clipped.append(grad)
    return clipped


def _options(cls):
    """Names of the keyword hyperparameters of ``cls.__init__``."""
    return [name for name, p in inspect.signature(cls.__init__).parameters
            .items() if p.kind is inspect.Parameter.KEYWORD_ONLY]


class UpdateRule(util.Registrar):
    """Base class of the update rules (optimization algorithms).

    Subclasses spell out their hyperparameters as keyword-only arguments of
    ``__init__`` and implement :meth:`_updates_for` (or :meth:`_updates`
    when a rule needs all parameters at once). A misspelled hyperparameter
    raises :class:`~theanets.util.ConfigurationError`.

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size. A callable is a schedule: it is called with the number of
        updates made so far and returns the rate for the next update. The
        rate lives in a shared variable (read with :meth:`get_rate`, set
        with :meth:`set_rate`; ``self.learning_rate`` is its symbolic
        scalar), so it can change during training without recompiling.
    momentum : float, default=0
        Momentum in ``[0, 1)`` applied to every parameter step
        (:func:`apply_momentum`); 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum (when ``momentum`` is nonzero).
    """

    _registry = {}
    _kind = 'algorithm'

    def __new__(cls, *args, **kwargs):
        known = _options(cls)
        for key in kwargs:
            if key not in known:
                raise util.ConfigurationError(
                    f'{cls.__name__.lower()} has no hyperparameter '
                    f'{key!r}{util.closest(key, known)}; its hyperparameters '
                    f'are: {", ".join(known)}')
        return super().__new__(cls)

    def __init__(self, *, learning_rate=1e-4, momentum=0, nesterov=False):
        self.schedule = learning_rate if callable(learning_rate) else None
        rate = learning_rate(0) if self.schedule else learning_rate
        _check_number('learning_rate', rate, low=0, low_ok=False)
        _check_number('momentum', momentum, low=0, high=1)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._rate, self.learning_rate = scalar_state('learning_rate',
                                                      value=rate)
        self._rate_value = float(rate)

    def get_rate(self):
        """The current learning rate, a float (as last set)."""
        return self._rate_value

    def set_rate(self, value):
        """Set the learning rate (a float) for the next updates."""
        self._rate_value = _check_number('learning_rate', value, low=0,
                                         low_ok=False)
        current = self._rate.get_value(borrow=True)
        self._rate.set_value(np.full(current.shape, value, current.dtype))

    def get_updates(self, params, grads):
        """Update pairs for ``params`` given their gradients.

        Parameters
        ----------
        params : list of SharedVariable
            The parameters to optimize.
        grads : list of Variable
            The gradient of the loss for each parameter (already clipped).

        Returns
        -------
        list of (SharedVariable, Variable)
            New values for the parameters and this rule's state variables.
        """
        updates = list(self._updates(list(params), list(grads)))
        updates = apply_momentum(updates, params, self.momentum, self.nesterov)
        # A float64 learning rate or constant must not change a float32
        # variable's type (PyTensor rejects such updates).
        return [(var, expr if expr.dtype == var.dtype else
                 backend.TT.cast(expr, var.dtype)) for var, expr in updates]

    def _updates(self, params, grads):
        """Yield update pairs for all parameters (default: one at a time)."""
        for param, grad in zip(params, grads):
            yield from self._updates_for(param, grad)

    def _updates_for(self, param, grad):
        """Yield update pairs for one parameter and its gradient."""
        raise NotImplementedError

    def _const(self, value, like):
        """``value`` as a numpy scalar of ``like``'s dtype (no upcasting)."""
        return np.asarray(value, dtype=like.dtype)

    def __repr__(self):
        args = ', '.join(f'{k}={getattr(self, k, "?")!r}'
                         for k in _options(type(self)) if k != 'learning_rate')
        return f'{type(self).__name__}(learning_rate={self.get_rate():.6g}, ' \
               f'{args})'


def _check_number(name, value, low=None, high=None, low_ok=True):
    """Raise ConfigurationError unless ``value`` is a number in range."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not np.isfinite(number) or (
            low is not None and (number < low or (number == low
                                                  and not low_ok))) or (
            high is not None and number >= high):
        if high is not None:
            expected = f'in [{low}, {high})'
        else:
            expected = f'{">=" if low_ok else ">"} {low}'
        raise util.ConfigurationError(
            f'{name} must be a number {expected}; got {value!r}')
    return number


class SGD(UpdateRule):
    """Stochastic gradient descent: ``param -= learning_rate * grad``.

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`UpdateRule`).
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum instead of classical momentum.
    """

    def __init__(self, *, learning_rate=1e-4, momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov)

    def _updates_for(self, param, grad):
        yield param, param - self.learning_rate * grad


class NAG(SGD):
    """SGD with Nesterov's accelerated gradient: :class:`SGD` with
    ``nesterov=True``.

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`UpdateRule`).
    momentum : float, default=0
        Momentum in ``[0, 1)``; with 0 this is plain SGD, so give e.g. 0.9.
    """

    def __init__(self, *, learning_rate=1e-4, momentum=0):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=True)
