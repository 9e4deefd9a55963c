"""Markdown tables and PASS/MISS target rows from the benchmark's results."""

__all__ = ['markdown', 'targets']

PEERS = ('torch', 'numpy', 'sklearn')
LOOPS = ('torch loop', 'numpy loop')


def _peer_of(contender, peer):
    """The peer column a theanets row is divided by: the peer's step for
    ``step`` rows, the peer's loop for ``train`` rows."""
    if contender.endswith(' train'):
        return f'{peer} loop' if f'{peer} loop' in LOOPS else None
    return peer
TARGET_MODE, TARGET_ALGO = 'c', 'nag'


def _steps(res):
    """(algo, batch) -> contender -> median ms."""
    table = {}
    for row in res.get('steps', []):
        table.setdefault((row['algo'], row['batch']), {})[
            row['contender']] = row['median_ms']
    return table


def _roof(cells, roof, b):
    """ms of the step's matrix products at batch ``b``: timed in the same
    rounds as the steps when available, else in the roofline section."""
    if cells.get('sgemm'):
        return cells['sgemm']
    r = roof.get(b) or roof.get(str(b))
    return r and r['median_ms']


def _row(cells):
    return '| ' + ' | '.join(str(c) for c in cells) + ' |'


def _table(header, rows):
    lines = [_row(header), _row(['---'] * len(header))]
    lines += [_row(r) for r in rows]
    return '\n'.join(lines)


def _ms(value, digits=3):
    return '—' if value is None else f'{value:.{digits}f}'


def _ratio(a, b):
    return '—' if a is None or b is None else f'{a / b:.2f}'


def targets(res):
    """The issue's targets as dicts: name, value, goal, met (bool or None)."""
    out = []
    steps = _steps(res)
    roof = res.get('roofline', {})
    for b in (32, 128, 512):
        cells = steps.get((TARGET_ALGO, b), {})
        if not cells:
            continue
        for how in ('step', 'train'):
            mine = cells.get(f'theanets-{TARGET_MODE} {how}')
            label = ('compiled step / {} step' if how == 'step' else
                     'train() loop / {} loop')
            for peer, goal in (('torch', 0.8), ('numpy', 1.0)):
                theirs = cells.get(_peer_of(f'x {how}', peer))
                value = None if mine is None or theirs is None else \
                    mine / theirs
                out.append(dict(
                    name=f'{TARGET_ALGO} b={b} ' + label.format(peer),
                    value=value, goal=f'<= {goal:.1f}x',
                    met=None if value is None else value <= goal))
        if b == 512:
            mine = cells.get(f'theanets-{TARGET_MODE} step')
            r = _roof(cells, roof, b)
            value = None if mine is None or not r else r / mine
            out.append(dict(name=f'{TARGET_ALGO} b=512 compiled step, '
                                 'share of sgemm roofline',
                            value=value, goal='>= 60%', percent=True,
                            met=None if value is None else value >= 0.6))
    for mode, start in res.get('start', {}).items():
        for which, goal in (('cold', 15.0), ('warm', 2.0)):
            value = start[which]['first_step_s']
            out.append(dict(name=f'start-up to first step, {mode}, {which} '
                                 'cache', value=value, goal=f'<= {goal:.0f} s',
                            unit='s', met=value <= goal))
    mem = res.get('memory', {}).get('float32')
    if mem:
        value = mem['peak_mb'] - mem['data_mb']
        out.append(dict(name=f'peak memory above the data '
                             f'({mem["data_mb"]:.0f} MB float32)',
                        value=value, goal='<= 300 MB', unit='MB',
                        met=value <= 300))
    return out


def _fmt_target(t):
    v = t['value']
    if v is None:
        return 'not measured'
    if t.get('percent'):
        return f'{100 * v:.0f}%'
    if t.get('unit') == 's':
        return f'{v:.1f} s'
    if t.get('unit') == 'MB':
        return f'{v:.0f} MB'
    return f'{v:.2f}x'


def markdown(res):
    meta = res['meta']
    out = [f'## theanets benchmark, {meta["date"]}', '',
           f'`{meta["command"]}` on {meta["cpu"]} ({meta["cores"]} cores), '
           f'{meta["threads"]} thread(s) for every library; load average '
           f'{", ".join(f"{v:.2f}" for v in meta["load_start"])} at the start, '
           f'{", ".join(f"{v:.2f}" for v in meta.get("load_end", ()))} at the '
           f'end; {meta["seconds"]:.0f} s in all.',
           'Versions: ' + ', '.join(f'{k} {v}' for k, v in
                                   meta['versions'].items() if v) +
           f'; PyTensor C backend BLAS: {meta["pytensor_blas_ldflags"]}; '
           f'theanets commit {meta["commit"]}'
           f'{" + local changes" if meta["theanets_tree_dirty"] else ""}.',
           '']
    for note in res.get('notes', []):
        out.append(f'- {note}')
    if res.get('notes'):
        out.append('')
    steps, roof = _steps(res), res.get('roofline', {})
    if steps:
        names = []
        for cells in steps.values():
            names += [n for n in cells if n not in names]
        mine = [n for n in names if n.startswith('theanets')]
        peers = [n for n in PEERS if n in names]
        loops = [n for n in LOOPS if n in names]
        out += ['### Training step, ms (median), [784, 100, 10]', '',
                '`step`: one call of the compiled training function (theanets) '
                'or of the peer\'s step, on the same batch again and again. '
                '`train`: one `net.train` call over 60,000 samples (15,000 '
                'with --quick), divided by its batches; `loop`: the peer\'s '
                'own loop over the same samples, shuffled per pass. sgemm: '
                'the five float32 matrix products of the step alone (numpy): '
                'the roofline.', '']
        rows = []
        for (algo, b), cells in sorted(steps.items()):
            rows.append([algo, b, _ms(_roof(cells, roof, b))] +
                        [_ms(cells.get(n)) for n in mine + peers + loops])
        out += [_table(['algo', 'batch', 'sgemm'] + mine + peers + loops,
                       rows), '']
        out += ['### Training step ratios (theanets / peer; < 1: theanets '
                'is faster) and share of the sgemm roofline', '',
                '`step` rows are divided by the peers\' steps, `train` rows '
                'by the peers\' loops.', '']
        rows = []
        for (algo, b), cells in sorted(steps.items()):
            r = _roof(cells, roof, b)
            for n in mine:
                t = cells[n]
                rows.append([algo, b, n.replace('theanets-', '')] +
                            [_ratio(t, cells.get(_peer_of(n, p)))
                             for p in peers] +
                            ['—' if not r else f'{100 * r / t:.0f}%'])
        out += [_table(['algo', 'batch', 'theanets'] +
                       [f'/ {p}' for p in peers] + ['roofline'], rows), '']
    for key, title, unit, scale in (
            ('epoch', 'One epoch, 60,000 samples, batch 128, nag', 's', 1e3),
            ('predict', '`predict`, 10,000 samples', 'ms', 1)):
        data = res.get(key)
        if not data:
            continue
        mine = [n for n in data if n.startswith('theanets')]
        peers = [n for n in PEERS if n in data]
        out += [f'### {title}', '']
        rows = [[n, _ms(data[n]['median_ms'] / scale, 2)] +
                [_ratio(data[n]['median_ms'], data[p]['median_ms'])
                 if n in mine else '' for p in peers]
                for n in mine + peers]
        out += [_table(['', unit] + [f'/ {p}' for p in peers], rows), '']
    start = res.get('start')
    if start:
        out += ['### Start-up: `import theanets` to the end of the first '
                'training step, s', '',
                'cold: empty PyTensor (and Numba) compile cache; warm: the '
                'same cache, next process. import: `import theanets` alone; '
                'process: the whole subprocess, interpreter included; cpu: '
                'CPU seconds of the child and its compiler runs from import '
                'to the first step (close to the wall time on an idle '
                'machine; well below it, the run waited for a busy CPU).',
                '']
        rows = [[m, _ms(s['cold']['first_step_s'], 1),
                 _ms(s['warm']['first_step_s'], 1),
                 _ms(s['warm']['import_s'], 2),
                 _ms(s['cold']['process_s'], 1),
                 _ms(s['warm']['process_s'], 1),
                 _ms(s['cold'].get('cpu_s'), 1),
                 _ms(s['warm'].get('cpu_s'), 1)]
                for m, s in start.items()]
        out += [_table(['mode', 'cold', 'warm', 'import', 'process cold',
                        'process warm', 'cpu cold', 'cpu warm'], rows), '']
    mem = res.get('memory')
    if mem:
        out += ['### Peak memory, one epoch of 60,000 x 784 at batch 128 '
                '(subprocess, peak resident memory VmHWM), MB', '']
        rows = [[d, _ms(m['data_mb'], 0), _ms(m['after_import_mb'], 0),
                 _ms(m['peak_mb'], 0), _ms(m['overhead_mb'], 0)]
                for d, m in mem.items()]
        out += [_table(['input dtype', 'data', 'after import', 'peak',
                        'peak - data'], rows), '']
    layers = res.get('layers')
    if layers:
        out += ['### Layers: training step, ms (median)', '']
        rows = [[n, _ms(v.get('theanets')), _ms(v.get('torch')),
                 _ratio(v.get('theanets'), v.get('torch'))]
                for n, v in layers.items()]
        out += [_table(['model', 'theanets-c', 'torch', '/ torch'], rows), '']
    if res.get('targets'):
        out += ['### Targets', '']
        rows = [[t['name'], _fmt_target(t), t['goal'],
                 '—' if t['met'] is None else ('PASS' if t['met'] else
                                               'MISS')]
                for t in res['targets']]
        out += [_table(['target', 'measured', 'goal', ''], rows), '']
    return '\n'.join(out)
