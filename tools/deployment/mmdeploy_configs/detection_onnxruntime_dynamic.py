# mmdeploy 1.3.1 deploy config: mmdet detector -> ONNX Runtime, dynamic batch / H / W, the
# settings of mmdeploy's configs/mmdet/detection/detection_onnxruntime_dynamic.py. The head's
# test_cfg (score_thr, nms, max_per_img) overrides post_processing, as in mmdeploy.
_base_ = './onnx_base.py'
onnx_config = dict(
    output_names=['dets', 'labels'],
    dynamic_axes=dict(
        input={0: 'batch', 2: 'height', 3: 'width'},
        dets={0: 'batch', 1: 'num_dets'},
        labels={0: 'batch', 1: 'num_dets'}))
codebase_config = dict(
    type='mmdet',
    task='ObjectDetection',
    model_type='end2end',
    post_processing=dict(
        score_threshold=0.05,
        confidence_threshold=0.005,
        iou_threshold=0.5,
        max_output_boxes_per_class=200,
        pre_top_k=5000,
        keep_top_k=100,
        background_label_id=-1))
