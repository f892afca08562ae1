"""Hostile checkpoint files, assembled opcode by opcode (never committed as binaries).

Each attack of issue 15 section 1 is a pickle stream built only from names that mmedge's old
process-wide allow-list let through (numpy ``_reconstruct`` / ``scalar`` / ``dtype`` /
``ndarray``, ``argparse.Namespace``, ``HistoryBuffer``, ``builtins.getattr``) plus torch's own
defaults (``bytearray``, ``_codecs.encode``), or plainly dangerous globals.  :func:`write`
wraps a stream in either torch format: the zip archive ``torch.save`` writes by default, or the
legacy stream (``_use_new_zipfile_serialization=False``).

Run as a script to write one file: ``python hostile_checkpoints.py ATTACK FORMAT PATH``.
"""
import pickle
import struct
import sys

# -- a tiny pickle assembler (protocol 2 opcodes, no memo) ------------------------------------
PROTO = b'\x80\x02'
STOP = b'.'
NONE = b'N'
TRUE = b'\x88'
FALSE = b'\x89'
EMPTY_TUPLE = b')'
EMPTY_DICT = b'}'


def glob(module, name):
    return b'c' + f'{module}\n{name}\n'.encode()


def text(s):
    raw = s.encode()
    return b'X' + struct.pack('<I', len(raw)) + raw


def int_(i):
    return b'J' + struct.pack('<i', i)


def tuple_(*items):
    return b'(' + b''.join(items) + b't'


def call(func, *args):
    return func + tuple_(*args) + b'R'


def build(obj, state):
    return obj + state + b'b'


def dict_(*pairs):
    if not pairs:
        return EMPTY_DICT
    return EMPTY_DICT + b'(' + b''.join(k + v for k, v in pairs) + b'u'


def bytes_(data):
    """Bytes the way protocol 2 writes them: ``_codecs.encode(str, 'latin1')``."""
    return call(glob('_codecs', 'encode'), text(data.decode('latin1')),
                text('latin1'))


NP = 'numpy._core.multiarray'


def np_dtype(code, state):
    return build(call(glob('numpy', 'dtype'), text(code), FALSE, TRUE), state)


def dtype_state(order='|', names=NONE, fields=NONE, elsize=-1, align=-1, flags=0):
    return tuple_(int_(3), text(order), NONE, names, fields, int_(elsize),
                  int_(align), int_(flags))


def new(cls):
    return cls + EMPTY_TUPLE + b'\x81'  # NEWOBJ


def history_getattr(name):
    return call(glob('builtins', 'getattr'),
                glob('mmengine.logging.history_buffer', 'HistoryBuffer'),
                text(name))


def np_array(code, shape, data, order='<'):
    """An array exactly as numpy pickles it (``_reconstruct`` + BUILD state)."""
    arr = call(glob(NP, '_reconstruct'), glob('numpy', 'ndarray'),
               tuple_(int_(0)), bytes_(b'b'))
    state = tuple_(int_(1), tuple_(*map(int_, shape)),
                   np_dtype(code, dtype_state(order)), FALSE, bytes_(data))
    return build(arr, state)


# -- the attacks ------------------------------------------------------------------------------
POINTER = struct.pack('<Q', 0x4141414141414141)


def _attack_dtype_flags_scalar():
    """An object dtype whose flags BUILD strips, then ``scalar`` reads 8 bytes as a pointer."""
    return call(glob(NP, 'scalar'), np_dtype('O8', dtype_state(flags=0)),
                bytes_(POINTER))


def _attack_object_array_bytearray():
    """``ndarray(shape, object dtype (flags stripped), bytearray)``: pointers from the file."""
    return call(glob('numpy', 'ndarray'), tuple_(int_(2)),
                np_dtype('O8', dtype_state(flags=0)),
                call(glob('builtins', 'bytearray'), bytes_(POINTER * 2)))


def _attack_structured_oob():
    """A structured dtype whose field lies 1 MiB past its 8-byte item: reads the heap."""
    field = tuple_(np_dtype('i8', dtype_state('<')), int_(1 << 20))
    dt = np_dtype(
        'V8',
        dtype_state('|', names=tuple_(text('a')),
                    fields=dict_((text('a'), field)), elsize=8, align=1,
                    flags=0))
    arr = call(glob(NP, '_reconstruct'), glob('numpy', 'ndarray'),
               tuple_(int_(0)), bytes_(b'b'))
    return build(arr, tuple_(int_(1), tuple_(int_(4)), dt, FALSE,
                             bytes_(b'\0' * 32)))


def _attack_namespace_setstate():
    """BUILD puts ``__setstate__`` into a Namespace's ``__dict__``; a second BUILD calls it:
    here ``HistoryBuffer.register_statistics(numpy.ndarray)``, a method no list allows."""
    ns = new(glob('argparse', 'Namespace'))
    ns = build(ns, dict_((text('__setstate__'),
                          history_getattr('register_statistics'))))
    return build(ns, glob('numpy', 'ndarray'))


def _attack_history_table():
    """A HistoryBuffer whose pickled statistics table maps 'mean' to ``max`` (class-wide)."""
    state = dict_(
        (text('max_length'), int_(10)),
        (text('_log_history'), np_array('f8', (1, ), struct.pack('<d', 1.))),
        (text('_count_history'), np_array('i8', (1, ), struct.pack('<q', 1))),
        (text('statistics_methods'),
         dict_((text('mean'), history_getattr('max')))),
    )
    return build(new(glob('mmengine.logging.history_buffer', 'HistoryBuffer')),
                 state)


def _attack_os_system():
    return call(glob('os', 'system'), text('echo pwned'))


def _attack_eval():
    return call(glob('builtins', 'eval'), text('__import__("os").getpid()'))


def _attack_getattr():
    """``getattr`` on something other than HistoryBuffer's statistics (its class)."""
    return call(glob('builtins', 'getattr'), glob('argparse', 'Namespace'),
                text('__class__'))


ATTACKS = {
    'dtype_flags_scalar': _attack_dtype_flags_scalar,
    'object_array_bytearray': _attack_object_array_bytearray,
    'structured_oob': _attack_structured_oob,
    'namespace_setstate': _attack_namespace_setstate,
    'history_table': _attack_history_table,
    'os_system': _attack_os_system,
    'eval': _attack_eval,
    'getattr': _attack_getattr,
}
FORMATS = ('zip', 'legacy')
# how each attack is named in mmedge's refusal
REFUSED_FOR = {
    'dtype_flags_scalar': "dtype('O8'",
    'object_array_bytearray': "dtype('O8'",
    'structured_oob': "dtype('V8'",
    'namespace_setstate': 'getattr',
    'history_table': 'statistics_methods',
    'os_system': 'global os.system',
    'eval': 'global builtins.eval',
    'getattr': 'getattr',
}


def payload(attack):
    """``{'state_dict': {}, 'meta': <attack>}`` as a protocol 2 pickle stream."""
    return PROTO + dict_((text('state_dict'), EMPTY_DICT),
                         (text('meta'), ATTACKS[attack]())) + STOP


def write(path, data, fmt):
    """Write pickle stream ``data`` as a torch checkpoint in format ``fmt`` (zip / legacy)."""
    if fmt == 'zip':
        import torch
        writer = torch._C.PyTorchFileWriter(str(path))
        writer.write_record('data.pkl', data, len(data))
        writer.write_record('byteorder', 'little', len('little'))
        writer.write_end_of_file()
        del writer
    elif fmt == 'legacy':
        with open(path, 'wb') as f:
            for head in (0x1950a86a20f9469cfc6c, 1001,
                         dict(protocol_version=1001, little_endian=True,
                              type_sizes=dict(short=2, int=4, long=4))):
                pickle.dump(head, f, protocol=2)
            f.write(data)
            pickle.dump([], f, protocol=2)  # no storages
    else:
        raise ValueError(f'format {fmt!r}: one of {FORMATS}')
    return str(path)


def write_attack(path, attack, fmt):
    return write(path, payload(attack), fmt)


if __name__ == '__main__':
    write_attack(sys.argv[3], sys.argv[1], sys.argv[2])
