"""mmedge's restricted checkpoint loader: hostile files are refused on every load path, in both
torch formats, without crashing the interpreter or changing process state; genuine files load.

Hostile files come from ``hostile_checkpoints.py`` (assembled opcode by opcode).  Every load of a
hostile file runs in a child interpreter, so a crash fails the test instead of killing pytest.
"""
import os
import os.path as osp
import pickle
import subprocess
import sys
import textwrap

import pytest
import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, osp.dirname(HERE))
import hostile_checkpoints as hc  # noqa: E402
from conftest import needs_mmdet  # noqa: E402
from test_tools.test_train_test import _data_options  # noqa: E402

# --------------------------------------------------------------------------------------------
# child-process harness
# --------------------------------------------------------------------------------------------
# Each path is a snippet that loads the file CKPT; ERR is the exception class it must raise.
_PRELUDE = '''
import os, sys, copy
sys.path.insert(0, {here!r}); sys.path.insert(0, {root!r})
import torch, mmengine.runner.checkpoint
import hostile_checkpoints as hc
from mmengine.logging import HistoryBuffer
import mmengine.runner
globals_before = list(torch.serialization.get_safe_globals())
import mmedge
from mmedge.utils.checkpoint import CheckpointRefused
assert list(torch.serialization.get_safe_globals()) == globals_before, 'allow-list changed'
def foreign():  # allow-listed names that are not torch's own
    return [g for g in torch.serialization.get_safe_globals()
            if not getattr(g, '__module__', '').startswith('torch')]
HistoryBuffer()  # registers the default statistics
table_before = dict(HistoryBuffer._statistics_methods)
assert sorted(table_before) == ['current', 'max', 'mean', 'min'], table_before
'''
_CHECK_STATE = '''
# torch adds its own names as its submodules load (dynamo, DTensor); nothing else may appear
assert not foreign(), foreign()
assert HistoryBuffer._statistics_methods == table_before, 'HistoryBuffer table changed'
assert HistoryBuffer([1., 3.], [1, 1]).statistics('mean') == 2.
'''
_LOOP = '''
for fmt in hc.FORMATS:
    for attack in hc.ATTACKS:
        CKPT = hc.write_attack(os.path.join(TMP, f'{{attack}}_{{fmt}}.pth'), attack, fmt)
        print('trying', attack, fmt, flush=True)
        try:
{load}
        except ERR as err:
            msg = str(err)
        else:
            raise AssertionError(f'{{attack}} ({{fmt}}) loaded')
        if ERR is CheckpointRefused:
            assert CKPT in msg, msg
            assert hc.REFUSED_FOR[attack] in msg, (attack, msg)
            assert 'weights_only' not in msg, msg
''' + textwrap.indent(_CHECK_STATE, ' ' * 8) + '''
        print('refused', attack, fmt, flush=True)
print('ALL REFUSED')
'''

_TOY_RUNNER = '''
import torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
class Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(4, 2)
    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        return dict(loss=out.sum()) if mode == 'loss' else out
def runner(ckpt, resume, n):
    data = [dict(inputs=torch.zeros(4), labels=torch.zeros(2))] * 4
    return Runner(model=Toy(), work_dir=os.path.join(TMP, f'work{{n}}'),
                  train_dataloader=dict(dataset=data, sampler=dict(type='DefaultSampler'),
                                        collate_fn=dict(type='default_collate'), batch_size=2),
                  optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
                  train_cfg=dict(by_epoch=True, max_epochs=1), load_from=ckpt, resume=resume,
                  default_scope='mmengine', experiment_name=f'e{{n}}')
N = [0]
def run(ckpt, resume):
    N[0] += 1
    r = runner(ckpt, resume, N[0])
    try:
        r.train()
    finally:
        from mmengine.visualization import Visualizer
        Visualizer._instance_dict.clear()
'''

PATHS = {
    # mmedge's loader itself
    'safe_load': ('', 'CheckpointRefused',
                  'from mmedge.utils.checkpoint import safe_load; safe_load(CKPT)'),
    # mmengine's load_checkpoint (CheckpointLoader, local scheme)
    'load_checkpoint': ('', 'CheckpointRefused',
                        'import torch.nn as nn; from mmengine.runner import '
                        'load_checkpoint; load_checkpoint(nn.Linear(1, 1), CKPT)'),
    # mmengine's own PretrainedInit on a plain mmengine module
    'mmengine_PretrainedInit': (
        'from mmengine.model import BaseModule\nimport torch.nn as nn\n'
        'class M(BaseModule):\n'
        '    def __init__(self, ckpt):\n'
        '        super().__init__(init_cfg=dict(type="Pretrained", checkpoint=ckpt))\n'
        '        self.fc = nn.Linear(1, 1)\n', 'CheckpointRefused', 'M(CKPT).init_weights()'),
    # mmedge backbones' init_cfg=Pretrained
    'init_cfg_Pretrained': (
        'import mmedge.models\nfrom mmedge.registry import MODELS\n', 'CheckpointRefused',
        'MODELS.build(dict(type="mmedge.RepNeXt", arch="m0", init_cfg=dict('
        'type="Pretrained", checkpoint=CKPT))).init_weights()'),
    'Runner_resume': (_TOY_RUNNER, 'CheckpointRefused', 'run(CKPT, True)'),
    'Runner_load_from': (_TOY_RUNNER, 'CheckpointRefused', 'run(CKPT, False)'),
    # a plain torch.load after `import mmedge`: torch's own default refuses (and no crash),
    # because mmedge no longer widens torch's allow-list
    'torch.load': ('', 'pickle.UnpicklingError', 'torch.load(CKPT)'),
}


def _run_child(code, tmp_path, timeout=240):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    env.pop('TORCH_FORCE_WEIGHTS_ONLY_LOAD', None)
    proc = subprocess.run([sys.executable, '-c', code], cwd=str(tmp_path), env=env,
                          capture_output=True, text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode >= 0, (
        f'the child interpreter died of signal {-proc.returncode}:\n{out[-3000:]}')
    return proc.returncode, out


@pytest.mark.parametrize('path', list(PATHS))
def test_hostile_files_refused(tmp_path, path):
    setup, err, load = PATHS[path]
    code = (_PRELUDE.format(here=HERE, root=ROOT) + 'import pickle\n' +
            f'TMP = {str(tmp_path)!r}\n' + setup.format() + f'ERR = {err}\n' +
            _LOOP.format(load=textwrap.indent(load, ' ' * 12)))
    rc, out = _run_child(code, tmp_path)
    assert rc == 0 and 'ALL REFUSED' in out, out[-3000:]


_TOOLS_TEST = '''
sys.path.insert(0, os.path.join({root!r}, 'tools'))
sys.path.insert(0, os.path.join({root!r}, 'tests'))
import test as test_tool
from mmengine.visualization import Visualizer
from test_tools.test_train_test import _data_options
CONFIG = os.path.join({root!r}, 'configs', 'toy', 'toy_ssdlite_edgenext_xxs_coco.py')
OPTS = [o for o in _data_options(os.path.join(TMP, 'data') + '/') if 'backbone.arch' not in o]
def tools_test(ckpt):
    try:
        test_tool.main([CONFIG, ckpt, '--work-dir', os.path.join(TMP, 'w'), '--cfg-options', *OPTS])
    finally:
        Visualizer._instance_dict.clear()
'''


@needs_mmdet
def test_tools_test_refuses_hostile_files(tmp_path):
    """tools/test.py's main in a child interpreter for every attack and format, and the command
    line itself for one attack of each format."""
    setup = _TOOLS_TEST.format(root=ROOT)
    # each tools/test.py run builds a detector and its data (seconds each): each attack class
    # of issue 15 runs once, in alternating formats (plain dangerous globals and both formats
    # of every attack run through the other paths)
    loop = _LOOP.format(load=' ' * 12 + 'tools_test(CKPT)').replace(
        "for fmt in hc.FORMATS:\n    for attack in hc.ATTACKS:\n",
        "for i, attack in enumerate(list(hc.ATTACKS)[:5]):\n"
        "    for fmt in [hc.FORMATS[i % 2]]:\n")
    assert 'enumerate' in loop
    code = (_PRELUDE.format(here=HERE, root=ROOT) + f'TMP = {str(tmp_path)!r}\n' + setup +
            'ERR = CheckpointRefused\n' + loop)
    rc, out = _run_child(code, tmp_path, timeout=600)
    assert rc == 0 and 'ALL REFUSED' in out, out[-3000:]
    for fmt in hc.FORMATS:
        ckpt = hc.write_attack(tmp_path / f'cli_{fmt}.pth', 'dtype_flags_scalar', fmt)
        opts = [o for o in _data_options(str(tmp_path / 'data') + '/')
                if 'backbone.arch' not in o]
        proc = subprocess.run(
            [sys.executable, osp.join(ROOT, 'tools', 'test.py'),
             osp.join(ROOT, 'configs', 'toy', 'toy_ssdlite_edgenext_xxs_coco.py'), ckpt,
             '--work-dir', str(tmp_path / 'w'), '--cfg-options', *opts],
            capture_output=True, text=True, timeout=300, cwd=str(tmp_path),
            env=dict(os.environ, OMP_NUM_THREADS='1'))
        assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
        assert 'CheckpointRefused' in proc.stderr and ckpt in proc.stderr
        assert "dtype('O8'" in proc.stderr and 'weights_only' not in proc.stderr


def test_import_mmedge_leaves_torch_allow_list_alone(tmp_path):
    code = textwrap.dedent(f'''
        import sys; sys.path.insert(0, {ROOT!r})
        import torch, mmengine.runner.checkpoint  # what mmedge imports, torch's own additions
        before = list(torch.serialization.get_safe_globals())
        import mmedge
        after = list(torch.serialization.get_safe_globals())
        assert after == before, (before, after)
        import mmedge.models  # torch adds its own names as torch._dynamo & co. load
        names = [getattr(g, '__module__', '') for g in torch.serialization.get_safe_globals()]
        assert not any(n.startswith(('numpy', 'argparse', 'mmengine', 'builtins', 'mmedge'))
                       for n in names), names
        print('OK')
    ''')
    rc, out = _run_child(code, tmp_path)
    assert rc == 0 and 'OK' in out, out


# --------------------------------------------------------------------------------------------
# in-process: files that are refused without any risk (validated before anything is built)
# --------------------------------------------------------------------------------------------
def _write(tmp_path, name, data, fmt):
    return hc.write(tmp_path / f'{name}_{fmt}.pth', data, fmt)


def _refused(path):
    from mmedge.utils.checkpoint import CheckpointRefused, safe_load
    with pytest.raises(CheckpointRefused) as info:
        safe_load(path)
    msg = str(info.value)
    assert path in msg and 'weights_only' not in msg
    return msg


@pytest.mark.parametrize('fmt', hc.FORMATS)
@pytest.mark.parametrize('name,obj,expect', [
    # opcodes no genuine checkpoint has
    ('inst', b'(ios\nsystem\nX\x02\x00\x00\x00lsb', 'opcode INST'),
    ('ext', b'\x82\x01', 'opcode EXT1'),
    ('bytearray8', b'\x96\x01\x00\x00\x00\x00\x00\x00\x00A', 'opcode BYTEARRAY8'),
    ('newobj_ex', hc.glob('argparse', 'Namespace') + b')}\x92', 'opcode NEWOBJ_EX'),
    # BUILD on something no builder started
    ('build_dict', hc.build(hc.EMPTY_DICT, hc.dict_((hc.text('a'), hc.int_(1)))),
     'BUILD of dict'),
    # a Namespace built twice (the second BUILD would call an injected __setstate__)
    ('namespace_twice', hc.build(hc.build(hc.new(hc.glob('argparse', 'Namespace')),
                                          hc.dict_((hc.text('a'), hc.int_(1)))),
                                 hc.dict_()), 'BUILD of Namespace'),
    ('namespace_dunder', hc.build(hc.new(hc.glob('argparse', 'Namespace')),
                                  hc.dict_((hc.text('__setstate__'), hc.int_(1)))),
     "'__setstate__'"),
    # numpy states that are not a plain numeric array
    ('array_short_data', hc.np_array('f8', (3, ), b'\0' * 16), 'needs 24 bytes'),
    ('array_object', hc.np_array('O8', (1, ), b'\0' * 8), "dtype('O8'"),
    ('dtype_flags', hc.np_dtype('f8', hc.dtype_state('<', flags=63)), 'state'),
    ('dtype_order', hc.np_dtype('f8', hc.dtype_state('|')), 'byte order'),
    ('scalar_size', hc.call(hc.glob(hc.NP, 'scalar'),
                            hc.np_dtype('f8', hc.dtype_state('<')), hc.bytes_(b'\0' * 4)),
     'needs exactly 8 bytes'),
    # tensors that reach past their storage, or carry hooks
    ('tensor_no_storage', hc.call(hc.glob('torch._utils', '_rebuild_tensor_v2'), hc.NONE,
                                  hc.int_(0), hc.tuple_(), hc.tuple_(), hc.FALSE,
                                  hc.call(hc.glob('collections', 'OrderedDict'))),
     '_rebuild_tensor_v2 on NoneType'),
    ('wrong_arity', hc.call(hc.glob('torch._utils', '_rebuild_tensor_v2'), hc.NONE),
     'with 1 arguments'),
    ('unknown_global', hc.glob('torch', 'load'), 'global torch.load'),
    ('stdlib_global', hc.call(hc.glob('subprocess', 'check_output'), hc.text('id')),
     'global subprocess.check_output'),
])
def test_refused_in_process(tmp_path, fmt, name, obj, expect):
    from mmengine.logging import HistoryBuffer
    table = dict(HistoryBuffer._statistics_methods)
    data = hc.PROTO + obj + hc.STOP
    msg = _refused(_write(tmp_path, name, data, fmt))
    assert expect in msg, msg
    assert HistoryBuffer._statistics_methods == table


@pytest.mark.parametrize('fmt', hc.FORMATS)
def test_corrupt_files_get_mmedges_message(tmp_path, fmt):
    from mmedge.utils.checkpoint import CheckpointCorrupt, safe_load
    genuine = tmp_path / f'genuine_{fmt}.pth'
    torch.save({'state_dict': {'w': torch.arange(1000.)}}, genuine,
               _use_new_zipfile_serialization=fmt == 'zip')
    data = genuine.read_bytes()
    cases = {
        'empty': b'',
        'random': os.urandom(4096),
        'truncated_half': data[:len(data) // 2],
        'truncated_head': data[:40],
        'truncated_tail': data[:-10],
    }
    for name, content in cases.items():
        path = tmp_path / f'{name}_{fmt}.pth'
        path.write_bytes(content)
        with pytest.raises(CheckpointCorrupt) as info:
            safe_load(str(path))
        msg = str(info.value)
        assert str(path) in msg and 'weights_only' not in msg, (name, msg)
        assert 'Cannot read' in msg, (name, msg)
    # the genuine file itself loads
    torch.testing.assert_close(safe_load(str(genuine))['state_dict']['w'],
                               torch.arange(1000.))


def test_torchscript_archive_refused(tmp_path):
    path = str(tmp_path / 'scripted.pt')
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), path)
    assert 'TorchScript' in _refused(path)


def test_missing_file():
    from mmedge.utils.checkpoint import safe_load
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        safe_load('/nonexistent/nowhere.pth')


def test_force_weights_only_env(tmp_path, monkeypatch):
    """Under TORCH_FORCE_WEIGHTS_ONLY_LOAD torch allows no other unpickler: tensor files still
    load (torch's own loader), anything more gets mmedge's message naming the variable."""
    from mmengine.logging import HistoryBuffer

    from mmedge.utils.checkpoint import CheckpointRefused, safe_load
    plain = str(tmp_path / 'plain.pth')
    torch.save({'state_dict': {'w': torch.ones(2)}}, plain)
    rich = str(tmp_path / 'rich.pth')
    torch.save({'message_hub': HistoryBuffer([1.], [1])}, rich)
    monkeypatch.setenv('TORCH_FORCE_WEIGHTS_ONLY_LOAD', '1')
    assert torch.equal(safe_load(plain)['state_dict']['w'], torch.ones(2))
    with pytest.raises(CheckpointRefused, match='TORCH_FORCE_WEIGHTS_ONLY_LOAD') as info:
        safe_load(rich)
    assert 'weights_only=False' not in str(info.value)


# --------------------------------------------------------------------------------------------
# genuine data round-trips exactly
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('fmt', hc.FORMATS)
def test_genuine_objects_round_trip(tmp_path, fmt):
    import argparse
    from collections import Counter, OrderedDict

    import numpy as np
    from mmengine.logging import HistoryBuffer

    from mmedge.utils.checkpoint import safe_load
    buf = HistoryBuffer()
    for v in (1., 2., 6.):
        buf.update(v)
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    obj = {
        'state_dict': module.state_dict(),
        'view': torch.arange(12.).reshape(3, 4)[:, 1:],
        'param': torch.nn.Parameter(torch.ones(3)),
        'half': torch.ones(2, dtype=torch.bfloat16),
        'arrays': [np.arange(6, dtype=np.int32).reshape(2, 3),
                   np.asfortranarray(np.ones((2, 3))), np.array([True, False]),
                   np.zeros((0, 4), np.float16), np.array([1, 2], dtype='>u2')],
        'scalars': (np.float64(0.5), np.int64(-7), np.bool_(True), np.float32(2.5)),
        'dtype': np.dtype('<f4'),
        'buffer': buf,
        'args': argparse.Namespace(lr=0.1, model='edgenext_small', epochs=300),
        'no_args': argparse.Namespace(),  # pickled without BUILD
        'plain': OrderedDict(a=[1, 2.5, None, True, 'x', b'raw', b''], s={1, 2}),
        'milestones': Counter({9: 1, 11: 1}),  # MultiStepLR's state
    }
    path = str(tmp_path / f'ok_{fmt}.pth')
    torch.save(obj, path, _use_new_zipfile_serialization=fmt == 'zip')
    out = safe_load(path)
    assert out['state_dict'].keys() == obj['state_dict'].keys()
    assert out['state_dict']._metadata == obj['state_dict']._metadata
    for k, v in obj['state_dict'].items():
        assert torch.equal(out['state_dict'][k], v)
    assert torch.equal(out['view'], obj['view'])
    assert type(out['param']) is torch.nn.Parameter and out['param'].requires_grad
    assert out['half'].dtype == torch.bfloat16
    for a, b in zip(out['arrays'], obj['arrays']):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        assert a.flags.f_contiguous == b.flags.f_contiguous and a.flags.writeable
    for a, b in zip(out['scalars'], obj['scalars']):
        assert type(a) is type(b) and a == b
    assert out['dtype'] == obj['dtype']
    assert out['buffer'].statistics('mean') == 3. and out['buffer'].current() == 6.
    assert np.array_equal(out['buffer']._count_history, buf._count_history)
    assert vars(out['args']) == vars(obj['args'])
    assert type(out['no_args']) is argparse.Namespace and not vars(out['no_args'])
    assert out['plain'] == obj['plain']
    assert type(out['milestones']) is Counter and out['milestones'] == obj['milestones']


def test_pickle_protocols_3_and_4(tmp_path):
    import numpy as np
    from mmengine.logging import HistoryBuffer

    from mmedge.utils.checkpoint import safe_load
    for proto in (3, 4):
        path = str(tmp_path / f'p{proto}.pth')
        torch.save({'w': torch.ones(2), 'h': HistoryBuffer([1.], [1]),
                    'a': np.ones(3)}, path, pickle_protocol=proto)
        out = safe_load(path)
        assert out['h'].statistics('mean') == 1. and out['a'].sum() == 3.


def test_refusal_is_an_unpickling_and_runtime_error(tmp_path):
    path = _write(tmp_path, 'sys', hc.payload('os_system'), 'zip')
    from mmedge.utils.checkpoint import safe_load
    with pytest.raises(pickle.UnpicklingError):
        safe_load(path)
    with pytest.raises(RuntimeError):
        safe_load(path)
