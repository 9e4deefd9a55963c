"""The C mode's set-up: its BLAS, its compiler flags and its rewrites.

PyTensor's C virtual machine compiles one small C++ module per distinct
operation of a graph with g++ (about forty for a classifier's training and
validation functions) and caches them on disk. Four things make that
first compilation, and every step after it, cheaper:

- **A BLAS** (:func:`blas_status`), so the matrix products have C code
  instead of calling ``numpy.dot`` from Python, found once per process
  without PyTensor's own detection (which compiles and runs test programs
  in every new process). When no system BLAS is found, the OpenBLAS of the
  ``scipy-openblas32`` wheel (a dependency of theanets on Linux and macOS)
  is linked; its symbols carry a ``scipy_`` prefix, which a prelude header
  maps (``#define sgemm_ scipy_sgemm_``).
- **A precompiled prelude.** Every module starts by parsing the Python,
  numpy and C++ standard headers. theanets writes those includes (and the
  BLAS prefix map) into one header in PyTensor's compile directory,
  precompiles it once with g++, and passes ``-include prelude.h`` so each
  module reuses the parsed headers. Without debug information (``-g0``,
  which PyTensor's ``-g`` otherwise asks for) the forty modules of a
  classifier compiled in 12.4 s instead of 26.7 s here (same load). A
  precompiled header that g++ cannot use is ignored (the header is then
  parsed as text), so it can cost speed, never correctness. ``THEANETS_PRELUDE=0`` turns it off;
  a user's own ``gcc__cxxflags`` turn off ``-g0``.
- **Large temporaries kept in the heap** (:func:`_tune_malloc`, glibc
  only): without it, the megabyte intermediates of a conv2 step page-fault
  at every call (11.5-12.9 ms per step instead of 6.9-7.0 ms, measured).
- **Inlined softmax ops** (:func:`mode`): PyTensor 3's ``Softmax`` and
  ``LogSoftmax`` are ``OpFromGraph`` ops without C code, run by the C
  virtual machine as nested functions compiled in PyTensor's default mode
  (Numba), which JIT-compiles them in every new cache (18 of 36 s of a cold
  start, measured). The C mode replaces them by their inner graphs.
"""

import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import pytensor

__all__ = ['BlasWarning', 'blas_status', 'status', 'setup', 'mode',
           'INLINE_TAG']

#: Rewrite tag of the softmax inlining, included by the C mode only.
INLINE_TAG = 'theanets_inline_softmax'

#: The includes every PyTensor C module starts with, in its order.
PRELUDE_INCLUDES = (
    '#include <Python.h>',
    '#include "pytensor_mod_helper.h"',
    '#include <math.h>',
    '#include <numpy/arrayobject.h>',
    '#include <numpy/arrayscalars.h>',
    '#include <numpy/npy_math.h>',
    '#include <vector>',
    '#include <algorithm>',
)

#: Fortran BLAS routines PyTensor's C code may declare or call.
BLAS_ROUTINES = tuple(
    p + name for p in 'sd' for name in (
        'axpy', 'copy', 'dot', 'gbmv', 'gemm', 'gemv', 'ger', 'nrm2', 'asum',
        'rot', 'rotg', 'rotm', 'rotmg', 'sbmv', 'scal', 'spmv', 'spr',
        'spr2', 'swap', 'symm', 'symv', 'syr', 'syr2', 'syr2k', 'syrk',
        'tbmv', 'tbsv', 'tpmv', 'tpsv', 'trmm', 'trmv', 'trsm', 'trsv')
) + tuple(
    p + name for p in 'cz' for name in (
        'axpy', 'copy', 'gbmv', 'gemm', 'gemv', 'gerc', 'geru', 'hbmv',
        'hemm', 'hemv', 'her', 'her2', 'her2k', 'herk', 'hpmv', 'hpr',
        'hpr2', 'scal', 'swap', 'symm', 'syr2k', 'syrk', 'tbmv', 'tbsv',
        'tpmv', 'tpsv', 'trmm', 'trmv', 'trsm', 'trsv')
) + ('csscal', 'zdscal', 'isamax', 'idamax', 'xerbla', 'lsame')


class BlasWarning(UserWarning):
    """No BLAS library could be linked into the C backend."""


_state = {'setup': False, 'ldflags': '', 'header': '', 'malloc': False,
          'mode': None}


def _known_value(name):
    """The value of PyTensor option ``name`` when the user set it (in
    ``PYTENSOR_FLAGS`` or ``.pytensorrc``, possibly to ``''``, or to a
    non-empty value at run time), else None.

    Never triggers the option's default (for ``blas__ldflags``, PyTensor's
    detection compiles test programs with g++).
    """
    try:
        return pytensor.config.fetch_val_for_key(name)
    except KeyError:
        pass
    param = getattr(pytensor.config, '_config_var_dict', {}).get(name)
    if param is not None and vars(param).get('val'):
        return param.val
    return None


def _ldconfig():
    """The dynamic linker's list of libraries (``ldconfig -p``), or ''."""
    ldconfig = shutil.which('ldconfig') or '/sbin/ldconfig'
    try:
        return subprocess.run([ldconfig, '-p'], capture_output=True,
                              text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ''


def _wheel_blas():
    """(ldflags, symbol prefix) of the ``scipy-openblas32`` wheel's OpenBLAS,
    or ('', '') when it is not installed or does not load."""
    try:
        import scipy_openblas32 as wheel
    except ImportError:
        return '', ''
    libdir, lib = wheel.get_lib_dir(), wheel.get_library()
    suffix = '.dylib' if sys.platform == 'darwin' else '.so'
    try:
        handle = ctypes.CDLL(os.path.join(libdir, f'lib{lib}{suffix}'))
        getattr(handle, 'scipy_sgemm_')
    except (OSError, AttributeError):
        return '', ''
    return f'-L{libdir} -l{lib} -Wl,-rpath,{libdir}', 'scipy_'


def _mkl_wheel(directory=None):
    """ldflags of the MKL of the ``mkl`` wheel (``pip install
    theanets[mkl]``), or '' when it is not installed.

    The wheel ships ``libmkl_rt.so.2`` only, which ``-lmkl_rt`` cannot
    name; a link ``libmkl_rt.so`` to it in ``directory/theanets-mkl``
    (default: PyTensor's compile directory) can.
    """
    if not sys.platform.startswith('linux'):
        return ''
    from importlib import metadata
    try:
        files = metadata.files('mkl') or []
    except metadata.PackageNotFoundError:
        return ''
    found = [f.locate() for f in files if f.name == 'libmkl_rt.so.2']
    found = [os.path.realpath(f) for f in found if os.path.exists(f)]
    if not found:
        return ''
    target = found[0]
    links = os.path.join(directory or pytensor.config.compiledir,
                         'theanets-mkl')
    link = os.path.join(links, 'libmkl_rt.so')
    try:
        os.makedirs(links, exist_ok=True)
        if os.path.realpath(link) != target:
            tmp = f'{link}.{os.getpid()}'
            os.symlink(target, tmp)
            os.replace(tmp, link)
    except OSError:
        return ''
    if ' ' in links + target:  # PyTensor splits its ldflags at spaces
        return ''
    return (f'-L{links} -lmkl_rt -Wl,-rpath,{os.path.dirname(target)}')


def _choose_blas():
    """(ldflags, symbol prefix): the user's, the ``mkl`` wheel's, a system
    OpenBLAS/MKL/BLIS, the OpenBLAS wheel's, a system reference BLAS, or
    ('', '') for numpy's BLAS."""
    known = _known_value('blas__ldflags')
    if known is not None:
        return known, ''
    flags = _mkl_wheel()
    if flags:
        return flags, ''
    listing = _ldconfig()
    for lib, flags in (('libopenblas.so ', '-lopenblas'),
                       ('libmkl_rt.so ', '-lmkl_rt'),
                       ('libblis.so ', '-lblis')):
        if lib in listing:
            return flags, ''
    flags, prefix = _wheel_blas()
    if flags:
        return flags, prefix
    return ('-lblas' if 'libblas.so ' in listing else ''), ''


def blas_status():
    """Find and link a BLAS for the C backend, once per process.

    Order: what the user configured in PyTensor (``blas__ldflags``, in
    ``PYTENSOR_FLAGS``, ``.pytensorrc`` or set at run time), the MKL of the
    ``mkl`` wheel (``pip install theanets[mkl]``, Linux), a system
    OpenBLAS, MKL or BLIS, the OpenBLAS of the ``scipy-openblas32`` wheel,
    a system reference BLAS. When none can be linked, PyTensor calls numpy's
    own BLAS from Python and a single :class:`BlasWarning` says how to link
    one.

    Returns
    -------
    str
        The linker flags in use, or ``''`` for numpy's BLAS.
    """
    setup()
    return _state['ldflags']


def status():
    """What :func:`setup` chose, as a dict (after setting up).

    Keys: ``'blas'`` (the BLAS linker flags, ``''`` for numpy's BLAS),
    ``'prelude'`` (the prelude header's path, or ``''``), ``'precompiled'``
    (whether g++ precompiled it), ``'cxxflags'`` (PyTensor's
    ``gcc__cxxflags`` now), ``'inline_softmax'`` and ``'malloc'`` (whether
    :func:`_tune_malloc` applied).
    """
    setup()
    header = _state['header']
    return dict(blas=_state['ldflags'], prelude=header,
                precompiled=bool(header) and os.path.exists(header + '.gch'),
                cxxflags=pytensor.config.gcc__cxxflags,
                inline_softmax=_INLINE, malloc=_state['malloc'])


def _compiler_is_gcc(cxx):
    try:
        out = subprocess.run([cxx, '--version'], capture_output=True,
                             text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return False, ''
    return 'Free Software Foundation' in out, out.splitlines()[0] if out else ''


def _prelude_text(prefix):
    lines = ['/* Written by theanets.backend.cmode: the includes every '
             'PyTensor C module starts with, precompiled once. */']
    if prefix:
        lines.append('/* The linked BLAS names its routines with a prefix. */')
        lines.extend(f'#define {name}_ {prefix}{name}_'
                     for name in BLAS_ROUTINES)
    lines.extend(PRELUDE_INCLUDES)
    return '\n'.join(lines) + '\n'


def _compile_flags(cxxflags):
    """The flags PyTensor compiles a module with (before its include and
    library paths), for building a precompiled header that matches them."""
    from pytensor.link.c.cmodule import GCC_compiler, std_include_dirs

    args = ['-O3', '-fno-math-errno', '-Wno-unused-label',
            '-Wno-unused-variable', '-Wno-write-strings']
    with pytensor.config.change_flags(gcc__cxxflags=cxxflags):
        args += GCC_compiler.compile_args()
    includes = [np.get_include()] + std_include_dirs() + [
        os.path.join(os.path.dirname(pytensor.__file__), 'link', 'c',
                     'c_code')]
    return args, [f'-I{d}' for d in includes]


def _write_atomic(path, text):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-')
    with os.fdopen(fd, 'w') as handle:
        handle.write(text)
    os.replace(tmp, path)


def _prelude(prefix, cxxflags):
    """Path of the prelude header (written, and precompiled when the
    compiler is g++), or '' when no header is needed or it can't be
    written."""
    cxx = pytensor.config.cxx
    use_pch = os.environ.get('THEANETS_PRELUDE', '1') != '0'
    if not cxx or not (use_pch or prefix):
        return ''
    is_gcc, version = _compiler_is_gcc(cxx) if use_pch else (False, '')
    text = _prelude_text(prefix)
    args, includes = _compile_flags(cxxflags) if is_gcc else ([], [])
    key = hashlib.sha1('\n'.join(
        [text, cxx, version, sys.version, np.__version__,
         pytensor.__version__, platform.machine()] + args + includes
    ).encode()).hexdigest()[:16]
    directory = os.path.join(pytensor.config.compiledir,
                             f'theanets-prelude-{key}')
    header = os.path.join(directory, 'prelude.h')
    if ' ' in header:  # PyTensor splits gcc__cxxflags at spaces
        return ''
    try:
        os.makedirs(directory, exist_ok=True)
        if not os.path.exists(header):
            _write_atomic(header, text)
    except OSError:
        return ''
    if is_gcc and not os.path.exists(header + '.gch'):
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tmp-',
                                   suffix='.gch')
        os.close(fd)
        cmd = [cxx, '-x', 'c++-header', '-g0', *args, *includes, header,
               '-o', tmp]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=300)
            if done.returncode == 0:
                os.replace(tmp, header + '.gch')
        except (OSError, subprocess.SubprocessError):
            pass
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return header


#: glibc's ``mallopt`` parameters and the values :func:`_tune_malloc` sets:
#: the ceiling of glibc's own dynamic mmap threshold, and twice that.
MALLOC_SETTINGS = ((-3, 32 << 20), (-1, 64 << 20))  # M_MMAP_, M_TRIM_THRESHOLD


def _tune_malloc():
    """Keep a step's large temporaries in the heap (glibc only).

    glibc serves allocations above its mmap threshold (128 KiB at first)
    with fresh pages from the kernel and returns the heap's free top above
    its trim threshold; a step that allocates and frees megabyte
    intermediates (a conv2 layer's patches) then page-faults on them at
    every call. glibc raises both thresholds by itself once it frees such a
    block, but only for blocks of that size: a conv2 classifier's step
    measured 11.5-12.9 ms instead of 6.9-7.0 ms. This sets the thresholds
    to the ceiling of glibc's own adjustment (32 MiB; 64 MiB). Skipped when
    ``MALLOC_MMAP_THRESHOLD_`` or ``MALLOC_TRIM_THRESHOLD_`` is set, or
    ``THEANETS_MALLOC=0``. Returns whether it was applied.
    """
    if (os.environ.get('THEANETS_MALLOC', '1') == '0' or
            'MALLOC_MMAP_THRESHOLD_' in os.environ or
            'MALLOC_TRIM_THRESHOLD_' in os.environ or
            platform.libc_ver()[0] != 'glibc'):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return all(mallopt(param, value) == 1 for param, value in MALLOC_SETTINGS)


def setup():
    """Configure PyTensor's C compilation for theanets, once per process.

    Sets ``blas__ldflags`` (see :func:`blas_status`) and adds ``-g0`` and
    the prelude header (see the module docstring) to ``gcc__cxxflags``.
    Called by :func:`theanets.backend.compile` before the first function
    compiled in the ``'c'`` mode.
    """
    if _state['setup']:
        return
    _state['setup'] = True
    _state['malloc'] = _tune_malloc()
    flags, prefix = _choose_blas()
    if _known_value('blas__ldflags') is None:
        # Also when empty: PyTensor would otherwise run its own detection.
        pytensor.config.blas__ldflags = flags
    _state['ldflags'] = flags
    user_cxxflags = _known_value('gcc__cxxflags')
    cxxflags = user_cxxflags if user_cxxflags is not None else '-g0'
    header = _state['header'] = _prelude(prefix, cxxflags)
    if header:
        cxxflags = f'{cxxflags} -include {header}'.strip()
    if prefix and not header:
        # The wheel's prefixed symbols can't be reached: no BLAS after all.
        pytensor.config.blas__ldflags = flags = _state['ldflags'] = ''
    if cxxflags != (user_cxxflags or ''):
        pytensor.config.gcc__cxxflags = cxxflags
    if not flags:
        warnings.warn(
            'theanets: no BLAS library could be linked into the C backend, so '
            "its matrix products call numpy's BLAS from Python (fine for "
            'small models). To link OpenBLAS, run: pip install '
            'scipy-openblas32, or apt-get install libopenblas-dev '
            "(Debian/Ubuntu), or set PYTENSOR_FLAGS='blas__ldflags=-lopenblas'.",
            BlasWarning, stacklevel=3)


def _register_inline_softmax():
    """Register the C mode's rewrite that inlines PyTensor 3's softmax ops.

    It runs after ``specialize``, when ``log(softmax(x))`` has become
    ``LogSoftmax`` (so the stable form is kept), and before elementwise
    fusion. Returns whether it was registered (PyTensor 2 has softmax ops
    with C code and needs none).
    """
    try:
        from pytensor.compile import optdb
        from pytensor.compile.builders import OpFromGraph
        from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
        from pytensor.tensor.rewriting.ofg import inline_ofg_node
        from pytensor.tensor.special import LogSoftmax, Softmax
    except ImportError:
        return False
    if not (issubclass(Softmax, OpFromGraph) and
            issubclass(LogSoftmax, OpFromGraph)):
        return False

    @node_rewriter([Softmax, LogSoftmax])
    def inline_softmax(fgraph, node):
        return inline_ofg_node(node)

    # A pass of its own after specialize and uncanonicalize (positions 2
    # and 3), so it does not change the order of the rewrites there.
    optdb.register(INLINE_TAG + '_ops', dfs_rewriter(inline_softmax),
                   INLINE_TAG, position=3.5)
    return True


_INLINE = _register_inline_softmax()


def mode():
    """The PyTensor ``Mode`` of theanets' ``'c'`` mode (built once)."""
    if _state['mode'] is None:
        from pytensor.compile.mode import get_mode
        base = get_mode('CVM')
        _state['mode'] = base.including(INLINE_TAG) if _INLINE else base
    return _state['mode']
