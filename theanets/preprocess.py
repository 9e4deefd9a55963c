"""Preprocessing: centring, z-scores, PCA and ZCA whitening, one-hot labels.

Each transformer is fitted on the training set and then applied, unchanged,
to the validation and test sets::

    >>> pca = PCA(n_components=0.99, whiten=True)       # doctest: +SKIP
    >>> x_train = pca.fit_transform(x_train)             # doctest: +SKIP
    >>> x_valid = pca.transform(x_valid)                 # doctest: +SKIP

Statistics are computed in float64 with the population convention (divide
by ``n``); outputs keep the input's float dtype, and integer input (such as
uint8 pixels) gives ``np.float32`` unless the transformer's ``dtype=`` says
otherwise.
"""

import numpy as np

__all__ = ['Center', 'NotFittedError', 'PCA', 'Standardize', 'Transformer',
           'ZCA', 'from_one_hot', 'one_hot']


class NotFittedError(ValueError, AttributeError):
    """A transformer was used before ``fit``."""


class Transformer:
    """Base class: ``fit`` on training data, then ``transform`` any data.

    Parameters
    ----------
    dtype : numpy dtype or None, default=None
        Dtype of the outputs; None keeps the input's float dtype and turns
        integer input into ``np.float32``.

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen by ``fit``.
    """

    def __init__(self, dtype=None):
        self.dtype = dtype

    def __repr__(self):
        args = ', '.join(f'{k}={v!r}' for k, v in vars(self).items()
                         if not k.endswith('_'))
        return f'{type(self).__name__}({args})'

    def _check(self, x, size=None, what='fit'):
        """``x`` as a finite float64 ``(n, size)`` array, and its output dtype."""
        x = np.asarray(x)
        if x.ndim != 2:
            raise ValueError(f'{type(self).__name__}.{what} expects a 2-D array '
                             f'(samples, features), got shape {x.shape}')
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise ValueError(f'expected a numeric array, got dtype {x.dtype}')
        if self.dtype is not None:
            dtype = np.dtype(self.dtype)
        elif np.issubdtype(x.dtype, np.floating):
            dtype = x.dtype
        else:
            dtype = np.dtype(np.float32)
        if size is not None and x.shape[1] != size:
            raise ValueError(f'{type(self).__name__}.{what}: expected {size} '
                             f'features (the number seen by fit), got {x.shape[1]}')
        x = x.astype(np.float64)
        bad = np.count_nonzero(~np.isfinite(x))
        if bad:
            raise ValueError(f'{type(self).__name__}.{what}: input contains '
                             f'{bad} NaN or infinite values; clean or impute '
                             f'them first')
        return x, dtype

    def _fitted(self, what):
        if not hasattr(self, 'n_features_in_'):
            raise NotFittedError(f'this {type(self).__name__} is not fitted '
                                 f'yet; call fit(x_train) before {what}')

    def fit(self, x):
        """Learn the statistics of ``x``, shape ``(n, features)``; returns self."""
        x, _ = self._check(x)
        if len(x) == 0:
            raise ValueError(f'{type(self).__name__}.fit needs at least one '
                             f'sample, got shape {x.shape}')
        self._fit(x)
        self.n_features_in_ = x.shape[1]
        return self

    def transform(self, x):
        """Apply the fitted transform to ``x``, shape ``(n, features)``."""
        self._fitted('transform')
        x, dtype = self._check(x, self.n_features_in_, 'transform')
        return self._transform(x).astype(dtype)

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, z):
        """Map transformed data ``z`` back to the input space."""
        self._fitted('inverse_transform')
        z, dtype = self._check(z, self._n_out(), 'inverse_transform')
        return self._inverse(z).astype(dtype)

    def _n_out(self):
        return self.n_features_in_

    def _fit(self, x):
        raise NotImplementedError

    def _transform(self, x):
        raise NotImplementedError

    def _inverse(self, z):
        raise NotImplementedError


class Center(Transformer):
    """Subtract the per-feature mean of the training data.

    Attributes
    ----------
    mean_ : ndarray of float64, shape (features,)
    """

    def _fit(self, x):
        self.mean_ = x.mean(axis=0)

    def _transform(self, x):
        return x - self.mean_

    def _inverse(self, z):
        return z + self.mean_


class Standardize(Transformer):
    """Z-scores: ``(x - mean) / sqrt(var + epsilon)`` per feature.

    Parameters
    ----------
    epsilon : float, default=1e-8
        Added to each variance, so constant features map to 0, not NaN.
    dtype : numpy dtype or None, default=None
        See :class:`Transformer`.

    Attributes
    ----------
    mean_, scale_ : ndarray of float64, shape (features,)
    """

    def __init__(self, epsilon=1e-8, dtype=None):
        super().__init__(dtype)
        if not epsilon >= 0:
            raise ValueError(f'epsilon must be >= 0, got {epsilon}')
        self.epsilon = epsilon

    def _fit(self, x):
        self.mean_ = x.mean(axis=0)
        self.scale_ = np.sqrt(x.var(axis=0) + self.epsilon)
        if not np.all(self.scale_ > 0):
            raise ValueError('a feature is constant and epsilon=0; use '
                             'epsilon > 0')

    def _transform(self, x):
        return (x - self.mean_) / self.scale_

    def _inverse(self, z):
        return z * self.scale_ + self.mean_


def _eigen(x):
    """Mean, eigenvalues (descending, >= 0) and eigenvectors (columns) of x's covariance."""
    mean = x.mean(axis=0)
    centred = x - mean
    values, vectors = np.linalg.eigh(centred.T @ centred / len(x))
    order = np.argsort(values)[::-1]
    return mean, np.clip(values[order], 0, None), vectors[:, order]


class PCA(Transformer):
    """Principal component analysis: project onto the top components.

    Parameters
    ----------
    n_components : None, int or float, default=None
        None keeps ``min(n, features)`` components; an int keeps that many
        (1 to features); a float in (0, 1] keeps the fewest components whose
        explained variance reaches that fraction (so ``1`` is one component
        and ``1.0`` is all of the variance).
    whiten : bool, default=False
        Divide each component by ``sqrt(variance + epsilon)``, giving unit
        variance on the training data.
    epsilon : float, default=1e-8
        Added to the variances when whitening.
    dtype : numpy dtype or None, default=None
        See :class:`Transformer`.

    Attributes
    ----------
    mean_ : ndarray of float64, shape (features,)
    components_ : ndarray of float64, shape ``(n_components_, features)``
        Unit principal axes, one per row, by decreasing variance.
    explained_variance_ : ndarray of float64, shape ``(n_components_,)``
    explained_variance_ratio_ : ndarray of float64, shape ``(n_components_,)``
    n_components_ : int
    """

    def __init__(self, n_components=None, whiten=False, epsilon=1e-8,
                 dtype=None):
        super().__init__(dtype)
        kind = type(n_components)
        if n_components is not None and (
                isinstance(n_components, bool) or not (
                    (np.issubdtype(kind, np.integer) and n_components >= 1) or
                    (np.issubdtype(kind, np.floating) and 0 < n_components <= 1))):
            raise ValueError('n_components must be None, an int >= 1 or a '
                             f'float in (0, 1], got {n_components!r}')
        if not epsilon >= 0:
            raise ValueError(f'epsilon must be >= 0, got {epsilon}')
        self.n_components = n_components
        self.whiten = whiten
        self.epsilon = epsilon

    def _fit(self, x):
        mean, values, vectors = _eigen(x)
        total = values.sum()
        ratio = values / total if total > 0 else np.zeros_like(values)
        k = self.n_components
        if k is None:
            k = min(x.shape)
        elif np.issubdtype(type(k), np.floating):
            k = int(np.searchsorted(np.cumsum(ratio), k - 1e-12)) + 1
        elif k > x.shape[1]:
            raise ValueError(f'n_components={k} exceeds the {x.shape[1]} '
                             f'features of the data')
        k = min(int(k), x.shape[1])
        if self.whiten and np.any(values[:k] + self.epsilon <= 0):
            raise ValueError('a kept component has zero variance and epsilon=0;'
                             ' use epsilon > 0 or fewer components')
        self.mean_ = mean
        self.components_ = vectors[:, :k].T.copy()
        self.explained_variance_ = values[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.n_components_ = k

    def _scale(self):
        if not self.whiten:
            return 1.0
        return np.sqrt(self.explained_variance_ + self.epsilon)

    def _n_out(self):
        return self.n_components_

    def _transform(self, x):
        return (x - self.mean_) @ self.components_.T / self._scale()

    def _inverse(self, z):
        return (z * self._scale()) @ self.components_ + self.mean_


class ZCA(Transformer):
    """ZCA whitening: decorrelate features while staying close to the input.

    ``transform(x) = (x - mean) @ W`` with ``W = U diag(1 / sqrt(s +
    epsilon)) U^T`` for the covariance's eigen-decomposition ``U diag(s)
    U^T``; the result has (nearly) identity covariance on the training data.

    Parameters
    ----------
    epsilon : float, default=1e-6
        Added to the eigenvalues: regularizes the whitening. Larger values
        (0.01 to 0.1 for pixels in [0, 1]) amplify noise less.
    dtype : numpy dtype or None, default=None
        See :class:`Transformer`.

    Attributes
    ----------
    mean_ : ndarray of float64, shape (features,)
    whiten_, dewhiten_ : ndarray of float64, shape (features, features)
        The whitening matrix ``W`` and its inverse.
    """

    def __init__(self, epsilon=1e-6, dtype=None):
        super().__init__(dtype)
        if not epsilon > 0:
            raise ValueError(f'epsilon must be > 0, got {epsilon}')
        self.epsilon = epsilon

    def _fit(self, x):
        self.mean_, values, vectors = _eigen(x)
        root = np.sqrt(values + self.epsilon)
        self.whiten_ = (vectors / root) @ vectors.T
        self.dewhiten_ = (vectors * root) @ vectors.T

    def _transform(self, x):
        return (x - self.mean_) @ self.whiten_

    def _inverse(self, z):
        return z @ self.dewhiten_ + self.mean_


def one_hot(labels, n_classes=None, dtype=np.float32):
    """Integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array of int, shape (n,)
        Labels in ``0 .. n_classes - 1``.
    n_classes : int, default=None
        Number of columns; None uses ``max(labels) + 1``.
    dtype : numpy dtype, default=np.float32
        Dtype of the result.

    Returns
    -------
    ndarray, shape (n, n_classes)
        Row ``i`` is 1 in column ``labels[i]`` and 0 elsewhere.

    >>> one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]], dtype=float32)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f'labels must be 1-D (n,), got shape {labels.shape}')
    if labels.dtype.kind == 'f' and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in 'iu':
        raise ValueError(f'labels must be integers, got dtype {labels.dtype}')
    if n_classes is None:
        if len(labels) == 0:
            raise ValueError('cannot infer n_classes from no labels; pass '
                             'n_classes=')
        n_classes = int(labels.max()) + 1
    if len(labels) and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f'labels must be in [0, {n_classes}) (n_classes='
                         f'{n_classes}), found {labels.min()} to {labels.max()}')
    out = np.zeros((len(labels), n_classes), dtype=dtype)
    out[np.arange(len(labels)), labels] = 1
    return out


def from_one_hot(y):
    """Class labels back from one-hot rows (or class scores): the argmax.

    Parameters
    ----------
    y : array, shape (n, n_classes)

    Returns
    -------
    ndarray of int32, shape (n,)
    """
    y = np.asarray(y)
    if y.ndim != 2 or y.shape[1] == 0:
        raise ValueError(f'expected a 2-D array (n, n_classes), got shape '
                         f'{y.shape}')
    return y.argmax(axis=1).astype(np.int32)
