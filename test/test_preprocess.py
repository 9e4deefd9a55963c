"""Tests for theanets.preprocess: transformers and one-hot helpers."""

import numpy as np
import pytest

from theanets.preprocess import (PCA, ZCA, Center, NotFittedError, Standardize,
                                 from_one_hot, one_hot)


def correlated(n=500, d=6, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(d, d)) * np.linspace(3, 0.1, d)[:, None]
    return (rng.normal(size=(n, d)) @ mix + rng.normal(5, 2, size=d)).astype(dtype)


def cov(z):
    z = np.asarray(z, np.float64)
    z = z - z.mean(axis=0)
    return z.T @ z / len(z)


ALL = [Center, Standardize, PCA, lambda: PCA(whiten=True), ZCA]


@pytest.mark.parametrize('make', ALL)
def test_round_trip_and_dtype(make):
    x = correlated(dtype=np.float32)
    t = make()
    z = t.fit_transform(x)
    assert z.dtype == np.float32 and z.shape == x.shape
    np.testing.assert_allclose(t.transform(x), z)
    back = t.inverse_transform(z)
    assert back.dtype == np.float32
    np.testing.assert_allclose(back, x, atol=1e-3, rtol=1e-4)
    x64 = correlated()
    assert make().fit(x64).transform(x64).dtype == np.float64
    pixels = np.random.default_rng(1).integers(0, 256, (50, 6), dtype=np.uint8)
    assert make().fit_transform(pixels).dtype == np.float32
    assert Center(dtype=np.float64).fit_transform(pixels).dtype == np.float64


@pytest.mark.parametrize('make', ALL)
def test_errors(make):
    x = correlated()
    t = make()
    with pytest.raises(NotFittedError, match='fit'):
        t.transform(x)
    with pytest.raises(ValueError, match='fit'):  # NotFittedError is one
        t.inverse_transform(x)
    t.fit(x)
    with pytest.raises(ValueError, match=r'expected 6 features .* got 5'):
        t.transform(x[:, :5])
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match='NaN'):
        t.transform(bad)
    with pytest.raises(ValueError, match='NaN'):
        make().fit(bad)
    with pytest.raises(ValueError, match='2-D'):
        t.transform(x[0])
    with pytest.raises(ValueError, match='at least one'):
        make().fit(x[:0])


def test_center_and_standardize():
    x = correlated()
    np.testing.assert_allclose(Center().fit_transform(x).mean(axis=0), 0, atol=1e-10)
    z = Standardize().fit_transform(x)
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-6)
    const = np.column_stack([x[:, 0], np.full(len(x), 4.0)])
    z = Standardize().fit_transform(const)
    assert np.all(np.isfinite(z)) and np.all(z[:, 1] == 0)
    with pytest.raises(ValueError, match='epsilon'):
        Standardize(epsilon=0).fit(const)
    with pytest.raises(ValueError, match='epsilon'):
        Standardize(epsilon=-1)
    assert 'epsilon=0.1' in repr(Standardize(0.1))


def test_fit_on_train_applies_to_test():
    x = correlated(seed=0)
    test = correlated(n=40, seed=0)[::-1] + 1
    t = Standardize().fit(x)
    np.testing.assert_allclose(t.transform(test), (test - x.mean(0)) / x.std(0),
                               rtol=1e-6)


def test_pca_math():
    x = correlated()
    pca = PCA().fit(x)
    values, vectors = np.linalg.eigh(cov(x))
    np.testing.assert_allclose(pca.explained_variance_, values[::-1], rtol=1e-8)
    np.testing.assert_allclose(pca.explained_variance_ratio_.sum(), 1)
    assert np.all(np.diff(pca.explained_variance_) <= 0)
    np.testing.assert_allclose(pca.components_ @ pca.components_.T, np.eye(6),
                               atol=1e-10)
    z = pca.transform(x)
    np.testing.assert_allclose(cov(z), np.diag(pca.explained_variance_), atol=1e-8)
    white = PCA(whiten=True).fit_transform(x)
    np.testing.assert_allclose(cov(white), np.eye(6), atol=1e-4)  # epsilon
    white = PCA(whiten=True, epsilon=0).fit_transform(x)
    np.testing.assert_allclose(cov(white), np.eye(6), atol=1e-10)
    with pytest.raises(ValueError, match='epsilon'):
        PCA(whiten=True, epsilon=0).fit(np.ones((5, 2)))


def test_pca_n_components():
    x = correlated()
    pca = PCA(3).fit(x)
    z = pca.transform(x)
    assert z.shape == (500, 3) and pca.n_components_ == 3
    # reconstruction is the orthogonal projection onto the kept components
    back = pca.inverse_transform(z)
    residual = x - back
    np.testing.assert_allclose(residual @ pca.components_.T, 0, atol=1e-8)
    full = PCA().fit(x)
    ratio = np.cumsum(full.explained_variance_ratio_)
    for target in (0.5, 0.9, 0.999, 1.0):
        k = PCA(target).fit(x).n_components_
        assert ratio[k - 1] >= target - 1e-9 and (k == 1 or ratio[k - 2] < target)
    assert PCA(1).fit(x).n_components_ == 1
    assert PCA(np.int64(2)).fit(x).n_components_ == 2
    assert PCA().fit(x[:4]).n_components_ == 4  # min(n, features)
    with pytest.raises(ValueError, match='exceeds'):
        PCA(7).fit(x)
    for bad in (0, -1, 1.5, 0.0, True, '3'):
        with pytest.raises(ValueError, match='n_components'):
            PCA(bad)
    with pytest.raises(ValueError, match=r'expected 3 features .* got 6'):
        pca.inverse_transform(x)


def test_pca_matches_sklearn():
    sklearn = pytest.importorskip('sklearn.decomposition')
    x = correlated()
    ours, theirs = PCA(4).fit(x), sklearn.PCA(4).fit(x)
    np.testing.assert_allclose(ours.explained_variance_ratio_,
                               theirs.explained_variance_ratio_, rtol=1e-6)
    signs = np.sign(np.sum(ours.components_ * theirs.components_, axis=1))
    np.testing.assert_allclose(ours.components_ * signs[:, None],
                               theirs.components_, atol=1e-8)


def test_zca_math():
    x = correlated()
    zca = ZCA(epsilon=1e-10).fit(x)
    z = zca.transform(x)
    np.testing.assert_allclose(cov(z), np.eye(6), atol=1e-6)
    np.testing.assert_allclose(zca.whiten_, zca.whiten_.T, atol=1e-10)
    np.testing.assert_allclose(zca.whiten_ @ zca.dewhiten_, np.eye(6), atol=1e-8)
    # ZCA is the whitening closest to the input: it beats PCA whitening
    white = PCA(whiten=True, epsilon=1e-10).fit_transform(x)
    centred = x - x.mean(axis=0)
    assert (np.linalg.norm(z - centred / centred.std()) <
            np.linalg.norm(white - centred / centred.std()))
    # a larger epsilon shrinks the weak directions
    assert np.trace(cov(ZCA(epsilon=1.0).fit_transform(x))) < 6
    with pytest.raises(ValueError, match='epsilon'):
        ZCA(epsilon=0)


def test_one_hot_round_trip():
    labels = np.array([2, 0, 1, 2, 4])
    y = one_hot(labels)
    assert y.shape == (5, 5) and y.dtype == np.float32
    np.testing.assert_array_equal(y.sum(axis=1), 1)
    np.testing.assert_array_equal(from_one_hot(y), labels)
    assert from_one_hot(y).dtype == np.int32
    assert one_hot(labels, 7, dtype=np.int8).shape == (5, 7)
    assert one_hot(np.array([1.0, 0.0])).shape == (2, 2)
    assert one_hot([], n_classes=3).shape == (0, 3)
    np.testing.assert_array_equal(from_one_hot([[0.1, 0.7, 0.2]]), [1])


@pytest.mark.parametrize('labels,kwargs,match', [
    ([0, 3], {'n_classes': 3}, r'\[0, 3\)'), ([-1, 0], {}, 'in'),
    ([[0, 1]], {}, '1-D'), ([0.5], {}, 'integers'), ([], {}, 'n_classes'),
])
def test_one_hot_errors(labels, kwargs, match):
    with pytest.raises(ValueError, match=match):
        one_hot(labels, **kwargs)


def test_from_one_hot_errors():
    with pytest.raises(ValueError, match='2-D'):
        from_one_hot([0, 1, 0])
