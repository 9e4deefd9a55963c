"""The ``theanets`` command (also ``python -m theanets``).

::

    theanets train mnist --layers 784,100,10 --algo nag --save mnist.zip
    theanets train --train a.csv --valid b.csv --model regressor --plot out/
    theanets evaluate mnist.zip mnist          # test accuracy (or R^2)
    theanets predict mnist.zip images.npz -o labels.csv
    theanets info mnist.zip                    # layers, shapes, parameters
    theanets demo                              # embedded digits, no network

Data is a set name (``mnist``, ``fashion-mnist``, ``default``, ``digits``:
their train/valid/test splits) or a file: ``.npz`` with arrays ``x`` (and
``y``), ``.npy`` (inputs only), or a label-first ``.csv`` (see
:func:`theanets.datasets.load_csv`). A regressor given integer labels trains
on their one-hot codes. Bad arguments print one ``theanets: error: ...``
line and exit with status 1 (2 for usage errors).
"""

import argparse
import logging
import os
import sys
import time

import numpy as np

__all__ = ['main', 'parse_layers', 'CommandError']

#: Data set name -> loader in :mod:`theanets.datasets`.
DATASETS = {'mnist': 'load_mnist', 'fashion-mnist': 'load_fashion_mnist',
            'default': 'load_default', 'digits': 'load_digits'}
DATA_HELP = (f'a data set ({", ".join(DATASETS)}) or a file: .npz with '
             'arrays x (and y), .npy, or a label-first .csv')
MODELS = ('classifier', 'regressor', 'autoencoder')
#: ``train`` options passed on to ``net.train`` when given: flag -> help.
HYPER = {'learning-rate': 'step size', 'momentum': '0 to 1',
         'batch-size': 'samples per update', 'patience': 'failed '
         'validations before stopping', 'validate-every': 'epochs between '
         'validations', 'min-improvement': 'relative improvement that counts',
         'max-updates': 'stop after this many updates',
         'max-gradient-norm': 'clip the gradient norm', 'hidden-dropout':
         'dropout rate of hidden layers', 'input-dropout': 'dropout rate of '
         'the input', 'hidden-noise': 'gaussian noise on hidden layers',
         'input-noise': 'gaussian noise on the input', 'weight-l1': 'L1 '
         'penalty on weights', 'weight-l2': 'L2 penalty on weights',
         'hidden-l1': 'L1 penalty on hidden activity',
         'hidden-l2': 'L2 penalty on hidden activity'}
INTEGER = ('batch-size', 'patience', 'validate-every', 'max-updates')


class CommandError(Exception):
    """A bad argument found after parsing; printed as one line."""


class _Parser(argparse.ArgumentParser):
    """Usage errors as one ``prog: error: ...`` line, exit status 2; no
    abbreviated options (``--learning-rat`` is an error, not a guess)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('allow_abbrev', False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f'{self.prog}: error: {message} (see {self.prog} '
                     '--help)\n')


# -- data -------------------------------------------------------------------

def _column(text):
    """An argparse type: a column index, or None for 'none'."""
    if text.lower() == 'none':
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer or 'none', got {text!r}") from None


def _read_file(path, label_column=0, n_inputs=None):
    """``(x, y)`` from an .npz, .npy or .csv file (``y`` may be None).

    ``label_column='auto'`` finds a CSV's labels in column 0 when it has
    one column more than the model's ``n_inputs``.
    """
    from .datasets import load_csv
    lower = path.lower()
    if not lower.endswith(('.npz', '.npy', '.csv', '.csv.gz', '.txt')):
        raise CommandError(f'{path}: unknown file type; expected .npz, .npy '
                           'or .csv')
    if not os.path.isfile(path):
        raise CommandError(f'{path}: no such file')
    if lower.endswith('.npz'):
        with np.load(path, allow_pickle=False) as arrays:
            if 'x' not in arrays:
                raise CommandError(f'{path}: expected arrays named x (and '
                                   f'y), found: {", ".join(arrays.files)}')
            return arrays['x'], arrays['y'] if 'y' in arrays else None
    if lower.endswith('.npy'):
        return np.load(path, allow_pickle=False), None
    if label_column == 'auto':
        columns = load_csv(path, label_column=None)[0].shape[1]
        if columns not in (n_inputs, n_inputs + 1):
            raise CommandError(f'{path}: {columns} columns, but the model '
                               f'reads {n_inputs} inputs (plus a label column)')
        label_column = 0 if columns == n_inputs + 1 else None
    return load_csv(path, label_column=label_column)


def _load_data(source, label_column=0, n_inputs=None):
    """A set's ``[train, valid, test]`` or a file's ``[(x, y)]``."""
    from . import datasets
    name = source.lower().replace('_', '-')
    if name in DATASETS:
        return list(getattr(datasets, DATASETS[name])())
    if not os.path.exists(source) and '.' not in os.path.basename(source):
        raise CommandError(f'unknown data set {source!r}; expected one of '
                           f'{", ".join(DATASETS)} or a .npz/.npy/.csv file')
    return [_read_file(source, label_column, n_inputs)]


def _arrays(kind, x, y, n_out, where):
    """The data tuple of a ``kind`` of model with ``n_out`` outputs."""
    if kind == 'autoencoder':
        return (x,)
    if y is None:
        raise CommandError(f'{where} has no labels or targets, which a '
                           f'{kind} needs (an .npz needs an array y)')
    if kind == 'regressor' and y.ndim == 1:
        if n_out > 1 and np.all(y == np.round(y)):
            from .preprocess import one_hot
            return x, one_hot(y.astype(int), n_out)
        return x, y.reshape(-1, 1).astype(np.float32)
    return x, y


def _n_outputs(kind, x, y):
    """The output size the training data implies for a ``kind`` of model."""
    if kind == 'autoencoder':
        return x.shape[1]
    _arrays(kind, x, y, 1, 'the training data')  # raises without labels
    if y.ndim > 1:
        return y.shape[1]
    integers = np.all(y == np.round(y))
    return int(y.max()) + 1 if kind == 'classifier' or integers else 1


# -- models -----------------------------------------------------------------

def parse_layers(text, hidden=None, output=None):
    """``'784,100:tanh,tied'`` -> layer specs (activations as defaults)."""
    specs = []
    items = [item.strip() for item in str(text).split(',')]
    for i, item in enumerate(items):
        size, _, act = item.partition(':')
        act = act or (output if i == len(items) - 1 else hidden)
        if size.lower() == 'tied' and i > 1:
            spec = dict(form='tied')
        elif size.isdigit() and int(size) > 0:
            spec = dict(size=int(size))
        else:
            raise CommandError(
                f'bad --layers {text!r}: item {item!r} is not a positive size '
                "(or 'tied' after the first hidden layer); expected e.g. "
                '784,100,10 or 784,100:tanh,10')
        if act and i > 0:
            spec['activation'] = act
        specs.append(spec['size'] if list(spec) == ['size'] else spec)
    if len(specs) < 2:
        raise CommandError(f'bad --layers {text!r}: need an input and an '
                           'output size at least, e.g. 784,100,10')
    return specs


def _model(kind, layers, seed=13, loss=None):
    import theanets
    kwargs = {'loss': loss} if loss else {}
    return getattr(theanets, kind.capitalize())(layers, rng=seed, **kwargs)


def _kind(net):
    from .feedforward import Autoencoder, Classifier
    return ('classifier' if isinstance(net, Classifier) else 'autoencoder'
            if isinstance(net, Autoencoder) else 'regressor')


def _describe(net):
    sizes = [layer.output_shape[-1] for layer in net.layers]
    count = sum(p.get_value(borrow=True).size for p in net.params)
    return f'{type(net).__name__}{sizes} ({count:,} parameters)'


def _score(net, data, where):
    """``'accuracy: 0.xxxx'`` (classifier) or ``'R^2: 0.xxxx'``."""
    arrays = _arrays(_kind(net), *data, net.layers[-1].size, where)
    metric = 'accuracy' if _kind(net) == 'classifier' else 'R^2'
    return f'{metric}: {net.score(*arrays):.4f}'


def _load_model(path):
    from .graph import Network
    if not os.path.isfile(path):
        raise CommandError(f'{path}: no such model file')
    return Network.load(path)


# -- commands ---------------------------------------------------------------

def _train(args):
    from .optimize import UpdateRule
    if args.algo.lower() not in UpdateRule._registry:
        raise CommandError(f'unknown --algo {args.algo!r}; known: '
                           f'{", ".join(sorted(UpdateRule._registry))}')
    if bool(args.data) == bool(args.train):
        raise CommandError('give the training data once: a data set name or '
                           'file, or --train FILE')
    if args.save and not os.path.isdir(os.path.dirname(args.save) or '.'):
        raise CommandError(f'--save {args.save}: no such folder')
    column = args.label_column
    splits = (_load_data(args.data or args.train, column) + [None] * 2)[:3]
    for i, path in ((1, args.valid), (2, args.test)):
        if path:
            splits[i] = _load_data(path, column)[0]
    x, y = splits[0]
    text = args.layers or f'{x.shape[1]},{args.hidden},' \
        f'{_n_outputs(args.kind, x, y)}'
    net = _model(args.kind, parse_layers(text, args.hidden_activation,
                                         args.output_activation),
                 args.seed, args.loss)
    n_out = net.layers[-1].size
    train, valid = [s and _arrays(args.kind, *s, n_out, f'{w} data') for
                    s, w in zip(splits[:2], ('training', 'validation'))]
    hyper = {k: v for k, v in ((f.replace('-', '_'), getattr(
        args, f.replace('-', '_'))) for f in HYPER) if v is not None}
    print(f'training {_describe(net)} on {len(x)} samples with {args.algo}',
          flush=True)
    net.log()  # the architecture, shown with -v
    start = time.time()
    _, monitors = net.train(train, valid, algo=args.algo.lower(), **hyper)
    print(f'trained {len(net.history)} epochs in {time.time() - start:.1f}s;'
          ' validation: ' + ' '.join(f'{k} {v:.4f}'
                                     for k, v in monitors.items()))
    if splits[2] is not None:
        print('test ' + _score(net, splits[2], 'test data'))
    if args.save:
        net.save(args.save)
        print(f'saved the model to {args.save}')
    if args.plot:
        from .plot import summary
        print(f'wrote {", ".join(summary(net, args.plot, splits[2]))}')
    return 0


def _pick(args, net):
    """``((x, y), description)`` of ``args.data`` (a set's ``--split``)."""
    splits = _load_data(args.data, 'auto', net.layers[0].size)
    if len(splits) == 1:
        return splits[0], args.data
    index = ('train', 'valid', 'test').index(args.split)
    return splits[index], f'{args.data} ({args.split})'


def _evaluate(args):
    net = _load_model(args.path)
    data, where = _pick(args, net)
    print(f'{_score(net, data, where)} ({len(data[0])} samples of {where})')
    return 0


def _predict(args):
    suffix = os.path.splitext(args.output)[1].lower()
    if suffix not in ('.csv', '.npy'):
        raise CommandError(f'--output {args.output!r}: expected a .csv or '
                           '.npy file name')
    net = _load_model(args.path)
    if args.proba and _kind(net) != 'classifier':
        raise CommandError('--proba needs a classifier model')
    (x, _), where = _pick(args, net)
    out = net.predict_proba(x) if args.proba else net.predict(x)
    if suffix == '.npy':
        np.save(args.output, out)
    else:
        np.savetxt(args.output, out.reshape(len(out), -1), delimiter=',',
                   fmt='%d' if out.dtype.kind in 'iu' else '%.6g')
    print(f'wrote {len(out)} predictions of {where} to {args.output}')
    return 0


def _info(args):
    if bool(args.path) == bool(args.layers):
        raise CommandError('give a model file or --layers (not both)')
    net = _load_model(args.path) if args.path else _model(
        args.kind, parse_layers(args.layers))
    print(_describe(net) + ', loss ' + ' + '.join(
        loss.to_spec()['form'] for loss in net.losses))
    rows = [('layer', 'form', 'input -> output', 'activation', 'parameters')]
    for layer in net.layers:
        ins = ', '.join(str(s) for s in (layer.input_shapes or {}).values())
        count = sum(p.get_value(borrow=True).size for p in layer.params)
        rows.append((layer.name, type(layer).__name__.lower(),
                     f'{ins + " -> " if ins else ""}{layer.output_shape}',
                     str(layer.activation), f'{count:,}'))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print('  ' + '  '.join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    if net.history:
        shown = ' '.join(f'{k} {v:.4f}' for k, v in net.history[-1][1].items())
        print(f'trained {len(net.history)} epochs; last validation: {shown}')
    return 0


def _demo(args):
    from . import Classifier, datasets
    (xt, yt), (xv, yv), (xs, ys) = datasets.load_default()
    net = Classifier(layers=[xt.shape[1], args.hidden, int(yt.max()) + 1])
    start = time.time()
    net.train((xt, yt), (xv, yv), algo=args.algo,
              learning_rate=args.learning_rate, momentum=args.momentum,
              batch_size=args.batch_size, max_updates=args.max_updates,
              validate_every=1, patience=args.patience)
    print(f'trained {type(net).__name__}{[l.size for l in net.layers]} on '
          f'{len(xt)} samples in {time.time() - start:.1f}s')
    print(f'test accuracy: {net.score(xs, ys):.4f}')
    return 0


def _parser():
    verbose = _Parser(add_help=False)
    verbose.add_argument('-v', '--verbose', action='store_true',
                         default=argparse.SUPPRESS,
                         help='log the architecture and every validation')
    parser = _Parser(prog='theanets', parents=[verbose], description=(
        'Train and use theanets models. Run "theanets COMMAND --help" for '
        'the options of each command.'))
    commands = parser.add_subparsers(dest='command', metavar='COMMAND',
                                     parser_class=_Parser)

    def command(name, run, text, description=None):
        sub = commands.add_parser(name, help=text, parents=[verbose],
                                  description=description or
                                  f'{text[0].upper()}{text[1:]}.')
        sub.set_defaults(run=run)
        if name in ('evaluate', 'predict'):
            sub.add_argument('path', metavar='MODEL', help='a saved model')
            sub.add_argument('data', metavar='DATA', help=DATA_HELP)
            sub.add_argument('--split', choices=('train', 'valid', 'test'),
                             default='test', help='of a data set (default: '
                             'test)')
        return sub

    train = command('train', _train, 'train a model (and save it)',
                    f'Train a model on DATA: {DATA_HELP}.')
    add = train.add_argument
    add('data', nargs='?', help=DATA_HELP)
    add('--train', metavar='FILE', help='training data file')
    add('--valid', metavar='FILE', help='validation data (default: the '
        'training data)')
    add('--test', metavar='FILE', help='test data, scored after training')
    add('--model', dest='kind', choices=MODELS, default='classifier',
        help='default: %(default)s')
    add('--layers', metavar='SIZES', help="e.g. 784,100,10; SIZE:ACT sets an "
        "activation, 'tied' a tied decoder layer (default: the data's input "
        'size, --hidden, its output size)')
    add('--hidden', type=int, default=100, metavar='N',
        help='hidden units without --layers (default: %(default)s)')
    add('--hidden-activation', metavar='ACT', help='default: relu')
    add('--output-activation', metavar='ACT',
        help='default: softmax (classifier), linear (others)')
    add('--loss', metavar='NAME', help='default: xe (classifier), mse')
    add('--algo', default='nag', metavar='NAME', help='sgd, nag, rmsprop, '
        'adam, adadelta, adagrad, esgd, rprop (default: %(default)s)')
    add('--label-column', type=_column, default=0, metavar='N',
        help="label column of CSV files, or 'none' (default: 0)")
    add('--seed', type=int, default=13, metavar='N',
        help='seeds the initial weights (default: %(default)s)')
    add('--save', metavar='PATH', help='write the model there')
    add('--plot', metavar='DIR', help='write PNGs there: learning curves, '
        'first-layer weights, confusion matrix')
    group = train.add_argument_group(
        'training options', "passed to net.train; unset ones keep its defaults")
    for flag, text in HYPER.items():
        group.add_argument(f'--{flag}', help=text,
                           type=int if flag in INTEGER else float,
                           metavar='N' if flag in INTEGER else 'X')
    what = 'print the accuracy (or R^2) of a saved model'
    command('evaluate', _evaluate, what, f'{what[0].upper()}{what[1:]} on '
            f'DATA: {DATA_HELP}.')
    add = command('predict', _predict, 'write the predictions of a saved '
                  'model', f'Write the predictions of a saved model for '
                  f'DATA: {DATA_HELP}.').add_argument
    add('-o', '--output', required=True, metavar='FILE',
        help='.csv (one row per sample) or .npy')
    add('--proba', action='store_true',
        help='class probabilities instead of labels')
    add = command('info', _info, 'describe a model: layers, shapes, '
                  'activations, parameter counts').add_argument
    add('path', nargs='?', metavar='MODEL', help='a saved model')
    add('--layers', metavar='SIZES', help='describe this architecture instead')
    add('--model', dest='kind', choices=MODELS, default='classifier',
        help='with --layers (default: %(default)s)')
    add = command('demo', _demo, 'train a classifier on the embedded default '
                  'data and print its test accuracy').add_argument
    for flag, kind, default in (
            ('algo', str, 'nag'), ('hidden', int, 100),
            ('learning-rate', float, 0.01), ('momentum', float, 0.9),
            ('batch-size', int, 32), ('max-updates', int, 2000),
            ('patience', int, 3)):
        add(f'--{flag}', type=kind, default=default,
            help='default: %(default)s')
    return parser


def main(argv=None):
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``).

    Returns the exit status: 0; 1 for bad arguments or data (one
    ``theanets: error: ...`` line on stderr); 2 for a usage error.
    """
    from .optimize import NonFiniteLossError
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help, or a usage error already printed
        return exit.code or 0
    verbose = getattr(args, 'verbose', False)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format='%(asctime)s %(message)s')
    if not getattr(args, 'run', None):
        parser.print_help()
        return 2
    expected = (CommandError, ValueError, OSError, ImportError, KeyError,
                NonFiniteLossError)
    try:
        return args.run(args)
    except Exception as err:  # one line, never a traceback (-v shows bugs)
        if verbose and not isinstance(err, expected):
            raise
        text = err.args[0] if isinstance(err, KeyError) and err.args else err
        text = ' '.join(str(text).split())
        if not isinstance(err, expected):
            text = f'{type(err).__name__}: {text} (rerun with -v for details)'
        print(f'theanets: error: {text}', file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
