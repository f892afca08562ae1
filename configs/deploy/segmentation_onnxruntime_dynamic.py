# mmdeploy 1.3.1 deploy config: mmseg segmentor -> ONNX Runtime (label map, argmax in the
# graph), dynamic batch / H / W. The same settings as mmdeploy's
# configs/mmseg/segmentation_onnxruntime_dynamic.py (not in the pip package), `optimize=False`
# (the pip wheel has no TorchScript optimiser extension).
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    output_names=['output'],
    input_shape=None,
    optimize=False,
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch', 2: 'height', 3: 'width'}))
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
backend_config = dict(type='onnxruntime')
