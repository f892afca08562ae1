"""INT8 static quantization (ONNX Runtime, QDQ) calibrated on the config's training images."""

import pytest
import torch
from conftest import needs_mmseg

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')

from test_onnx_deploy import _config, _spread_scores  # noqa: E402


@needs_mmseg
def test_int8_segmentor_close_to_fp32(tmp_path):
    from mmedge.utils.onnx_export import export_deployable
    from mmedge.utils.ort_eval import (CalibrationReader, OrtSession, build_model, evaluate,
                                       ort_predictor, quantize_int8)
    root = str(tmp_path / 'voc') + '/'
    cfg = _config('toy_deeplabv3_emo_1m_voc', root, (128, 128), num_val=3)
    torch.manual_seed(0)
    model = build_model(cfg)
    _spread_scores(model, (128, 128))
    fp32, int8 = str(tmp_path / 'fp32.onnx'), str(tmp_path / 'int8.onnx')
    export_deployable(model, fp32, (128, 128))
    calib = CalibrationReader(cfg, 2)
    # training images through the *test* pipeline and the data_preprocessor
    assert [a.shape for a in calib.arrays] == [(1, 3, 128, 128)] * 2
    assert abs(float(calib.arrays[0].mean())) < 3  # normalised, not raw pixels
    info = quantize_int8(fp32, int8, calib)
    assert info['per_channel'] and info['calibration_images'] == 2
    graph = onnx.load(int8).graph
    ops = [n.op_type for n in graph.node]
    convs = ops.count('Conv')
    assert convs > 0 and ops.count('QuantizeLinear') > 0
    # QDQ: every convolution reads a dequantized weight
    produced = {o: n.op_type for n in graph.node for o in n.output}
    weights = [n.input[1] for n in graph.node if n.op_type == 'Conv']
    assert all(produced.get(w) == 'DequantizeLinear' for w in weights)
    outs = {}
    for name, path in (('fp32', fp32), ('int8', int8)):
        got = []
        outs[name] = (evaluate(cfg, ort_predictor(cfg, OrtSession(path)), collect=got), got)
    same = sum(int((a.pred_sem_seg.data == b.pred_sem_seg.data).sum())
               for a, b in zip(outs['fp32'][1], outs['int8'][1]))
    total = sum(a.pred_sem_seg.data.numel() for a in outs['fp32'][1])
    # random weights (argmax near ties): 94 % measured before the backbones' shared stage loop
    # changed the order of the random draws, 89 % with this seed after it
    assert same / total >= 0.85, same / total
    assert abs(outs['fp32'][0]['mIoU'] - outs['int8'][0]['mIoU']) <= 5, outs


def test_calibration_needs_data():
    from mmedge.utils.ort_eval import CalibrationReader, quantize_int8
    with pytest.raises(ValueError, match='config'):
        CalibrationReader()
    with pytest.raises(ValueError, match='method'):
        quantize_int8('a.onnx', 'b.onnx', CalibrationReader.random([(8, 8)], 1), method='x')
