"""theanets: describe a network as a list of layers, train it, use it.

>>> import theanets
>>> net = theanets.Classifier(layers=[784, 100, 10])  # doctest: +SKIP
>>> net.train(train, valid, algo='nag', learning_rate=1e-3)  # doctest: +SKIP
>>> net.predict(images)  # doctest: +SKIP
"""

__version__ = '0.9.0.dev0'

from . import backend, layers, losses, activations, regularizers  # noqa: E402
from . import recurrent, convolution  # noqa: E402
from .activations import Activation  # noqa: E402
from .backend import config  # noqa: E402
from .feedforward import Autoencoder, Classifier, Regressor  # noqa: E402
from .graph import Network  # noqa: E402
from .main import Experiment  # noqa: E402
from .layers import Layer  # noqa: E402
from .losses import Loss  # noqa: E402
from .regularizers import Regularizer  # noqa: E402
from .saving import ModelFileError  # noqa: E402
from .util import ConfigurationError, log  # noqa: E402

__all__ = [
    'Network', 'Experiment', 'Autoencoder', 'Regressor', 'Classifier', 'Layer',
    'Activation', 'Loss', 'Regularizer', 'ConfigurationError',
    'ModelFileError', 'config', 'log', 'layers', 'losses', 'activations',
    'regularizers', 'backend', 'recurrent', 'convolution',
]
