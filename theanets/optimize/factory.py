"""Make an optimizer by algorithm name, and sort keyword options."""

from .. import util
from .base import Optimizer
from .rules import UpdateRule, _options

__all__ = ['build', 'split_options', 'BUILD_OPTIONS', 'ITERATE_OPTIONS']

#: Keywords of :func:`build` besides the update rule's hyperparameters.
BUILD_OPTIONS = ('max_gradient_norm', 'max_gradient_elem')

#: Keywords of :meth:`Optimizer.iterate` (and :meth:`Optimizer.minimize`).
ITERATE_OPTIONS = ('patience', 'validate_every', 'min_improvement',
                   'max_updates', 'callbacks', 'batch_size', 'train_batches',
                   'valid_batches', 'rng', 'progress')


def split_options(algo, options):
    """Sort keyword options into those of :func:`build` and of ``iterate``.

    Parameters
    ----------
    algo : str or UpdateRule
        The algorithm; its hyperparameters (plus :data:`BUILD_OPTIONS`) go
        to :func:`build`. For a rule instance only :data:`BUILD_OPTIONS` do.
    options : dict
        Keyword options, e.g. everything given to a ``train`` call.

    Returns
    -------
    build_options, iterate_options, rest : dict
        ``rest`` holds the options neither accepts (the caller decides if
        they are errors).
    """
    known = () if isinstance(algo, UpdateRule) else _options(
        UpdateRule.lookup(algo))
    parts = ({}, {}, {})
    for key, value in options.items():
        index = 0 if key in known or key in BUILD_OPTIONS else (
            1 if key in ITERATE_OPTIONS else 2)
        parts[index][key] = value
    return parts


def build(algo, loss, params, inputs, updates=(), monitors=(),
          monitor_gradients=False, evaluation=None, **hyper):
    """Make an :class:`Optimizer` for an algorithm given by name.

    Parameters
    ----------
    algo : str or UpdateRule
        A registered name (``'sgd'``, ``'nag'``, ``'rmsprop'``, ``'adam'``,
        ``'adadelta'``, ``'adagrad'``, ``'esgd'``, ``'rprop'``) or a rule
        instance (then ``hyper`` may only hold :data:`BUILD_OPTIONS`).
    loss : Variable
        Scalar symbolic loss to minimize.
    params : list of SharedVariable
        The parameters to optimize.
    inputs : list of Variable
        Symbolic inputs of ``loss``, in the order of a batch's arrays.
    updates : sequence of (SharedVariable, Variable), default=()
        Extra updates applied by every training and evaluation call (for
        example random-number state).
    monitors : dict or sequence of (str, Variable), default=()
        Extra scalar values to average over each epoch, after ``'loss'``.
    monitor_gradients : bool, default=False
        Also monitor the L2 norm of each parameter's (unclipped) gradient,
        named ``'grad(<param name>)'``.
    evaluation : (Variable, monitors), optional
        The loss and monitors to validate with, when they differ from the
        training graph's (e.g. without dropout); same monitor names.
    **hyper
        The rule's hyperparameters (see its class), and
        ``max_gradient_norm`` / ``max_gradient_elem`` (see
        :class:`Optimizer`).

    Raises
    ------
    ConfigurationError
        For an unknown algorithm or a misspelled hyperparameter.
    """
    clip = {k: hyper.pop(k) for k in BUILD_OPTIONS if k in hyper}
    known = list(BUILD_OPTIONS)
    if not isinstance(algo, UpdateRule):
        known += _options(UpdateRule.lookup(algo))
    for key in hyper:
        if key not in known:
            where = ('; it is an option of iterate()/minimize()'
                     if key in ITERATE_OPTIONS else util.closest(key, known))
            raise util.ConfigurationError(
                f'unknown option {key!r} for algorithm {algo!r}{where}; '
                f'known options: {", ".join(known)}')
    rule = algo if isinstance(algo, UpdateRule) else \
        UpdateRule.lookup(algo)(**hyper)
    return Optimizer(rule, loss, params, inputs, updates=updates,
                     monitors=monitors, monitor_gradients=monitor_gradients,
                     evaluation=evaluation, **clip)
