#!/usr/bin/env python
"""Digits from a label-first CSV file, leaky ReLUs everywhere, MSE on one-hot.

Reads a CSV file with one image a row: the label first, then 784 pixel
values (0-255, or already in [0, 1]) -- the layout of the popular
"mnist_train.csv" files. Trains a theanets.Regressor [784, 16, 16, 10]
with a leaky ReLU on every layer, the output included, to reproduce the
one-hot code of each label under the mean squared error, with plain SGD at
learning rate 0.001, one row per update (--batch-size). A prediction's
class is its largest output.

With --csv FILE the last sixth of its rows validates; --test-csv FILE
gives the test rows (default: the last fifth of FILE, held out before
anything else). Without --csv the script first writes train.csv (the first
10,000 training images; --full: all 60,000) and test.csv (the 10,000 test
images) to a temporary folder from MNIST (theanets.datasets.load_mnist()),
or from Fashion-MNIST when MNIST is not available, and says so. The last
line printed is "test accuracy: 0.xxxx".
"""

import argparse
import os
import tempfile
import time

import numpy as np

import theanets
from theanets import datasets, preprocess


def write_csv(path, x, y):
    """Write label-first rows of 0-255 pixel values."""
    pixels = np.round(np.asarray(x) * 255).astype(np.int64)
    with open(path, 'w') as handle:
        for label, row in zip(y, pixels):
            handle.write(f'{label},' + ','.join(map(str, row.tolist())) + '\n')


def make_csvs(folder, data, full):
    """Write train.csv and test.csv from MNIST (else Fashion-MNIST)."""
    try:
        (x, y), _, (xs, ys) = datasets.load_mnist(
            data, download=data is None, valid_size=0)
        name = 'MNIST' if data is None else f'the IDX files in {data}'
    except datasets.DataNotFoundError:
        if data is not None:
            raise
        print('MNIST is not available here (not cached, no network): '
              'using Fashion-MNIST instead', flush=True)
        (x, y), _, (xs, ys) = datasets.load_fashion_mnist(valid_size=0)
        name = 'Fashion-MNIST'
    n = None if full else 10000
    paths = os.path.join(folder, 'train.csv'), os.path.join(folder, 'test.csv')
    write_csv(paths[0], x[:n], y[:n])
    write_csv(paths[1], xs, ys)
    print(f'wrote {len(x[:n])} {name} rows to {paths[0]} and {len(xs)} '
          f'to {paths[1]} (removed at the end)', flush=True)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--csv', metavar='FILE', help='label-first training '
                        'CSV (default: write one from MNIST first)')
    parser.add_argument('--test-csv', metavar='FILE', help='label-first test '
                        'CSV (default: the last fifth of --csv)')
    parser.add_argument('--data', metavar='DIR', help='folder of MNIST IDX '
                        'files to write the CSVs from (without --csv)')
    parser.add_argument('--full', action='store_true', help='write all '
                        '60,000 training images (default: 10,000)')
    parser.add_argument('--epochs', type=int, default=5,
                        help='at most this many epochs (default: %(default)s)')
    parser.add_argument('--batch-size', type=int, default=1,
                        help='rows per update (default: %(default)s: plain '
                        'per-sample SGD, which learns much faster per '
                        'epoch than minibatches at this learning rate)')
    parser.add_argument('--learning-rate', type=float, default=0.001,
                        help='sgd step size (default: %(default)s)')
    parser.add_argument('--max-updates', type=int, metavar='N',
                        help='stop after N updates (overrides --epochs)')
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        train_csv, test_csv = args.csv, args.test_csv
        if train_csv is None:
            train_csv, test_csv = make_csvs(folder, args.data, args.full)
        x, y = datasets.load_csv(train_csv, label_column=0)
        if test_csv is None:
            cut = len(x) - len(x) // 5
            (x, y), (x_test, y_test) = (x[:cut], y[:cut]), (x[cut:], y[cut:])
        else:
            x_test, y_test = datasets.load_csv(test_csv, label_column=0)
    n_classes = int(max(y.max(), y_test.max())) + 1
    cut = len(x) - len(x) // 6
    train = x[:cut], preprocess.one_hot(y[:cut], n_classes)
    valid = x[cut:], preprocess.one_hot(y[cut:], n_classes)
    print(f'{len(train[0])} training, {len(valid[0])} validation, '
          f'{len(x_test)} test rows of {x.shape[1]} values; {n_classes} '
          f'classes', flush=True)

    leaky = 'leaky_relu'
    net = theanets.Regressor([x.shape[1], (16, leaky), (16, leaky),
                              (n_classes, leaky)], loss='mse')
    start = time.time()
    net.train(train, valid, algo='sgd', learning_rate=args.learning_rate,
              batch_size=args.batch_size, validate_every=1, patience=5,
              max_updates=args.max_updates or
              args.epochs * -(-len(train[0]) // args.batch_size))
    print(f'trained {len(net.history)} epochs in {time.time() - start:.1f}s; '
          f'validation mse {net.history[-1][1]["loss"]:.4f}')
    accuracy = np.mean(net.predict(x_test).argmax(axis=1) == y_test)
    print(f'test accuracy: {accuracy:.4f}')


if __name__ == '__main__':
    main()
