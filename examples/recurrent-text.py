#!/usr/bin/env python
"""Learn a character-level language model, then make it write.

    txt = theanets.recurrent.Text(corpus)
    net = theanets.recurrent.Classifier([n, ('lstm', 128), n])
    net.train(txt.classifier_batches(steps, batch_size), algo='rmsprop')
    print(txt.decode(net.predict_sequence(txt.encode('The '), 200)))

The default corpus needs no download: the Zen of Python plus the module
docstrings of a few standard-library modules (about 20,000 characters);
--text FILE uses a text file instead. Training stops after --minutes
of training (default 2, plus about a minute to compile the model) or when
the validation loss stops improving; the script then prints the accuracy
of next-character predictions and samples at two temperatures.
"""

import argparse
import contextlib
import importlib
import io
import time

import numpy as np

import theanets
from theanets import recurrent

MODULES = ('argparse', 'json', 'textwrap', 'csv', 'logging', 'unittest',
           'difflib', 'pickle', 'zipfile', 'collections', 'string', 'heapq')


def builtin_corpus():
    """The Zen of Python and some standard-library docstrings."""
    with contextlib.redirect_stdout(io.StringIO()) as zen:
        importlib.import_module('this')
    parts = [zen.getvalue()]
    for name in MODULES:
        doc = importlib.import_module(name).__doc__ or ''
        parts.append(' '.join(doc.split()))
    return '\n\n'.join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--text', metavar='FILE',
                        help='train on this text file (default: built in)')
    parser.add_argument('--form', default='lstm',
                        help='recurrent layer form (default: %(default)s)')
    parser.add_argument('--size', type=int, default=128,
                        help='recurrent units (default: %(default)s)')
    parser.add_argument('--steps', type=int, default=40,
                        help='characters per training sequence '
                        '(default: %(default)s)')
    parser.add_argument('--batch-size', type=int, default=32,
                        help='default: %(default)s')
    parser.add_argument('--learning-rate', type=float, default=3e-3,
                        help='default: %(default)s')
    parser.add_argument('--minutes', type=float, default=2,
                        help='training time limit (default: %(default)s)')
    parser.add_argument('--generate', type=int, default=300, metavar='N',
                        help='characters to generate (default: %(default)s)')
    parser.add_argument('--seed', default='The ', help='text to start from')
    args = parser.parse_args()

    if args.text:
        with open(args.text, encoding='utf-8', errors='replace') as handle:
            corpus = handle.read()
    else:
        corpus = builtin_corpus()
    txt = recurrent.Text(corpus, min_count=2)
    n = txt.num_classes
    print(f'{len(txt.text)} characters, {n} classes '
          f'(alphabet {txt.alphabet!r})', flush=True)

    net = recurrent.Classifier([n, dict(form=args.form, size=args.size), n])
    train = txt.classifier_batches(args.steps, args.batch_size, rng=1)
    valid = txt.classifier_batches(args.steps, args.batch_size, rng=2)
    start = time.time()
    clock = {}  # the time limit counts from the end of the first epoch,
    # after the one-off compilation of the training function

    def report(epoch, train_mon, valid_mon):
        clock.setdefault('start', time.time())
        if epoch % 5 == 1:
            print(f'epoch {epoch}: loss {train_mon["loss"]:.3f} '
                  f'acc {train_mon["acc"]:.3f} ({time.time() - start:.0f}s)',
                  flush=True)
        return time.time() - clock['start'] > 60 * args.minutes

    net.train(train, valid, algo='rmsprop', learning_rate=args.learning_rate,
              max_gradient_norm=1, train_batches=20, valid_batches=10,
              patience=10, callbacks=[report])
    seed = txt.encode(args.seed)
    acc = np.mean([net.score(*valid()) for _ in range(5)])
    print(f'trained {len(net.history)} epochs in {time.time() - start:.0f}s; '
          f'next-character accuracy on fresh batches: {acc:.3f}')
    for temperature in (0.5, 1.0):
        out = net.predict_sequence(seed, args.generate, rng=3,
                                   temperature=temperature)
        print(f'\n--- temperature {temperature} ---\n'
              f'{args.seed}{txt.decode(out)}')


if __name__ == '__main__':
    theanets.log('recurrent-text: {}', theanets.__version__)
    main()
