"""Training-run state: reset, save and restore an optimizer's progress."""

import numpy as np

__all__ = ['StateMixin', 'named']


class StateMixin:
    """The state methods of :class:`~.base.Optimizer`.

    Expects ``self._state`` (name -> optimizer-state shared variable),
    ``self._initial`` (from :meth:`_initial_values`), ``self.rule``,
    ``self.stopping``, the counters ``epoch`` and ``n_updates``, and
    ``self._resumed``.
    """

    def _initial_values(self):
        """Each state variable's value: a scalar when all elements agree."""
        initial = {}
        for name, var in self._state.items():
            value = var.get_value(borrow=True)
            flat = value.ravel()
            initial[name] = flat[0].item() if flat.size and (
                flat == flat[0]).all() else value.copy()
        return initial

    def reset(self):
        """Start afresh: zero the counters, forget the best validation and
        set the rule's state (velocities, running averages) to its initial
        values. :meth:`iterate` calls this unless :meth:`set_state` came
        first. The parameters and the learning rate stay as they are."""
        self.epoch = self.n_updates = 0
        self.stopping.reset()
        for name, var in self._state.items():
            value = self._initial[name]
            current = var.get_value(borrow=True)
            var.set_value(np.full(current.shape, value, current.dtype)
                          if np.ndim(value) == 0 else value.copy())

    def get_state(self):
        """Everything needed to resume training, as a flat dict.

        Returns
        -------
        dict
            ``'epoch'``, ``'updates'`` (int), ``'learning_rate'`` (float),
            ``'best_loss'`` (float, inf before any validation),
            ``'best_epoch'`` (int, -1 before any validation), ``'failures'``
            (validations since the best); ``'best:<i>'`` (ndarray): the best
            value of the i-th parameter; ``'state:<name>'`` (ndarray): each
            optimizer-state variable of the rule, by name (``'w_vel'``,
            ``'w_g2_ewma'``, ...). All values are numpy arrays or Python
            numbers, so the dict can be saved with ``numpy.savez``.
        """
        state = {'epoch': self.epoch, 'updates': self.n_updates,
                 'learning_rate': self.rule.get_rate()}
        state.update(self.stopping.get_state())
        for name, var in self._state.items():
            state[f'state:{name}'] = np.array(var.get_value(borrow=True),
                                              copy=True)
        return state

    def set_state(self, state):
        """Restore what :meth:`get_state` returned; the next
        :meth:`iterate` continues that run. (The current parameter values are
        the model's business and stay as they are.)"""
        for name, var in self._state.items():
            key = f'state:{name}'
            if key not in state:
                raise ValueError(f'the state has no {key!r}; was it saved by '
                                 f'a {type(self.rule).__name__} optimizer for '
                                 f'the same parameters?')
            value = np.asarray(state[key], dtype=var.dtype)
            if value.shape != var.get_value(borrow=True).shape:
                raise ValueError(
                    f'{key} has shape {value.shape}; expected '
                    f'{var.get_value(borrow=True).shape}')
            var.set_value(value)
        self.epoch = int(state['epoch'])
        self.n_updates = int(state['updates'])
        self.rule.set_rate(float(state['learning_rate']))
        self.stopping.set_state(state)
        self._resumed = True


def named(variables):
    """Variables by name; repeated (or missing) names get a suffix."""
    result = {}
    for i, var in enumerate(variables):
        name = var.name or f'var{i}'
        key, n = name, 1
        while key in result:
            n += 1
            key = f'{name}#{n}'
        result[key] = var
    return result
