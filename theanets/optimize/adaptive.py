"""Update rules with per-parameter adaptive step sizes.

Every rule keeps its state in shared variables made by
:func:`~theanets.backend.shared_like` (named ``'<param>_<suffix>'``), takes
``learning_rate``, ``momentum`` and ``nesterov`` like :class:`~.rules.SGD`,
and follows the hyperparameter names of the ``downhill`` library. An EWMA
half-life ``h`` (in updates) means the decay ``exp(-ln 2 / h)``.
"""

import numpy as np

from .. import backend
from .rules import UpdateRule, _check_number, scalar_state

__all__ = ['RMSProp', 'ADADELTA', 'ADAGRAD', 'Adam', 'ESGD', 'RProp']

TT = backend.TT


def _decay(halflife):
    """EWMA weight for a half-life of ``halflife`` updates."""
    _check_number('rms_halflife', halflife, low=0, low_ok=False)
    return float(np.exp(-np.log(2) / halflife))


class RMSProp(UpdateRule):
    """RMSProp: scale each step by a running RMS of the gradient.

    Graves' (2013) variant: the running mean of the gradient is subtracted,
    so the scale is a running standard deviation::

        f = d f + (1 - d) g;   s = d s + (1 - d) g^2
        param -= learning_rate * g / sqrt(s - f^2 + rms_regularizer)

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`~.rules.UpdateRule`).
    rms_halflife : float, default=14
        Half-life, in updates, of the running averages.
    rms_regularizer : float, default=1e-8
        Added under the square root to keep steps finite.
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1e-4, rms_halflife=14,
                 rms_regularizer=1e-8, momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov)
        self.rms_halflife = rms_halflife
        self.rms_regularizer = _check_number(
            'rms_regularizer', rms_regularizer, low=0)
        self.decay = _decay(rms_halflife)

    def _updates_for(self, param, grad):
        d, eps = self._const(self.decay, param), self._const(
            self.rms_regularizer, param)
        mean = backend.shared_like(param, 'g1_ewma')
        square = backend.shared_like(param, 'g2_ewma')
        new_mean = d * mean + (1 - d) * grad
        new_square = d * square + (1 - d) * grad * grad
        rms = TT.sqrt(new_square - new_mean * new_mean + eps)
        yield mean, new_mean
        yield square, new_square
        yield param, param - self.learning_rate * grad / rms


class ADADELTA(RMSProp):
    """ADADELTA (Zeiler 2012): steps scaled by RMS(past steps) / RMS(grad).

    ::

        s = d s + (1 - d) g^2
        step = g * sqrt(x + rms_regularizer) / sqrt(s + rms_regularizer)
        x = d x + (1 - d) step^2;   param -= learning_rate * step

    Parameters
    ----------
    learning_rate : float or callable, default=1.0
        Multiplies the step (1 is Zeiler's method; ``downhill`` had no
        learning rate here).
    rms_halflife : float, default=14
        Half-life, in updates, of the running averages.
    rms_regularizer : float, default=1e-8
        Added under both square roots; it also sets the size of the first
        steps (about ``sqrt(rms_regularizer)``).
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1.0, rms_halflife=14,
                 rms_regularizer=1e-8, momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate,
                         rms_halflife=rms_halflife,
                         rms_regularizer=rms_regularizer, momentum=momentum,
                         nesterov=nesterov)

    def _updates_for(self, param, grad):
        d, eps = self._const(self.decay, param), self._const(
            self.rms_regularizer, param)
        square = backend.shared_like(param, 'g2_ewma')
        steps = backend.shared_like(param, 'x2_ewma')
        new_square = d * square + (1 - d) * grad * grad
        step = grad * TT.sqrt(steps + eps) / TT.sqrt(new_square + eps)
        yield square, new_square
        yield steps, d * steps + (1 - d) * step * step
        yield param, param - self.learning_rate * step


class ADAGRAD(UpdateRule):
    """ADAGRAD (Duchi et al. 2011): steps scaled by the root of the summed
    squared gradients::

        s += g^2;   param -= learning_rate * g / sqrt(s + regularizer)

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`~.rules.UpdateRule`).
    regularizer : float, default=1e-8
        Added under the square root to keep steps finite.
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1e-4, regularizer=1e-8, momentum=0,
                 nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov)
        self.regularizer = _check_number('regularizer', regularizer, low=0)

    def _updates_for(self, param, grad):
        eps = self._const(self.regularizer, param)
        total = backend.shared_like(param, 'g2_sum')
        new_total = total + grad * grad
        yield total, new_total
        yield param, param - self.learning_rate * grad / TT.sqrt(
            new_total + eps)


class Adam(UpdateRule):
    """Adam (Kingma & Ba 2015), with bias-corrected moment estimates::

        m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
        param -= learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    where ``m_hat = m / (1 - beta1^t)``, ``v_hat = v / (1 - beta2^t)`` and
    ``t`` counts updates (a scalar state variable ``'<param>_t'``).

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`~.rules.UpdateRule`).
    beta1 : float, default=0.9
        Decay of the running mean of the gradient, in ``[0, 1)``.
    beta2 : float, default=0.999
        Decay of the running mean of the squared gradient, in ``[0, 1)``.
    epsilon : float, default=1e-8
        Added to the denominator to keep steps finite.
    momentum : float, default=0
        Extra momentum in ``[0, 1)``; 0 (the usual choice) disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1e-4, beta1=0.9, beta2=0.999,
                 epsilon=1e-8, momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov)
        self.beta1 = _check_number('beta1', beta1, low=0, high=1)
        self.beta2 = _check_number('beta2', beta2, low=0, high=1)
        self.epsilon = _check_number('epsilon', epsilon, low=0)

    def _updates_for(self, param, grad):
        b1, b2 = self._const(self.beta1, param), self._const(self.beta2, param)
        count, t = scalar_state(f'{param.name}_t', param.dtype)
        mean = backend.shared_like(param, 'm')
        square = backend.shared_like(param, 'v')
        new_mean = b1 * mean + (1 - b1) * grad
        new_square = b2 * square + (1 - b2) * grad * grad
        mean_hat = new_mean / (1 - b1 ** (t + 1))
        square_hat = new_square / (1 - b2 ** (t + 1))
        yield count, count + 1
        yield mean, new_mean
        yield square, new_square
        yield param, param - self.learning_rate * mean_hat / (
            TT.sqrt(square_hat) + self._const(self.epsilon, param))


class ESGD(RMSProp):
    """Equilibrated SGD (Dauphin et al. 2015): steps scaled by a running
    estimate of the equilibration preconditioner ``sqrt(diag(H^2))``.

    Each update draws ``v ~ N(0, 1)`` for all parameters, computes the
    Hessian-vector product ``Hv`` exactly (by differentiating ``g . v``),
    and keeps ``D = d D + (1 - d) (Hv)^2``; then
    ``param -= learning_rate * g / (sqrt(D) + rms_regularizer)``. This
    costs about one extra backward pass per update.

    Parameters
    ----------
    learning_rate : float or callable, default=1e-4
        Step size, or a schedule (see :class:`~.rules.UpdateRule`).
    rms_halflife : float, default=14
        Half-life, in updates, of the running average ``D``.
    rms_regularizer : float, default=1e-8
        Added to ``sqrt(D)`` to keep steps finite.
    seed : int, default=13
        Seed of the random vectors ``v``.
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1e-4, rms_halflife=14,
                 rms_regularizer=1e-8, seed=13, momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate,
                         rms_halflife=rms_halflife,
                         rms_regularizer=rms_regularizer, momentum=momentum,
                         nesterov=nesterov)
        self.seed = int(seed)

    def _updates(self, params, grads):
        stream = backend.random_stream(self.seed)
        vectors = [stream.normal(0, 1, size=p.shape, dtype=p.dtype)
                   for p in params]
        dot = sum((g * v).sum() for g, v in zip(grads, vectors))
        hvs = backend.grad(dot, params, disconnected_inputs='ignore')
        for param, grad, hv in zip(params, grads, hvs):
            d, eps = self._const(self.decay, param), self._const(
                self.rms_regularizer, param)
            diag = backend.shared_like(param, 'D_ewma')
            new_diag = d * diag + (1 - d) * hv * hv
            yield diag, new_diag
            yield param, param - self.learning_rate * grad / (
                TT.sqrt(new_diag) + eps)


class RProp(UpdateRule):
    """Resilient backpropagation, the iRprop- variant (Igel & Huesken 2000).

    Only gradient signs matter: each element has its own step, which grows
    by ``rprop_increase`` while the gradient keeps its sign and shrinks by
    ``rprop_decrease`` when it flips (then that element skips one update),
    within ``[rprop_min_step, rprop_max_step]``. Steps are kept relative to
    the learning rate (state ``'<param>_step'``, starting at 1), so the
    first steps equal ``learning_rate`` and a later change of the learning
    rate (or a schedule) rescales every step.

    Parameters
    ----------
    learning_rate : float, default=1e-4
        Initial step of every element, or a schedule.
    rprop_increase : float, default=1.01
        Step growth factor when the gradient keeps its sign.
    rprop_decrease : float, default=0.99
        Step shrink factor when the gradient changes sign.
    rprop_min_step : float, default=0
        Smallest step.
    rprop_max_step : float, default=100
        Largest step.
    momentum : float, default=0
        Momentum in ``[0, 1)``; 0 disables it.
    nesterov : bool, default=False
        Use Nesterov momentum.
    """

    def __init__(self, *, learning_rate=1e-4, rprop_increase=1.01,
                 rprop_decrease=0.99, rprop_min_step=0, rprop_max_step=100,
                 momentum=0, nesterov=False):
        super().__init__(learning_rate=learning_rate, momentum=momentum,
                         nesterov=nesterov)
        self.rprop_increase = _check_number(
            'rprop_increase', rprop_increase, low=1)
        self.rprop_decrease = _check_number(
            'rprop_decrease', rprop_decrease, low=0, high=1)
        self.rprop_min_step = _check_number(
            'rprop_min_step', rprop_min_step, low=0)
        self.rprop_max_step = _check_number(
            'rprop_max_step', rprop_max_step, low=self.rprop_min_step)

    def _updates_for(self, param, grad):
        c = lambda x: self._const(x, param)  # noqa: E731
        last_grad = backend.shared_like(param, 'grad')
        scale = backend.shared_like(param, 'step', 1.0)
        agree = grad * last_grad
        flipped = TT.lt(agree, 0)
        factor = TT.switch(TT.gt(agree, 0), c(self.rprop_increase),
                           TT.switch(flipped, c(self.rprop_decrease), c(1)))
        rate = self.learning_rate
        step = TT.clip(rate * scale * factor, c(self.rprop_min_step),
                       c(self.rprop_max_step))
        grad = TT.switch(flipped, c(0), grad)
        yield last_grad, grad
        yield scale, step / rate
        yield param, param - TT.sign(grad) * step
