"""Early stopping: remember the best parameters, decide when to stop."""

import numpy as np

__all__ = ['EarlyStopping', 'NonFiniteLossError']


class NonFiniteLossError(RuntimeError):
    """The loss became NaN or infinite during training.

    The best parameters seen so far have been restored when this is raised
    (the update rule's state may hold NaN; the next ``iterate`` resets it).
    Usual fixes: a smaller ``learning_rate``, gradient clipping with
    ``max_gradient_norm``, or checking the data for NaN/inf.
    """


class EarlyStopping:
    """Track validation losses; remember and restore the best parameters.

    A validation loss ``loss`` improves on the best one so far when
    ``best - loss > min_improvement * abs(best)``; the first validation
    always does. After ``patience`` validations in a row without
    improvement, the next one without improvement stops training (the
    rule of the ``downhill`` library).

    Parameters
    ----------
    params : sequence
        Objects with ``get_value(borrow=...)`` and ``set_value(array)``
        (shared variables).
    patience : int, default=5
        Validations without improvement tolerated before stopping.
    min_improvement : float, default=0.0
        Relative improvement needed to count as progress (0.01 for 1%).

    Examples
    --------
    >>> stop = EarlyStopping([], patience=1)
    >>> [stop.update(x, epoch) for epoch, x in enumerate([3, 2, 2, 2])]
    [True, True, False, False]
    >>> stop.should_stop, stop.best_loss, stop.best_epoch
    (True, 2.0, 1)
    """

    def __init__(self, params, patience=5, min_improvement=0.0):
        self.params = list(params)
        self.patience = patience
        self.min_improvement = min_improvement
        self.reset()

    def reset(self):
        """Forget the best loss and parameters and the failure count."""
        self.best_loss = self.best_epoch = self.best_values = None
        self.failures = 0

    def configure(self, patience, min_improvement):
        """Set the stopping rule (the best values so far are kept)."""
        if int(patience) != patience or patience < 0:
            raise ValueError(f'patience must be an integer >= 0; got '
                             f'{patience!r}')
        if not min_improvement >= 0:
            raise ValueError(f'min_improvement must be >= 0; got '
                             f'{min_improvement!r}')
        self.patience = int(patience)
        self.min_improvement = float(min_improvement)

    def improves(self, loss):
        """True when ``loss`` beats the best loss by the required margin."""
        if self.best_loss is None:
            return True
        best = self.best_loss
        return best - loss > self.min_improvement * abs(best)

    def update(self, loss, epoch):
        """Record a validation loss; snapshot the parameters if it is best.

        Returns
        -------
        bool
            True when this is a new best.
        """
        loss = float(loss)
        if self.improves(loss):
            self.best_loss, self.best_epoch, self.failures = loss, epoch, 0
            self.best_values = [np.array(p.get_value(borrow=True), copy=True)
                                for p in self.params]
            return True
        self.failures += 1
        return False

    @property
    def should_stop(self):
        """True once more than ``patience`` validations failed to improve."""
        return self.failures > self.patience

    def restore(self):
        """Set the parameters to the best values seen (no-op before any)."""
        if self.best_values is not None:
            for param, value in zip(self.params, self.best_values):
                param.set_value(value)

    def get_state(self):
        """The tracked values as a dict (see ``Optimizer.get_state``)."""
        state = {'best_loss': np.inf if self.best_loss is None
                 else self.best_loss,
                 'best_epoch': -1 if self.best_epoch is None
                 else self.best_epoch,
                 'failures': self.failures}
        for i, value in enumerate(self.best_values or ()):
            state[f'best:{i}'] = value.copy()
        return state

    def set_state(self, state):
        """Restore what :meth:`get_state` returned."""
        best = float(state['best_loss'])
        self.best_loss = None if not np.isfinite(best) else best
        epoch = int(state['best_epoch'])
        self.best_epoch = None if epoch < 0 else epoch
        self.failures = int(state['failures'])
        if self.best_loss is not None:
            self.best_values = [np.array(state[f'best:{i}'], copy=True)
                                for i in range(len(self.params))]
        else:
            self.best_values = None
