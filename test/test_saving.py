"""Model files are data: round trips, atomic writes, and refusals."""

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

import theanets
from theanets.saving import ModelFileError


@pytest.fixture(scope='module')
def net():
    net = theanets.Classifier([4, (5, 'tanh'), dict(size=3, std=0.5)], rng=7)
    net.add_loss('hinge', weight=0.5)
    net.history.append(({'loss': 1.0}, {'loss': 2.0}))
    return net


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(6, 4))


def _same(a, b, x):
    assert type(a) is type(b)
    assert [l.to_spec() for l in a.layers] == [l.to_spec() for l in b.layers]
    assert [l.to_spec() for l in a.losses] == [l.to_spec() for l in b.losses]
    for p, q in zip(a.params, b.params):
        assert p.name == q.name
        assert np.array_equal(p.get_value(), q.get_value())
    assert np.allclose(a.predict_proba(x), b.predict_proba(x))


def test_round_trip_path(net, x, tmp_path):
    path = tmp_path / 'model.theanets'
    net.save(path)
    loaded = theanets.Network.load(path)
    _same(net, loaded, x)
    assert loaded.history == [({'loss': 1.0}, {'loss': 2.0})]
    assert theanets.Classifier.load(str(path)).layers[1].activation == 'tanh'


def test_round_trip_file_object(net, x):
    buffer = io.BytesIO()
    net.save(buffer)
    buffer.seek(0)
    _same(net, theanets.Network.load(buffer), x)


def test_file_holds_json_and_arrays_only(net, tmp_path):
    path = tmp_path / 'model.theanets'
    net.save(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert 'model.json' in names
    assert all(n == 'model.json' or n.endswith(('.npy', '.json'))
               for n in names)


def test_tied_autoencoder_round_trip(x, tmp_path):
    net = theanets.Autoencoder([4, 3, 2, ('tied', 3), ('tied', 4)])
    net.save(tmp_path / 'ae')
    loaded = theanets.Network.load(tmp_path / 'ae')
    assert loaded.layers[4].partner is loaded.layers[1]
    assert np.allclose(loaded.predict(x), net.predict(x))


def test_pickle_is_the_same_data(net, x):
    clone = pickle.loads(pickle.dumps(net))
    assert not clone._functions  # compiled lazily in the new process
    _same(net, clone, x)


def test_crash_mid_save_keeps_previous_file(net, tmp_path, monkeypatch):
    path = tmp_path / 'model.theanets'
    net.save(path)
    before = path.read_bytes()

    def boom(*args, **kwargs):
        raise OSError('disk full')

    monkeypatch.setattr(np.lib.format, 'write_array', boom)
    with pytest.raises(OSError, match='disk full'):
        net.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ['model.theanets']


def test_refuses_a_pickle_and_runs_nothing(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ('touch ' + str(tmp_path / 'pwned'),))

    path = tmp_path / 'old.pkl'
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelFileError, match='pickle'):
        theanets.Network.load(path)
    assert not (tmp_path / 'pwned').exists()


def test_refuses_truncated_file(net, tmp_path):
    path = tmp_path / 'model.theanets'
    net.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelFileError, match='truncated or corrupt'):
        theanets.Network.load(path)


def test_refuses_other_zip_and_other_files(tmp_path):
    other = tmp_path / 'other.zip'
    with zipfile.ZipFile(other, 'w') as archive:
        archive.writestr('readme.txt', 'hello')
    with pytest.raises(ModelFileError, match='not a theanets model'):
        theanets.Network.load(other)
    text = tmp_path / 'notes.txt'
    text.write_text('just text')
    with pytest.raises(ModelFileError, match='not a zip'):
        theanets.Network.load(text)


def _rewrite_json(path, edit):
    import json
    with zipfile.ZipFile(path) as archive:
        contents = {n: archive.read(n) for n in archive.namelist()}
    state = json.loads(contents['model.json'])
    edit(state)
    contents['model.json'] = json.dumps(state).encode()
    with zipfile.ZipFile(path, 'w') as archive:
        for name, data in contents.items():
            archive.writestr(name, data)


def test_refuses_newer_format(net, tmp_path):
    path = tmp_path / 'model.theanets'
    net.save(path)
    _rewrite_json(path, lambda s: s.update(version=99))
    with pytest.raises(ModelFileError, match='format 99.*upgrade'):
        theanets.Network.load(path)


def test_refuses_wrong_shapes_and_unknown_class(net, tmp_path):
    path = tmp_path / 'model.theanets'
    net.save(path)
    _rewrite_json(path, lambda s: s['layers'][1].update(size=9))
    with pytest.raises(ModelFileError, match='shape'):
        theanets.Network.load(path)
    net.save(path)
    _rewrite_json(path, lambda s: s.update({'class': 'os.system'}))
    with pytest.raises(ModelFileError, match='not defined'):
        theanets.Network.load(path)
