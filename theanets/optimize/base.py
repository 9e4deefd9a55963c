"""The optimizer: one compiled update function and the training loop.

Make one with :func:`~theanets.optimize.build`.
"""

import itertools
import logging
import sys
import time

import numpy as np

from .. import backend, util
from .dataset import Dataset
from .rules import clip_gradients
from .state import StateMixin, named
from .stopping import EarlyStopping, NonFiniteLossError

__all__ = ['Optimizer']

log = logging.getLogger('theanets')


def _check_graph(loss, params, inputs):
    if not isinstance(loss, backend.Variable) or loss.ndim != 0:
        raise util.ConfigurationError(
            f'the loss must be a scalar symbolic expression; got {loss!r}')
    params, inputs = list(params), list(inputs)
    if not params:
        raise util.ConfigurationError('there are no parameters to optimize')
    for param in params:
        if not isinstance(param, backend.SharedVariable):
            raise util.ConfigurationError(
                f'parameters must be shared variables; got {param!r}')
    if len(set(params)) != len(params):
        raise util.ConfigurationError('a parameter is listed twice')
    for var in inputs:
        if not isinstance(var, backend.Variable) or isinstance(
                var, backend.SharedVariable) or var.owner is not None:
            raise util.ConfigurationError(
                f'inputs must be symbolic input variables; got {var!r}')
    return params, inputs


def _monitor_exprs(loss, monitors, params, monitor_gradients):
    """Names and expressions of ``loss``, the monitors and gradient norms."""
    if isinstance(monitors, dict):
        monitors = monitors.items()
    names, exprs = ['loss'], [loss]
    for name, expr in monitors:
        if name in names:
            raise util.ConfigurationError(
                f'monitor name {name!r} is used twice (\'loss\' is '
                f'always the first monitor)')
        if getattr(expr, 'ndim', None) != 0:
            raise util.ConfigurationError(
                f'monitor {name!r} must be a scalar symbolic expression; '
                f'got {expr!r}')
        names.append(name)
        exprs.append(expr)
    grads = backend.grad(loss, params)
    if monitor_gradients:
        for param, grad in zip(params, grads):
            names.append(f'grad({param.name})')
            exprs.append(backend.TT.sqrt((grad * grad).sum()))
    return names, exprs, grads


def _distinct(exprs):
    """``exprs`` without repeats, and the index of each in that list.

    A monitor often computes the same graph as the loss (``'err'`` without
    regularizers); compiled twice, PyTensor would copy the value into a
    second output with one more operation to compile and run per step.
    """
    unique, index = [], []
    for expr in exprs:
        for i, seen in enumerate(unique):
            if seen is expr or backend.equal_computations([seen], [expr]):
                index.append(i)
                break
        else:
            index.append(len(unique))
            unique.append(expr)
    return unique, index


class Optimizer(StateMixin):
    """Minimize a loss with an update rule, batch by batch, with early
    stopping. Make one with :func:`~.factory.build`.

    Parameters
    ----------
    rule : UpdateRule
        How gradients become parameter steps.
    loss, params, inputs, updates, monitors, monitor_gradients
        See :func:`~.factory.build`.
    max_gradient_norm : float, default=0
        Rescale each parameter's gradient to at most this L2 norm (0: off).
    max_gradient_elem : float, default=0
        Clip each gradient element to ``[-value, value]`` (0: off); applied
        after ``max_gradient_norm`` when both are given.
    evaluation : (loss, monitors), optional
        A second graph for validation and :meth:`evaluate`, with the same
        monitor names: a model evaluates without its training noise and
        dropout this way. Defaults to the training graph.

    Attributes
    ----------
    epoch : int
        Training epochs completed.
    n_updates : int
        Parameter updates (batches) made.
    monitor_names : list of str
        Keys of the monitor dicts: ``'loss'`` first.
    stopping : EarlyStopping
        The best validation loss and parameters so far.
    """

    def __init__(self, rule, loss, params, inputs, updates=(), monitors=(),
                 monitor_gradients=False, max_gradient_norm=0,
                 max_gradient_elem=0, evaluation=None):
        self.params, self.inputs = _check_graph(loss, params, inputs)
        self.rule = rule
        self.loss = loss
        names, exprs, grads = _monitor_exprs(loss, monitors, self.params,
                                             monitor_gradients)
        self.monitor_names = names
        self._outputs, self._index = _distinct(exprs)
        self._eval_outputs, self._eval_index = self._outputs, self._index
        if evaluation is not None:
            eval_names, eval_exprs, _ = _monitor_exprs(
                *evaluation, self.params, monitor_gradients)
            if eval_names != names:
                raise util.ConfigurationError(
                    f'evaluation monitors {eval_names} differ from the '
                    f'training monitors {names}')
            self._eval_outputs, self._eval_index = _distinct(eval_exprs)
        self._extra_updates = list(updates)
        grads = clip_gradients(grads, max_gradient_norm, max_gradient_elem)
        self._rule_updates = rule.get_updates(self.params, grads)
        targets = [v for v, _ in self._extra_updates + self._rule_updates]
        for var in targets:
            if targets.count(var) > 1:
                raise util.ConfigurationError(
                    f'variable {var.name!r} has two updates (the extra '
                    f'updates must not touch the parameters or the '
                    f'{type(rule).__name__.lower()} rule\'s state)')
        own = set(self.params)
        self._state = named([v for v, _ in self._rule_updates
                             if v not in own])
        self._initial = self._initial_values()
        self._f_train = self._f_eval = None
        self.epoch = self.n_updates = 0
        self.stopping = EarlyStopping(self.params)
        self._resumed = False

    # -- compiled functions ------------------------------------------------

    def _functions(self):
        if self._f_train is None:
            name = type(self.rule).__name__.lower()
            self._f_train = backend.compile(
                self.inputs, self._outputs, name=f'train_{name}',
                updates=self._extra_updates + self._rule_updates)
            self._f_eval = backend.compile(
                self.inputs, self._eval_outputs, name='evaluate',
                updates=self._extra_updates if self._eval_outputs is
                self._outputs else ())
            # Datasets give contiguous arrays of the inputs' dtypes (checked
            # on the first batch of every epoch), so skip per-call checks.
            self._f_train.trust_input = self._f_eval.trust_input = True
        return self._f_train, self._f_eval

    def _checked(self, dataset):
        """The batches of one epoch, after checking the first one."""
        batches = iter(dataset)
        try:
            first = next(batches)
        except StopIteration:
            raise ValueError(f'{dataset.name} data produced no batches')
        if len(first) != len(self.inputs):
            raise ValueError(
                f'{dataset.name} batches hold {len(first)} arrays; the loss '
                f'has {len(self.inputs)} inputs '
                f'({", ".join(str(v.name) for v in self.inputs)})')
        for var, array in zip(self.inputs, first):
            if array.dtype != var.dtype or array.ndim != var.ndim:
                raise ValueError(
                    f'{dataset.name} input {var.name!r} expects a '
                    f'{var.ndim}-d {var.dtype} array; got {array.ndim}-d '
                    f'{array.dtype} (pass raw arrays to let the optimizer '
                    f'convert them, or give Dataset(dtypes=...))')
        return itertools.chain([first], batches)

    def _run(self, fn, batches, training=False, max_updates=None):
        """Call ``fn`` on each batch; average the outputs per sample and
        name them (the monitors, repeats included)."""
        values, sizes = [], []
        schedule = self.rule.schedule if training else None
        for batch in batches:
            if training:
                if max_updates is not None and self.n_updates >= max_updates:
                    break
                if schedule is not None:
                    self.rule.set_rate(schedule(self.n_updates))
                self.n_updates += 1
            values.append(fn(*batch))
            sizes.append(len(batch[0]) if batch[0].ndim else 1)
        if not values:
            return None
        means = np.average(np.asarray(values, dtype='float64'), axis=0,
                           weights=sizes)
        index = self._index if training else self._eval_index
        return dict(zip(self.monitor_names, means[index].tolist()))

    # -- public ------------------------------------------------------------

    @property
    def learning_rate(self):
        """The current learning rate (float). Set a float, or a callable of
        the update count (a schedule), e.g. from a callback."""
        return self.rule.get_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self.rule.schedule = value
            value = value(self.n_updates)
        else:
            self.rule.schedule = None
        self.rule.set_rate(value)

    def dataset(self, data, name='train', batch_size=32, iteration_size=None,
                rng=13, shuffle=True):
        """``data`` as a :class:`Dataset` whose arrays match the inputs'
        dtypes (a Dataset is returned as it is)."""
        if isinstance(data, Dataset):
            return data
        return Dataset(data, name=name, batch_size=batch_size,
                       iteration_size=iteration_size, rng=rng,
                       shuffle=shuffle, dtypes=[v.dtype for v in self.inputs])

    def evaluate(self, dataset):
        """Average monitor values over one epoch of ``dataset``, without
        updating the parameters.

        Returns
        -------
        dict
            Monitor name -> float, ``'loss'`` first.
        """
        dataset = self.dataset(dataset, 'valid', shuffle=False)
        return self._run(self._functions()[1], self._checked(dataset))

    def _validate(self, valid, train_mon, start):
        monitors = self.evaluate(valid)
        if not np.isfinite(monitors['loss']):
            self._fail('validation', monitors['loss'])
        improved = self.stopping.update(monitors['loss'], self.epoch)
        fields = [f'epoch {self.epoch}']
        for label, mon in (('train', train_mon), ('valid', monitors)):
            if mon:
                fields.append(label + ' ' + ' '.join(
                    f'{k}={v:.6g}' for k, v in mon.items()))
        log.info('%s (%.1fs)%s', '  '.join(fields), time.time() - start,
                 ' *' if improved else '')
        return monitors

    def _fail(self, what, loss):
        self.stopping.restore()
        best = self.stopping.best_epoch
        raise NonFiniteLossError(
            f'{what} loss is {loss} at epoch {self.epoch}'
            f' (after {self.n_updates} updates); restored the best parameters'
            f'{"" if best is None else f" (epoch {best})"}. Try a smaller '
            f'learning_rate, max_gradient_norm=1, or check the data for '
            f'NaN/inf')

    def iterate(self, train, valid=None, *, patience=5, validate_every=10,
                min_improvement=0.0, max_updates=None, callbacks=(),
                batch_size=32, train_batches=None, valid_batches=None,
                rng=13, progress=None):
        """Train epoch by epoch, yielding monitor values after each epoch.

        Each call starts a new training run (see :meth:`reset`), unless
        :meth:`set_state` was called since the last one: then it continues
        the saved run (counters, best validation, rule state).
        Validation runs before the first update and then every
        ``validate_every`` epochs. Training stops when more than
        ``patience`` validations in a row fail to improve (see
        :class:`EarlyStopping`), after ``max_updates`` updates, when a
        callback returns True, or on KeyboardInterrupt; then the best
        parameters are restored. (Stopping for ``max_updates`` or a callback
        first validates the latest parameters, so they can be the best.)

        Parameters
        ----------
        train : Dataset or tuple of ndarray or callable or iterable
            Training data (raw data is wrapped in a :class:`Dataset` with
            ``batch_size``, ``train_batches`` and ``rng``).
        valid : same as train, optional
            Validation data (wrapped unshuffled, with ``valid_batches``).
            Defaults to ``train``.
        patience : int, default=5
            Failed validations tolerated before stopping.
        validate_every : int, default=10
            Epochs between validations.
        min_improvement : float, default=0.0
            Relative improvement of the validation loss that counts.
        max_updates : int, optional
            Stop after this many updates in this run (counting those made
            before the :meth:`get_state` of a resumed run).
        callbacks : sequence of callable, default=()
            Each is called as ``cb(epoch, train_monitors, valid_monitors)``
            after every epoch; training stops when one returns True.
        batch_size : int, default=32
            Batch size for raw ``train``/``valid`` data.
        train_batches, valid_batches : int, optional
            Batches per epoch (``Dataset.iteration_size``) for raw data.
        rng : int or numpy.random.Generator, default=13
            Shuffling seed for raw ``train`` data.
        progress : bool, optional
            Show a tqdm progress bar over each epoch's batches; default: when
            tqdm is installed and stderr is a terminal.

        Yields
        ------
        train_monitors, valid_monitors : dict
            Monitor name -> float (``'loss'`` first) averaged over the epoch
            and over the latest validation (repeated between validations).

        Raises
        ------
        NonFiniteLossError
            When a loss becomes NaN or infinite (best parameters restored).
        """
        if int(validate_every) != validate_every or validate_every < 1:
            raise ValueError(f'validate_every must be a positive integer; '
                             f'got {validate_every!r}')
        if max_updates is not None and max_updates < 0:
            raise ValueError(f'max_updates must be >= 0; got {max_updates!r}')
        self.stopping.configure(patience, min_improvement)
        train = self.dataset(train, 'train', batch_size, train_batches, rng)
        valid = train if valid is None else self.dataset(
            valid, 'valid', batch_size, valid_batches, shuffle=False)
        if callable(callbacks):
            callbacks = (callbacks,)
        if not self._resumed:
            self.reset()
        self._resumed = False
        return self._iterate(train, valid, int(validate_every), max_updates,
                             list(callbacks), _progress_bar(progress))

    def _iterate(self, train, valid, validate_every, max_updates, callbacks,
                 bar):
        f_train = self._functions()[0]
        start, count, validated = time.time(), 0, None
        train_mon = valid_mon = None
        try:
            while True:
                if count % validate_every == 0:
                    valid_mon = self._validate(valid, train_mon, start)
                    validated = self.epoch
                    if self.stopping.should_stop:
                        log.info('patience elapsed at epoch %d', self.epoch)
                        break
                if max_updates is not None and self.n_updates >= max_updates:
                    break
                batches = self._checked(train)
                if bar is not None:
                    batches = bar(batches, total=_length(train), leave=False,
                                  desc=f'epoch {self.epoch + 1}')
                monitors = self._run(f_train, batches, True, max_updates)
                if monitors is None:
                    break
                train_mon = monitors
                count += 1
                self.epoch += 1
                if not np.isfinite(train_mon['loss']):
                    self._fail('training', train_mon['loss'])
                yield dict(train_mon), dict(valid_mon)
                stops = [cb(self.epoch, train_mon, valid_mon)
                         for cb in callbacks]
                if any(stop is True for stop in stops):
                    log.info('stopped by a callback at epoch %d', self.epoch)
                    break
            if validated != self.epoch:
                self._validate(valid, train_mon, start)
        except KeyboardInterrupt:
            log.info('interrupted at epoch %d; restoring the best parameters',
                     self.epoch)
        finally:
            self.stopping.restore()

    def minimize(self, *args, **kwargs):
        """Run :meth:`iterate` to the end (same arguments).

        Returns
        -------
        train_monitors, valid_monitors : dict or None
            The last pair yielded (None when nothing was trained).
        """
        result = None
        for result in self.iterate(*args, **kwargs):
            pass
        return result


def _length(dataset):
    try:
        return len(dataset)
    except TypeError:
        return None


def _progress_bar(progress):
    """tqdm when a progress bar is wanted and possible, else None."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm
