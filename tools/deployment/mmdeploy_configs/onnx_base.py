# The ONNX export settings shared by the mmdeploy 1.3.1 deploy configs in this folder (mmdeploy's
# configs/_base_/onnx_config.py, which the pip package does not ship), with `optimize=False`:
# the pip wheel has no TorchScript optimiser extension.
onnx_config = dict(
    type='onnx',
    export_params=True,
    keep_initializers_as_inputs=False,
    opset_version=11,
    save_file='end2end.onnx',
    input_names=['input'],
    input_shape=None,
    optimize=False)
backend_config = dict(type='onnxruntime')
# mmedge's mmdeploy rewriters (mmseg's FPNHead upsampling by scale factor, so that dynamic-shape
# Semantic FPN graphs are right at every size): loading this config registers them
custom_imports = dict(imports=['mmedge.utils.mmdeploy_rewriters'], allow_failed_imports=False)
