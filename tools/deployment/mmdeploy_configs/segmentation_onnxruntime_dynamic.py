# mmdeploy 1.3.1 deploy config: mmseg segmentor -> ONNX Runtime, label map (argmax in the
# graph), dynamic batch / H / W: the settings of mmdeploy's
# configs/mmseg/segmentation_onnxruntime_dynamic.py.
_base_ = './onnx_base.py'
onnx_config = dict(
    output_names=['output'],
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        output={0: 'batch', 2: 'height', 3: 'width'}))
codebase_config = dict(type='mmseg', task='Segmentation', with_argmax=True)
