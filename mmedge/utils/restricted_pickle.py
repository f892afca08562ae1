"""mmedge's restricted unpickler: a pickle module for ``torch.load(pickle_module=...)``.

``torch.load(f, pickle_module=restricted_pickle, weights_only=False)`` lets torch read the archive
(zip or legacy), rebuild storages through its own ``persistent_load`` and hand every other object
to this module.  The interpreter here is the pure-Python :class:`pickle._Unpickler` with its own
dispatch table:

* only the opcodes that torch and numpy write for data are known (no ``INST`` / ``OBJ`` /
  ``EXT*`` / ``NEWOBJ_EX`` / ``BYTEARRAY8`` / out-of-band buffers, no text ``PERSID``);
  every other opcode is refused;
* ``find_class`` never imports anything: a global name maps to one of our own *builders*
  (:data:`_GLOBALS`), which validate their arguments and construct fresh objects themselves;
* ``REDUCE`` / ``NEWOBJ`` only call those builders; ``BUILD`` only completes an object a builder
  left pending (numpy arrays and dtypes, ``HistoryBuffer``, ``argparse.Namespace``, each built
  once, from validated state) or sets the ``_metadata`` of an ``OrderedDict`` (torch state
  dicts).  ``__setstate__`` of anything is never called and no ``__dict__`` is updated;
* ``SETITEM(S)`` / ``APPEND(S)`` / ``ADDITEMS`` only fill plain ``dict`` / ``OrderedDict`` /
  ``list`` / ``set`` objects.

What it accepts is exactly what mmengine 0.10.7 and torch write for mmedge's runs (tensors,
parameters, plain containers, numbers, strings, numeric / bool numpy arrays, scalars and dtypes,
``HistoryBuffer`` data) and the ``argparse.Namespace`` the authors' released files carry.
Everything else raises :class:`CheckpointRefused` naming the global or opcode.
"""
import argparse
import math
import pickle
import struct
from collections import Counter, OrderedDict

import numpy as np
import torch

__all__ = [
    'CheckpointError', 'CheckpointRefused', 'CheckpointCorrupt', 'Unpickler',
    'load', 'loads'
]


class CheckpointError(RuntimeError):
    """A checkpoint mmedge will not load (base class)."""


class CheckpointRefused(CheckpointError, pickle.UnpicklingError):
    """The file asks for something mmedge's restricted loader does not rebuild."""


class CheckpointCorrupt(CheckpointError):
    """The file is not a readable checkpoint (empty, truncated, random bytes)."""


# --------------------------------------------------------------------------------------------
# builders: what a global name in the file stands for
# --------------------------------------------------------------------------------------------
# numpy type codes we rebuild: booleans, integers, floats, complex numbers (no object, string,
# void / structured, datetime or platform-sized long double types)
_NP_CODES = {
    'b1': 1, 'i1': 1, 'u1': 1, 'i2': 2, 'u2': 2, 'i4': 4, 'u4': 4, 'i8': 8, 'u8': 8,
    'f2': 2, 'f4': 4, 'f8': 8, 'c8': 8, 'c16': 16
}
_MAX_NDIM = 32
# the statistics methods mmengine's HistoryBuffer pickles as ``getattr(HistoryBuffer, name)``
_HISTORY_STATS = ('min', 'max', 'current', 'mean')


def _refuse(msg):
    raise CheckpointRefused(msg)


def _is_int(x):
    return type(x) is int


def _int_tuple(x, what, nonneg=True):
    if type(x) is not tuple or len(x) > _MAX_NDIM or not all(
            _is_int(v) and (v >= 0 or not nonneg) for v in x):
        _refuse(f'{what} must be a tuple of at most {_MAX_NDIM} '
                f'{"non-negative " if nonneg else ""}ints, got {x!r:.80}')
    return x


class _Global:
    """What ``find_class`` returns for an allowed name: a builder, never the real callable."""

    def __init__(self, qualname, call=None, new=None):
        self.qualname = qualname
        self._call = call
        self._new = new

    def call(self, args):  # REDUCE
        return self._apply(self._call, args, 'called (REDUCE)')

    def new(self, args):  # NEWOBJ
        return self._apply(self._new, args, 'instantiated (NEWOBJ)')

    def _apply(self, builder, args, how):
        if builder is None:
            _refuse(f'global {self.qualname} may not be {how}')
        try:
            return builder(*args)
        except TypeError:  # wrong number of arguments
            _refuse(f'{self.qualname} with {len(args)} arguments')

    def __repr__(self):
        return f'<mmedge builder for {self.qualname}>'


class _Pending:
    """An object that a builder started and only a validated ``BUILD`` completes (once)."""

    def __init__(self, kind, build, **info):
        self.kind = kind
        self._build = build
        self.info = info
        self.done = False
        self.value = None

    def __repr__(self):
        return f'an unfinished {self.kind}'

    def build(self, state):
        if self.done:  # never reached: BUILD replaces the stack entry by the value
            _refuse(f'a second BUILD of {self.kind}')
        self.value = self._build(state, **self.info)
        self.done = True
        return self.value


class _StatRef:
    """``getattr(HistoryBuffer, 'mean')`` as a name only; never a callable."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f'getattr(HistoryBuffer, {self.name!r}) outside a HistoryBuffer'


# -- numpy ------------------------------------------------------------------------------------
def _np_dtype_call(code, align=False, copy=True, *rest):
    if rest or type(code) is not str or code not in _NP_CODES or \
            align is not False or copy is not True:
        _refuse(f'numpy dtype{(code, align, copy) + rest!r:.80}: only plain '
                f'bool / int / float / complex dtypes ({", ".join(_NP_CODES)}) '
                f'are rebuilt')
    return _Pending('numpy dtype', _np_dtype_build, code=code)


def _np_dtype_build(state, code):
    # numpy writes (3, byteorder, subdescr, names, fields, elsize, alignment, flags); a plain
    # numeric dtype has no sub-array, names or fields, and its sizes and flags are numpy's own
    if type(state) is not tuple or len(state) != 8 or state[0] != 3 or \
            state[2:] != (None, None, None, -1, -1, 0):
        _refuse(f'numpy dtype {code!r} with state {state!r:.120}: only the '
                f'state of a plain numeric dtype is accepted (no fields, '
                f'sub-arrays, sizes or flags of its own)')
    order = state[1]
    size = _NP_CODES[code]
    if type(order) is not str or order not in (
            ('|', ) if size == 1 else ('<', '>', '=')):
        _refuse(f'numpy dtype {code!r} with byte order {order!r:.20}')
    dt = np.dtype(code)
    return dt if size == 1 else dt.newbyteorder(order)


def _check_np_dtype(dt, what):
    if not isinstance(dt, np.dtype) or dt.fields is not None or \
            dt.subdtype is not None or dt.hasobject or \
            dt.kind not in 'biufc' or dt.str[1:] not in _NP_CODES or \
            dt.itemsize != _NP_CODES[dt.str[1:]]:
        _refuse(f'{what}: dtype {dt!r:.80} is not a plain numeric dtype')
    return dt


def _np_reconstruct_call(cls, shape, typecode):
    if cls is not _NDARRAY or shape != (0, ) or typecode != b'b':
        _refuse(f'numpy _reconstruct({cls!r:.40}, {shape!r:.40}, '
                f'{typecode!r:.40}): only numpy.ndarray as numpy pickles it')
    return _Pending('numpy ndarray', _np_array_build)


def _np_array_build(state):
    if type(state) is not tuple or len(state) != 5 or state[0] != 1:
        _refuse(f'numpy array state {state!r:.80}: expected (1, shape, dtype, '
                f'fortran, data)')
    _, shape, dt, fortran, data = state
    _int_tuple(shape, 'numpy array shape')
    _check_np_dtype(dt, 'numpy array')
    if type(fortran) is not bool:
        _refuse(f'numpy array fortran flag {fortran!r:.40}')
    if type(data) is not bytes:
        _refuse(f'numpy array data of type {type(data).__name__} (only the '
                f'raw bytes of a numeric array)')
    n = math.prod(shape)
    if len(data) != n * dt.itemsize:
        _refuse(f'numpy array of shape {shape} and dtype {dt} needs '
                f'{n * dt.itemsize} bytes, the file has {len(data)}')
    flat = np.frombuffer(data, dtype=dt, count=n)
    return flat.reshape(shape, order='F' if fortran else 'C').copy(
        order='F' if fortran else 'C')


def _np_scalar_call(dt, data=None, *rest):
    _check_np_dtype(dt, 'numpy scalar')
    if rest or type(data) is not bytes or len(data) != dt.itemsize:
        _refuse(f'numpy scalar of dtype {dt} from {data!r:.40}: needs exactly '
                f'{dt.itemsize} bytes')
    return np.frombuffer(data, dtype=dt, count=1)[0]  # a scalar owns its value


def _np_ndarray_call(*args):
    _refuse('numpy.ndarray(...) called directly (REDUCE): arrays are only '
            'rebuilt the way numpy pickles them (_reconstruct + state)')


# -- builtins ---------------------------------------------------------------------------------
def _codecs_encode(text, encoding='latin1', *rest):
    # protocol 2 writes bytes as _codecs.encode(str, 'latin1')
    if rest or type(text) is not str or encoding not in ('latin1', 'latin-1'):
        _refuse(f'_codecs.encode({text!r:.30}, {encoding!r:.30}): only the '
                f'latin1 bytes encoding pickle protocol 2 writes')
    return text.encode('latin1')


def _empty_bytes(*args):
    if args:  # protocol 2 writes b'' as bytes(); other bytes go through _codecs.encode
        _refuse(f'builtins.bytes{args!r:.40}')
    return b''


def _getattr_call(obj, name, *rest):
    if rest or obj is not _HISTORY_BUFFER or name not in _HISTORY_STATS:
        _refuse(f'getattr({obj!r:.60}, {name!r:.40}): only the names of '
                f'HistoryBuffer\'s statistics {_HISTORY_STATS} (which are '
                f'never called or registered)')
    return _StatRef(name)


def _set_builder(kind):

    def call(*args):
        # protocol 2 writes set([items]) / frozenset([items]); an empty one may have no list
        if args == ():
            return kind()
        if len(args) != 1 or type(args[0]) is not list:
            _refuse(f'{kind.__name__}{args!r:.60}: expected one list')
        return kind(args[0])

    return call


# -- collections / torch ----------------------------------------------------------------------
def _ordered_dict_call(*args):
    if args:
        _refuse('collections.OrderedDict with arguments (torch writes '
                'OrderedDict() and fills it)')
    return OrderedDict()


def _counter_call(*args):
    # Counter pickles as Counter(dict(self)); MultiStepLR keeps its milestones in one
    if args == ():
        return Counter()
    if len(args) != 1 or type(args[0]) is not dict:
        _refuse(f'collections.Counter{args!r:.60}: expected one dict')
    return Counter(args[0])


def _empty_hooks(hooks, what):
    if type(hooks) is not OrderedDict or hooks:
        _refuse(f'{what}: backward hooks {hooks!r:.60} (only an empty '
                f'OrderedDict)')


def _rebuild_tensor_v2(storage,
                       offset,
                       size,
                       stride,
                       requires_grad,
                       hooks,
                       metadata=None,
                       *rest):
    if rest:
        _refuse('torch._utils._rebuild_tensor_v2 with extra arguments')
    if not isinstance(storage, torch.storage.TypedStorage):
        _refuse(f'torch._utils._rebuild_tensor_v2 on {type(storage).__name__} '
                f'(only a storage of the archive)')
    if not _is_int(offset) or offset < 0:
        _refuse(f'tensor storage offset {offset!r:.40}')
    _int_tuple(size, 'tensor size')
    _int_tuple(stride, 'tensor stride')
    if len(size) != len(stride):
        _refuse(f'tensor size {size} and stride {stride} differ in length')
    if type(requires_grad) is not bool:
        _refuse(f'tensor requires_grad {requires_grad!r:.40}')
    _empty_hooks(hooks, 'tensor')
    if metadata is not None and metadata != {}:
        _refuse(f'tensor metadata {metadata!r:.60}')
    if math.prod(size):
        end = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
        if end > storage._size():
            _refuse(f'tensor of size {size}, stride {stride}, offset {offset} '
                    f'reaches past its storage of {storage._size()} elements')
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
                                           requires_grad, OrderedDict())


def _rebuild_parameter(data, requires_grad, hooks, *rest):
    if rest or type(data) is not torch.Tensor or type(requires_grad) is not bool:
        _refuse('torch._utils._rebuild_parameter: expected (tensor, bool, '
                'hooks)')
    _empty_hooks(hooks, 'parameter')
    return torch.nn.Parameter(data, requires_grad)


# -- mmengine HistoryBuffer / argparse.Namespace ----------------------------------------------
def _history_new(*args):
    if args:
        _refuse('HistoryBuffer created with arguments')
    return _Pending('mmengine HistoryBuffer', _history_build)


def _history_build(state):
    if type(state) is not dict:
        _refuse(f'HistoryBuffer state of type {type(state).__name__}')
    keys = set(state)
    need = {'max_length', '_log_history', '_count_history'}
    if not need <= keys <= need | {'statistics_methods'}:
        _refuse(f'HistoryBuffer state keys {sorted(map(repr, keys))}: only '
                f'{sorted(need)} and statistics_methods')
    max_length = state['max_length']
    if not _is_int(max_length) or max_length <= 0:
        _refuse(f'HistoryBuffer max_length {max_length!r:.40}')
    arrays = []
    for key in ('_log_history', '_count_history'):
        arr = state[key]
        if type(arr) is not np.ndarray or arr.ndim != 1 or \
                arr.dtype.kind not in 'biuf':
            _refuse(f'HistoryBuffer {key}: {type(arr).__name__} '
                    f'{getattr(arr, "shape", "")} (a 1-d numeric array)')
        arrays.append(arr)
    if len(arrays[0]) != len(arrays[1]) or len(arrays[0]) > max_length:
        _refuse(f'HistoryBuffer histories of lengths {len(arrays[0])} and '
                f'{len(arrays[1])} (max_length {max_length})')
    methods = state.get('statistics_methods', {})
    if type(methods) is not dict or not all(
            type(v) is _StatRef and v.name == k for k, v in methods.items()):
        _refuse('HistoryBuffer statistics_methods other than its own '
                f'{_HISTORY_STATS} (custom statistics are not loaded)')
    from mmengine.logging import HistoryBuffer

    # a new buffer through the constructor; the class-level statistics table is never changed
    return HistoryBuffer(arrays[0], arrays[1], max_length)


class _FreshNamespace(argparse.Namespace):
    """An empty Namespace that NEWOBJ made; at most one BUILD fills it, then (or when loading
    ends) it becomes a plain ``argparse.Namespace``.  An empty one is pickled without BUILD."""


def _namespace_new(*args):
    if args:
        _refuse('argparse.Namespace created with arguments')
    return _FreshNamespace()


def _namespace_fill(ns, state):
    if type(state) is not dict:
        _refuse(f'argparse.Namespace state of type {type(state).__name__}')
    for key in state:
        if type(key) is not str or not key.isidentifier() or \
                key.startswith('__'):
            _refuse(f'argparse.Namespace attribute {key!r:.60} (only plain '
                    f'identifiers, no dunder names)')
    for key, value in state.items():
        setattr(ns, key, value)
    ns.__class__ = argparse.Namespace  # built once: a second BUILD is refused


_NDARRAY = _Global('numpy.ndarray', call=_np_ndarray_call)
_HISTORY_BUFFER = _Global(
    'mmengine.logging.history_buffer.HistoryBuffer',
    new=_history_new)

_GLOBALS = {}


def _add(names, glob):
    for name in names:
        _GLOBALS[name] = glob


_add([('numpy._core.multiarray', '_reconstruct'),
      ('numpy.core.multiarray', '_reconstruct')],
     _Global('numpy._core.multiarray._reconstruct', call=_np_reconstruct_call))
_add([('numpy._core.multiarray', 'scalar'),
      ('numpy.core.multiarray', 'scalar')],
     _Global('numpy._core.multiarray.scalar', call=_np_scalar_call))
_add([('numpy', 'ndarray')], _NDARRAY)
_add([('numpy', 'dtype')], _Global('numpy.dtype', call=_np_dtype_call))
_add([('_codecs', 'encode')], _Global('_codecs.encode', call=_codecs_encode))
_add([('builtins', 'bytes')],
     _Global('builtins.bytes', call=_empty_bytes))
_add([('builtins', 'getattr')], _Global('builtins.getattr', call=_getattr_call))
_add([('builtins', 'set')], _Global('builtins.set', call=_set_builder(set)))
_add([('builtins', 'frozenset')],
     _Global('builtins.frozenset', call=_set_builder(frozenset)))
_add([('collections', 'OrderedDict')],
     _Global('collections.OrderedDict', call=_ordered_dict_call))
_add([('collections', 'Counter')],
     _Global('collections.Counter', call=_counter_call))
_add([('torch._utils', '_rebuild_tensor_v2')],
     _Global('torch._utils._rebuild_tensor_v2', call=_rebuild_tensor_v2))
_add([('torch._utils', '_rebuild_parameter')],
     _Global('torch._utils._rebuild_parameter', call=_rebuild_parameter))
_add([('mmengine.logging.history_buffer', 'HistoryBuffer')], _HISTORY_BUFFER)
_add([('argparse', 'Namespace')],
     _Global('argparse.Namespace', new=_namespace_new))

# Python 2 module names that protocol < 3 pickles use for builtins
_MODULE_ALIASES = {'__builtin__': 'builtins', 'copy_reg': 'copyreg'}

# --------------------------------------------------------------------------------------------
# the interpreter
# --------------------------------------------------------------------------------------------
_INTERNAL = (_Global, _Pending, _StatRef)
_PLAIN_OPS = (
    'PROTO', 'FRAME', 'STOP', 'MARK', 'NONE', 'NEWTRUE', 'NEWFALSE', 'BININT',
    'BININT1', 'BININT2', 'LONG1', 'BINFLOAT', 'BINUNICODE', 'SHORT_BINUNICODE',
    'BINUNICODE8', 'BINBYTES', 'SHORT_BINBYTES', 'BINBYTES8', 'BINSTRING',
    'SHORT_BINSTRING', 'EMPTY_TUPLE', 'TUPLE', 'TUPLE1', 'TUPLE2', 'TUPLE3',
    'EMPTY_LIST', 'EMPTY_DICT', 'EMPTY_SET', 'FROZENSET', 'BINPUT',
    'LONG_BINPUT', 'MEMOIZE', 'BINPERSID', 'GLOBAL', 'STACK_GLOBAL')
_ALL_OPCODES = {
    getattr(pickle, n)[0]: n
    for n in dir(pickle)
    if n.isupper() and isinstance(getattr(pickle, n), bytes) and len(
        getattr(pickle, n)) == 1
}


class _Dispatch(dict):

    def __missing__(self, code):
        name = _ALL_OPCODES.get(code)
        if name is None:
            raise CheckpointCorrupt(f'byte 0x{code:02x} is not a pickle opcode '
                                    f'(corrupt or not a checkpoint)')
        raise CheckpointRefused(f'pickle opcode {name} is not allowed')


def _resolve(obj):
    if type(obj) is _Pending:
        if not obj.done:
            _refuse(f'{obj.kind} used before it was built')
        return obj.value
    return obj


class Unpickler(pickle._Unpickler):
    """The restricted interpreter (see the module docstring); torch sets ``persistent_load``."""

    dispatch = _Dispatch({
        getattr(pickle, op)[0]: pickle._Unpickler.dispatch[getattr(pickle,
                                                                   op)[0]]
        for op in _PLAIN_OPS
    })

    def __init__(self, file, *, encoding='utf-8', errors='strict', **kwargs):
        if kwargs.pop('fix_imports', True) is not True or kwargs:
            raise TypeError(f'unsupported arguments {sorted(kwargs)}')
        super().__init__(file, fix_imports=True, encoding=encoding,
                         errors=errors)

    def find_class(self, module, name):
        module = _MODULE_ALIASES.get(module, module)
        if module == 'mmengine.logging.history_buffer' and name in (
                f'HistoryBuffer.{s}' for s in _HISTORY_STATS):
            return _StatRef(name.split('.')[1])  # protocol >= 4 names methods so
        glob = _GLOBALS.get((module, name))
        if glob is None:
            _refuse(f'global {module}.{name}')
        return glob

    def persistent_load(self, pid):  # replaced by torch's when it reads an archive
        _refuse(f'persistent id {pid!r:.60} outside a torch archive')

    def _get(self, key):
        try:
            obj = self.memo[key]
        except KeyError:
            raise CheckpointCorrupt(f'memo key {key} read before it was written')
        self.append(_resolve(obj))

    def load_binget(self):
        self._get(self.read(1)[0])

    def load_long_binget(self):
        self._get(struct.unpack('<I', self.read(4))[0])

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if type(func) is not _Global:
            _refuse(f'REDUCE of {type(func).__name__} (only allowed globals '
                    f'are called)')
        if type(args) is not tuple:
            _refuse('REDUCE with non-tuple arguments')
        self.stack[-1] = func.call(args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if type(cls) is not _Global or type(args) is not tuple:
            _refuse(f'NEWOBJ of {type(cls).__name__}')
        self.append(cls.new(args))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is _Pending and not inst.done:
            self.stack[-1] = inst.build(state)
        elif type(inst) is _FreshNamespace:
            _namespace_fill(inst, state)
        elif type(inst) is OrderedDict and type(state) is dict and \
                set(state) == {'_metadata'} and \
                type(state['_metadata']) in (dict, OrderedDict):
            inst._metadata = state['_metadata']  # torch's state-dict versions
        else:
            _refuse(f'BUILD of {type(inst).__name__} with '
                    f'{type(state).__name__} state (only objects the loader '
                    f'itself started are completed, once)')

    def load_setitem(self):
        value = self.stack.pop()
        key = self.stack.pop()
        self._set_items([key, value])

    def load_setitems(self):
        self._set_items(self.pop_mark())

    def _set_items(self, items):
        target = self.stack[-1]
        if type(target) not in (dict, OrderedDict):
            _refuse(f'SETITEM on {type(target).__name__} (only dicts)')
        for i in range(0, len(items), 2):
            target[items[i]] = items[i + 1]

    def load_append(self):
        self._extend([self.stack.pop()])

    def load_appends(self):
        self._extend(self.pop_mark())

    def _extend(self, items):
        target = self.stack[-1]
        if type(target) is not list:
            _refuse(f'APPEND on {type(target).__name__} (only lists)')
        target.extend(items)

    def load_additems(self):
        items = self.pop_mark()
        target = self.stack[-1]
        if type(target) is not set:
            _refuse(f'ADDITEMS on {type(target).__name__} (only sets)')
        target.update(items)

    dispatch[pickle.BINGET[0]] = load_binget
    dispatch[pickle.LONG_BINGET[0]] = load_long_binget
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.ADDITEMS[0]] = load_additems

    def load(self):
        try:
            result = super().load()
        except CheckpointError:
            raise
        except (EOFError, struct.error) as err:
            raise CheckpointCorrupt(
                f'the pickle data ends early ({err or type(err).__name__}): '
                f'the file is truncated') from None
        except Exception as err:  # noqa: BLE001  malformed stream, re-raised as ours
            raise CheckpointCorrupt(
                f'malformed pickle data ({type(err).__name__}: {err})'[:300]) \
                from None
        _check_result(result)
        return result


def _check_result(result):
    """Nothing of the loader's own (builders, unfinished objects) may leave it."""
    seen = set()
    todo = [result]
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, _INTERNAL):
            _refuse(f'{obj!r:.60} left unbuilt in the data')
        if type(obj) is _FreshNamespace:  # an empty Namespace (pickled without BUILD)
            obj.__class__ = argparse.Namespace
        if type(obj) in (dict, OrderedDict, Counter):
            todo.extend(obj.keys())
            todo.extend(obj.values())
            todo.append(getattr(obj, '_metadata', None))
        elif type(obj) in (list, tuple, set, frozenset):
            todo.extend(obj)
        elif type(obj) in (argparse.Namespace, _FreshNamespace):
            todo.extend(vars(obj).values())


def load(file, **kwargs):
    """``pickle.load`` through the restricted interpreter (torch reads archive headers so)."""
    return Unpickler(file, **kwargs).load()


def loads(data, **kwargs):
    import io
    return load(io.BytesIO(data), **kwargs)
