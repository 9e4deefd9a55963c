"""The peers theanets is measured against, on the same shapes and data.

Each ``make_*`` function returns ``None`` when its library is missing (the
caller prints a note), or a dict of zero-argument callables: ``step(b)``
(one training step on a batch of ``b`` samples), ``epoch`` / ``predict``
(where the peer has them). Nothing here imports theanets.

The models are ``[784, 100, 10]`` multilayer perceptrons: a relu hidden
layer, a softmax output and the mean cross-entropy loss, trained by plain
SGD (``momentum=0``) or Nesterov momentum (``nag``), in float32.
"""

import numpy as np

__all__ = ['NumpyMLP', 'make_numpy', 'make_torch', 'make_sklearn',
           'step_products', 'torch_lstm', 'torch_conv']


def _init(rng, sizes):
    """Glorot-uniform weights and zero biases, float32."""
    params = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6 / (nin + nout))
        params.append(rng.uniform(-limit, limit, (nin, nout)).astype('f4'))
        params.append(np.zeros(nout, 'f4'))
    return params


class NumpyMLP:
    """A hand-written float32 numpy training step for ``[784, 100, 10]``.

    Forward, backward and update are written out with the five matrix
    products of the step (``x@W1``, ``h@W2``, ``h.T@dz``, ``dz@W2.T``,
    ``x.T@dh``) and in-place elementwise work where numpy allows it.
    """

    def __init__(self, sizes=(784, 100, 10), algo='nag', learning_rate=1e-3,
                 momentum=0.9, seed=0):
        self.params = _init(np.random.default_rng(seed), sizes)
        self.vel = [np.zeros_like(p) for p in self.params]
        self.lr = np.float32(learning_rate)
        self.mu = np.float32(momentum if algo == 'nag' else 0.0)
        self.nesterov = algo == 'nag'

    def forward(self, x):
        w1, b1, w2, b2 = self.params
        h = x @ w1
        h += b1
        np.maximum(h, 0, out=h)
        z = h @ w2
        z += b2
        return h, z

    def predict(self, x):
        return self.forward(x)[1].argmax(axis=1)

    def step(self, x, y):
        w1, b1, w2, b2 = self.params
        n = len(x)
        h, z = self.forward(x)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)          # softmax probabilities
        rows = np.arange(n)
        loss = -np.log(z[rows, y]).mean()
        z[rows, y] -= 1
        z /= n                                     # d loss / d logits
        grads = [None, None, h.T @ z, z.sum(axis=0)]
        dh = z @ w2.T
        dh *= h > 0
        grads[0] = x.T @ dh
        grads[1] = dh.sum(axis=0)
        for p, v, g in zip(self.params, self.vel, grads):
            g *= self.lr
            if self.nesterov:
                v *= self.mu
                v -= g                             # v = mu v - lr g
                p -= g
                g[...] = v
                g *= self.mu
                p += g                             # p += mu v - lr g
            else:
                p -= g
        return loss


def step_products(b, sizes=(784, 100, 10), seed=0):
    """The five float32 matrix products of one training step at batch ``b``.

    Returns ``(run, flops)``: a callable computing them into preallocated
    outputs, and the floating-point operations they take (2 m n k each).
    """
    rng = np.random.default_rng(seed)
    nin, nhid, nout = sizes
    x = rng.random((b, nin), dtype='f4')
    w1 = rng.random((nin, nhid), dtype='f4')
    w2 = rng.random((nhid, nout), dtype='f4')
    h = np.empty((b, nhid), 'f4')
    z = np.empty((b, nout), 'f4')
    dh = np.empty((b, nhid), 'f4')
    gw1 = np.empty((nin, nhid), 'f4')
    gw2 = np.empty((nhid, nout), 'f4')

    def run():
        np.matmul(x, w1, out=h)          # forward, hidden
        np.matmul(h, w2, out=z)          # forward, output
        np.matmul(h.T, z, out=gw2)       # gradient of W2
        np.matmul(z, w2.T, out=dh)       # gradient at the hidden layer
        np.matmul(x.T, dh, out=gw1)      # gradient of W1

    flops = 2 * b * (2 * nin * nhid + 3 * nhid * nout)
    return run, flops


def make_numpy(algo, learning_rate, momentum, seed=0):
    return NumpyMLP(algo=algo, learning_rate=learning_rate,
                    momentum=momentum, seed=seed)


# -- PyTorch -----------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def make_torch(algo, learning_rate, momentum, seed=0):
    """A PyTorch eager ``[784, 100, 10]`` model with its optimizer, or None.

    Returns a dict: ``model``, ``step(x, y)`` on torch tensors, ``tensor``
    (numpy -> torch without a copy).
    """
    torch = _torch()
    if torch is None:
        return None
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(784, 100), torch.nn.ReLU(),
                                torch.nn.Linear(100, 10))
    nag = algo == 'nag'
    opt = torch.optim.SGD(model.parameters(), lr=learning_rate,
                          momentum=momentum if nag else 0.0, nesterov=nag)
    lossf = torch.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def predict(x):
        with torch.no_grad():
            return model(x).argmax(dim=1)

    return dict(model=model, step=step, predict=predict,
                tensor=torch.from_numpy, torch=torch)


def torch_lstm(batch=32, steps=50, nin=128, units=128, nout=10, seed=0):
    """PyTorch LSTM training step: ``(step, x, y)`` or None."""
    torch = _torch()
    if torch is None:
        return None
    torch.manual_seed(seed)
    lstm = torch.nn.LSTM(nin, units, batch_first=True)
    head = torch.nn.Linear(units, nout)
    params = list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9, nesterov=True)
    lossf = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((batch, steps, nin), 'f4'))
    y = torch.from_numpy(rng.integers(0, nout, (batch, steps)))

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = lstm(x)
        loss = lossf(head(out).reshape(-1, nout), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss

    return step


def torch_conv(batch=64, filters=16, nout=10, seed=0):
    """PyTorch conv2 (3x3, relu, 2x2 max pool, dense) step, or None."""
    torch = _torch()
    if torch is None:
        return None
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, filters, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(filters * 13 * 13, nout))
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9,
                          nesterov=True)
    lossf = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), 'f4'))
    y = torch.from_numpy(rng.integers(0, nout, batch))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


# -- scikit-learn -------------------------------------------------------------

def make_sklearn(algo, learning_rate, momentum, batch, seed=0):
    """An ``MLPClassifier`` whose ``partial_fit`` makes one step per batch,
    or None when scikit-learn is missing."""
    try:
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    nag = algo == 'nag'
    return MLPClassifier(
        hidden_layer_sizes=(100,), activation='relu', solver='sgd', alpha=0.0,
        batch_size=batch, learning_rate_init=learning_rate,
        momentum=momentum if nag else 0.0, nesterovs_momentum=nag,
        shuffle=False, random_state=seed)
