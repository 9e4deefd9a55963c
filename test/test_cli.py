"""The ``theanets`` command, run in-process through ``cli.main([...])``."""

import os

import numpy as np
import pytest

from theanets import cli


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Tiny data files: NPZ (labels, targets), label-first CSV, NPY."""
    folder = tmp_path_factory.mktemp('cli')
    rng = np.random.default_rng(0)
    x = rng.random((90, 9)).astype(np.float32)
    y = (x[:, 0] > 0.5).astype(np.int32) + (x[:, 1] > 0.5)
    paths = {k: str(folder / v) for k, v in (
        ('npz', 'train.npz'), ('csv', 'train.csv'), ('reg', 'reg.npz'),
        ('npy', 'x.npy'), ('bad', 'bad.npz'), ('model', 'model.zip'))}
    np.savez(paths['npz'], x=x, y=y)
    np.savez(paths['reg'], x=x, y=x[:, :2] * 2)
    np.savez(paths['bad'], inputs=x)
    np.save(paths['npy'], x)
    np.savetxt(paths['csv'], np.column_stack([y, np.round(x * 255)]),
               fmt='%d', delimiter=',')
    paths['dir'] = str(folder)
    return paths


def run(capsys, *argv):
    """``(status, stdout, stderr)`` of ``theanets *argv``."""
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


FAST = ('--max-updates', 6, '--batch-size', 30, '--validate-every', 1)


@pytest.mark.parametrize('command', ['', 'train', 'evaluate', 'predict',
                                     'info', 'demo'])
def test_help(capsys, command):
    status, out, _ = run(capsys, *command.split(), '--help')
    assert status == 0
    assert out.startswith(f'usage: theanets {command}'.rstrip())


def test_no_command_prints_help(capsys):
    status, out, _ = run(capsys)
    assert status == 2 and 'COMMAND' in out


def test_train_save_info_evaluate_predict(capsys, files, tmp_path):
    model = tmp_path / 'm.zip'
    status, out, err = run(capsys, 'train', files['npz'], '--layers', '9,5,3',
                           '--algo', 'nag', '--learning-rate', 0.1,
                           '--momentum', 0.5, '--weight-l2', 1e-4, *FAST,
                           '--save', model)
    assert status == 0, err
    assert 'training Classifier[9, 5, 3] (68 parameters) on 90 samples' in out
    assert f'saved the model to {model}' in out
    status, out, _ = run(capsys, 'info', model)
    lines = out.splitlines()
    assert status == 0
    assert lines[0] == 'Classifier[9, 5, 3] (68 parameters), loss xe'
    assert lines[2].split() == ['in', 'input', '(9,)', 'linear', '0']
    assert lines[3].split() == ['hid1', 'feedforward', '(9,)', '->', '(5,)',
                                'relu', '50']
    assert lines[4].split()[-2:] == ['softmax', '18']
    assert lines[5].startswith('trained ')
    # evaluate on the CSV (label column found from the column count)
    status, out, _ = run(capsys, 'evaluate', model, files['csv'])
    assert status == 0 and out.startswith('accuracy: 0.')
    assert '(90 samples of' in out
    status, out, _ = run(capsys, 'predict', model, files['npy'], '-o',
                         tmp_path / 'p.csv')
    labels = np.loadtxt(tmp_path / 'p.csv', dtype=int)
    assert status == 0 and labels.shape == (90,) and set(labels) <= {0, 1, 2}
    status, _, _ = run(capsys, 'predict', model, files['npz'], '--proba',
                       '-o', tmp_path / 'p.npy')
    proba = np.load(tmp_path / 'p.npy')
    assert status == 0 and proba.shape == (90, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(proba.argmax(axis=1), labels)


def test_train_csv_with_valid_test_and_plots(capsys, files, tmp_path):
    status, out, err = run(capsys, 'train', '--train', files['csv'],
                           '--valid', files['csv'], '--test', files['csv'],
                           '--hidden', 4, '--hidden-activation', 'tanh',
                           '--algo', 'sgd', '--hidden-dropout', 0.1, *FAST,
                           '--plot', tmp_path / 'plots')
    assert status == 0, err
    assert 'Classifier[9, 4, 3]' in out
    assert any(line.startswith('test accuracy: 0.')
               for line in out.splitlines())
    for name in ('curves.png', 'weights.png', 'confusion.png'):
        with open(tmp_path / 'plots' / name, 'rb') as handle:
            assert handle.read(4) == b'\x89PNG'


def test_regressor_and_autoencoder(capsys, files, tmp_path):
    status, out, err = run(capsys, 'train', files['reg'], '--model',
                           'regressor', '--hidden', 3, *FAST, '--save',
                           tmp_path / 'r.zip')
    assert status == 0 and 'Regressor[9, 3, 2]' in out, err
    status, out, _ = run(capsys, 'evaluate', tmp_path / 'r.zip', files['reg'])
    assert status == 0 and out.startswith('R^2: ')
    # integer labels train a regressor on their one-hot codes
    status, out, err = run(capsys, 'train', files['csv'], '--model',
                           'regressor', '--layers', '9,4:leaky_relu,3',
                           '--output-activation', 'leaky_relu', *FAST)
    assert status == 0 and 'Regressor[9, 4, 3]' in out, err
    status, out, err = run(capsys, 'train', files['npy'], '--model',
                           'autoencoder', '--layers', '9,4,tied', *FAST,
                           '--save', tmp_path / 'a.zip')
    assert status == 0 and 'Autoencoder[9, 4, 9]' in out, err
    status, out, _ = run(capsys, 'info', tmp_path / 'a.zip')
    assert 'tied' in out and status == 0
    status, out, _ = run(capsys, 'predict', tmp_path / 'a.zip', files['npy'],
                         '-o', tmp_path / 'rec.csv')
    assert status == 0
    assert np.loadtxt(tmp_path / 'rec.csv', delimiter=',').shape == (90, 9)


def test_info_from_layers(capsys):
    status, out, _ = run(capsys, 'info', '--layers', '784,256,tied',
                         '--model', 'autoencoder')
    assert status == 0
    assert out.startswith('Autoencoder[784, 256, 784] (201,744 parameters)')


def test_named_data_set(capsys):
    pytest.importorskip('sklearn')
    status, out, err = run(capsys, 'train', 'digits', '--hidden', 8, *FAST)
    assert status == 0, err
    assert 'Classifier[64, 8, 10]' in out
    assert out.splitlines()[-1].startswith('test accuracy: 0.')


def test_demo(capsys):
    pytest.importorskip('mlxtend')
    status, out, err = run(capsys, 'demo', '--hidden', 8, '--max-updates', 5)
    assert status == 0, err
    assert out.splitlines()[-1].startswith('test accuracy: 0.')


@pytest.mark.parametrize('argv, message', [
    ('train {npz} --algo foo', "unknown --algo 'foo'; known: adadelta"),
    ('train {npz} --layers 9,abc,3', "bad --layers '9,abc,3': item 'abc'"),
    ('train {npz} --layers 9', 'need an input and an output size'),
    ('train {dir}/missing.npz', 'missing.npz: no such file'),
    ('train {dir}/data.txt', 'data.txt: no such file'),
    ('train {npz} --train {csv}', 'give the training data once'),
    ('train nosuchset', "unknown data set 'nosuchset'; expected one of mnist"),
    ('train {bad}', 'expected arrays named x (and y), found: inputs'),
    ('train {npz} --layers 784,10,3', 'expected 784 features'),
    ('train {npz} --layers 9,4,2', 'label 2 is outside [0, 2)'),
    ('train {npy}', 'has no labels or targets'),
    ('train {npz} --model autoencoder --layers 9,4,3',
     'an autoencoder reconstructs its input'),
    ('train {npz} --save {dir}/no/such/m.zip', 'no such folder'),
    ('train {npz} --layers 9,4:nosuchact,3', 'nosuchact'),
    ('evaluate {dir}/none.zip {npz}', 'none.zip: no such model file'),
    ('evaluate {npz} {npz}', 'not a theanets model'),
    ('predict {model} {npz} -o {dir}/out.txt', 'expected a .csv or .npy'),
    ('evaluate {model} {reg}', 'labels: expected'),
    ('info', 'give a model file or --layers'),
])
def test_errors_are_one_line(capsys, files, argv, message):
    if '{model}' in argv and not os.path.exists(files['model']):
        assert cli.main(['train', files['npz'], '--layers', '9,3,3',
                         '--max-updates', '1', '--save', files['model']]) == 0
    status, out, err = run(capsys, *argv.format(**files).split())
    assert status == 1
    assert err.startswith('theanets: error: ') and err.count('\n') == 1
    assert message in err
    assert 'Traceback' not in err + out


@pytest.mark.parametrize('argv', ['train x --learning-rate abc',
                                  'train x --model tree', 'bogus',
                                  'train x --label-column x',
                                  'predict m.zip d.npz'])
def test_usage_errors(capsys, argv):
    status, out, err = run(capsys, *argv.split())
    assert status == 2
    assert err.count('\n') == 1 and ': error: ' in err and '--help' in err


@pytest.mark.parametrize('text, expected', [
    ('784,100,10', [784, 100, 10]),
    ('784, 100:tanh ,10:leaky_relu:0.2', [
        784, {'size': 100, 'activation': 'tanh'},
        {'size': 10, 'activation': 'leaky_relu:0.2'}]),
    ('784,256,tied', [784, 256, {'form': 'tied'}]),
])
def test_parse_layers(text, expected):
    assert cli.parse_layers(text) == expected


def test_parse_layers_defaults():
    assert cli.parse_layers('4,3,2', 'tanh', 'linear') == [
        4, {'size': 3, 'activation': 'tanh'},
        {'size': 2, 'activation': 'linear'}]
    with pytest.raises(cli.CommandError, match="item 'tied'"):
        cli.parse_layers('4,tied')


def test_abbreviated_options_are_errors(capsys):
    assert cli.main(['train', 'default', '--learning-rat', '1']) == 2
    assert '--learning-rat' in capsys.readouterr().err
