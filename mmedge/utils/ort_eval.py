"""Evaluate and quantize exported detectors / segmentors with ONNX Runtime and the config's parts.

Everything runs through the config: its test dataset and test pipeline (pre-processing), its
``data_preprocessor`` (normalisation, padding), its ``test_evaluator`` (mmdet's ``CocoMetric`` /
mmseg's ``IoUMetric``, ...). :func:`evaluate` runs one loop over the test set for any predictor,
so that PyTorch (``model.test_step``) and ONNX Runtime are scored by the same code;
:class:`CalibrationReader` feeds ``onnxruntime.quantization.quantize_static`` with training
images passed through the test pipeline (the inputs the model sees when deployed).
"""
import contextlib
import copy
import os.path as osp
import time
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import numpy as np
import torch

__all__ = ['toy_config', 'OrtSession', 'evaluate', 'evaluate_onnx', 'ort_predictor',
           'pytorch_predictor', 'build_model', 'det_samples', 'seg_samples',
           'CalibrationReader', 'quantize_int8', 'load_config']


def load_config(config, cfg_options: Optional[dict] = None):
    """``Config.fromfile`` (or a Config as is) with overrides; generates its toy data if absent."""
    from mmengine.config import Config

    from mmedge.utils.data_check import prepare_toy_data
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    prepare_toy_data(cfg)
    return cfg


def _replace_resize(pipeline, scale):
    """The pipeline with its Resize scale set, and label maps read as they are (the toy VOC
    layout has no 'other' class 0 to drop, unlike ADE20K's ``reduce_zero_label``)."""
    for step in pipeline:
        if step.get('type') == 'Resize' and scale is not None:
            step['scale'] = tuple(scale)
        step.pop('reduce_zero_label', None)
        if 'transforms' in step:
            _replace_resize(step['transforms'], scale)
    return pipeline


def _set_num_classes(model_cfg, num_classes: int) -> None:
    for key in ('bbox_head', 'decode_head', 'auxiliary_head'):
        heads = model_cfg.get(key)
        for head in (heads if isinstance(heads, list) else [heads]):
            if head is not None and 'num_classes' in head:
                head['num_classes'] = num_classes


def toy_config(config, scale: Optional[Sequence[int]] = None, root: Optional[str] = None,
               num_train: int = 48, num_val: int = 32):
    """Any mmdet / mmseg config retargeted to the generated toy data (model and test pipeline
    kept; classes, datasets and evaluator replaced): COCO layout for detectors (3 classes,
    ``CocoMetric``), VOC-2012 segmentation layout for segmentors (background + 3, ``IoUMetric``).
    ``scale``: the test ``Resize`` scale (w, h), e.g. (320, 320) instead of COCO's 1333 x 800.
    """
    from mmengine.config import Config

    from mmedge.datasets.toy import PALETTE, TOY_CLASSES
    cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
    task = _task(cfg)
    test_ds = _leaf_dataset_cfg(cfg.test_dataloader.dataset)
    train_ds = _leaf_dataset_cfg(cfg.train_dataloader.dataset)
    test_pipeline = _replace_resize(copy.deepcopy(test_ds['pipeline']), scale)
    if task == 'mmdet':
        root = root or 'data/toy_coco/'
        classes, palette, fmt = TOY_CLASSES, PALETTE, 'coco'
        metainfo = dict(classes=classes, palette=palette)
        common = dict(type='CocoDataset', data_root=root, metainfo=metainfo)
        train = dict(common, ann_file='annotations/instances_train2017.json',
                     data_prefix=dict(img='train2017/'), pipeline=train_ds['pipeline'],
                     filter_cfg=dict(filter_empty_gt=True, min_size=4))
        test = dict(common, ann_file='annotations/instances_val2017.json',
                    data_prefix=dict(img='val2017/'), test_mode=True, pipeline=test_pipeline)
        evaluator = dict(type='CocoMetric', ann_file=root + 'annotations/instances_val2017.json',
                         metric='bbox', format_only=False)
        num_classes = len(classes)
    else:
        root = root or 'data/toy_voc/'
        classes = ('background', ) + TOY_CLASSES
        metainfo = dict(classes=classes, palette=[(0, 0, 0)] + PALETTE)
        fmt = 'voc'
        common = dict(type='BaseSegDataset', data_root=root + 'VOCdevkit/VOC2012/',
                      metainfo=metainfo, img_suffix='.jpg', seg_map_suffix='.png',
                      data_prefix=dict(img_path='JPEGImages',
                                       seg_map_path='SegmentationClass'))
        train = dict(common, ann_file='ImageSets/Segmentation/train.txt',
                     pipeline=_replace_resize(copy.deepcopy(train_ds['pipeline']), None))
        test = dict(common, ann_file='ImageSets/Segmentation/val.txt', pipeline=test_pipeline)
        evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
        num_classes = len(classes)
    cfg.toy_data = dict(format=fmt, root=root, num_train=num_train, num_val=num_val,
                        img_size=(256, 256))
    cfg.train_dataloader = dict(
        batch_size=8, num_workers=0, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=True), dataset=train)
    loader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                  sampler=dict(type='DefaultSampler', shuffle=False), dataset=test)
    cfg.val_dataloader = cfg.test_dataloader = loader
    # mmdeploy builds its export input from the top-level ``test_pipeline``, not the loader's
    cfg.test_pipeline = copy.deepcopy(test_pipeline)
    cfg.val_evaluator = cfg.test_evaluator = evaluator
    _set_num_classes(cfg.model, num_classes)
    if cfg.model.get('backbone', {}).get('init_cfg'):
        cfg.model.backbone.init_cfg = None  # no ImageNet weights offline
    return cfg


@contextlib.contextmanager
def _scope(cfg):
    """The config's default scope for building (restored afterwards)."""
    import mmedge  # noqa: F401  (registers mmedge.* and the checkpoint allow-list)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmengine')):
        yield


def _registry(cfg, name: str):
    import importlib
    return getattr(importlib.import_module(f"{cfg.get('default_scope')}.registry"), name)


class OrtSession:
    """An ``onnxruntime.InferenceSession`` on CPU with fixed threads; ``sess(x) -> list``."""

    def __init__(self, path: str, threads: int = 1) -> None:
        import onnxruntime as ort
        if not osp.isfile(path):
            raise FileNotFoundError(f'ONNX model {path!r} not found; export one with '
                                    'tools/deployment/export_onnx.py --config CONFIG OUT.onnx')
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3
        self.sess = ort.InferenceSession(path, opts, providers=['CPUExecutionProvider'])
        self.input_name = self.sess.get_inputs()[0].name
        self.output_names = [o.name for o in self.sess.get_outputs()]

    def __call__(self, inputs: np.ndarray) -> List[np.ndarray]:
        return self.sess.run(None, {self.input_name: np.ascontiguousarray(inputs, np.float32)})


def build_model(cfg, checkpoint: Optional[str] = None, deploy: bool = False):
    """The config's model (eval mode, SyncBN reverted, no pretrained download) + weights."""
    from mmengine.model import revert_sync_batchnorm

    from mmedge.utils.benchmark import _quiet_init_weights
    MODELS = _registry(cfg, 'MODELS')
    model_cfg = copy.deepcopy(cfg.model)
    if model_cfg.get('backbone', {}).get('init_cfg'):
        model_cfg['backbone']['init_cfg'] = None
    with _scope(cfg):
        model = revert_sync_batchnorm(MODELS.build(model_cfg))
        _quiet_init_weights(model)
        if checkpoint:
            from mmengine.runner import load_checkpoint
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True,
                            logger='silent')
    if deploy and hasattr(model.backbone, 'switch_to_deploy'):
        model.backbone.switch_to_deploy()
    return model.eval()


def _leaf_dataset_cfg(ds):
    while 'dataset' in ds or 'datasets' in ds:
        ds = ds['dataset'] if 'dataset' in ds else ds['datasets'][0]
    return ds


def _task(cfg) -> str:
    scope = cfg.get('default_scope')
    if scope not in ('mmdet', 'mmseg'):
        raise ValueError(f'default_scope {scope!r}: test_onnx / quantization handle mmdet '
                         'detectors and mmseg segmentors')
    return scope


def pytorch_predictor(model) -> Callable:
    """``predict(data_batch) -> data_samples`` with the model's own ``test_step``."""

    def predict(batch):
        with torch.no_grad():
            return model.test_step(batch)

    return predict


def det_samples(outputs, data_samples):
    from mmengine.structures import InstanceData
    boxes, scores, labels = outputs
    for i, ds in enumerate(data_samples):
        keep = labels[i] >= 0
        b = torch.from_numpy(boxes[i][keep]).float()
        sf = ds.metainfo.get('scale_factor', (1., 1.))
        b = b / b.new_tensor(sf).repeat(2)
        ds.pred_instances = InstanceData(
            bboxes=b, scores=torch.from_numpy(scores[i][keep]).float(),
            labels=torch.from_numpy(labels[i][keep]).long())
    return data_samples


def seg_samples(outputs, data_samples):
    import torch.nn.functional as F
    from mmengine.structures import PixelData
    label = torch.from_numpy(outputs[0])
    for i, ds in enumerate(data_samples):
        seg = label[i]
        meta = ds.metainfo
        if 'padding_size' in meta:  # (left, right, top, bottom), as mmseg's postprocess crops
            left, right, top, bottom = meta['padding_size']
            seg = seg[top:seg.shape[0] - bottom, left:seg.shape[1] - right]
        else:
            h, w = meta.get('img_shape', seg.shape)[:2]
            seg = seg[:h, :w]
        ori = tuple(meta.get('ori_shape', seg.shape))[:2]
        if tuple(seg.shape) != ori:  # a label map is resized nearest (mmseg: logits, bilinear)
            seg = F.interpolate(seg[None, None].float(), size=ori, mode='nearest')[0, 0].long()
        ds.pred_sem_seg = PixelData(data=seg[None])
    return data_samples


def ort_predictor(cfg, session: OrtSession,
                  adapt: Optional[Callable] = None) -> Callable:
    """``predict(data_batch) -> data_samples``: the config's data_preprocessor, the ONNX model,
    then boxes rescaled to the original image / the label map cropped to it. ``adapt`` maps
    another exporter's outputs to ours (``[boxes, scores, labels]`` / ``[label]``)."""
    task = _task(cfg)
    MODELS = _registry(cfg, 'MODELS')
    with _scope(cfg):
        preprocessor = MODELS.build(copy.deepcopy(cfg.model.data_preprocessor))
    to_samples = det_samples if task == 'mmdet' else seg_samples

    def predict(batch):
        with torch.no_grad():
            data = preprocessor(batch, False)
        outputs = session(data['inputs'].numpy())
        if adapt is not None:
            outputs = adapt(outputs)
        return to_samples(outputs, data['data_samples'])

    return predict


def _build_dataset(cfg, ds_cfg):
    with _scope(cfg):
        return _registry(cfg, 'DATASETS').build(ds_cfg)


def evaluate(cfg, predict: Callable, max_samples: Optional[int] = None,
             timing: Optional[Dict[str, list]] = None,
             collect: Optional[list] = None) -> Dict[str, float]:
    """Run ``predict`` over the config's test set one image at a time; the test_evaluator's
    metrics. ``timing`` (a dict) receives per-image seconds: ``pipeline`` (loading + test
    pipeline) and ``predict`` (pre-processing, model, post-processing); ``collect`` (a list)
    receives the predicted data samples."""
    from mmengine.dataset import pseudo_collate
    from mmengine.evaluator import Evaluator
    _task(cfg)
    dataset = _build_dataset(cfg, copy.deepcopy(cfg.test_dataloader.dataset))
    with _scope(cfg):
        evaluator = Evaluator(copy.deepcopy(cfg.test_evaluator))
    evaluator.dataset_meta = dataset.metainfo
    n = len(dataset) if max_samples is None else min(max_samples, len(dataset))
    if timing is not None:
        timing.setdefault('pipeline', [])
        timing.setdefault('predict', [])
    for i in range(n):
        t0 = time.perf_counter()
        batch = pseudo_collate([dataset[i]])
        t1 = time.perf_counter()
        samples = predict(batch)
        t2 = time.perf_counter()
        if timing is not None:
            timing['pipeline'].append(t1 - t0)
            timing['predict'].append(t2 - t1)
        if collect is not None:
            collect.extend(samples)
        evaluator.process(data_samples=samples, data_batch=batch)
    with _scope(cfg):
        return evaluator.evaluate(n)


def _median_ms(timing):
    import statistics
    return {k: 1e3 * statistics.median(v) for k, v in timing.items() if v}


def evaluate_onnx(config, onnx_path: str, checkpoint: Optional[str] = None,
                  deploy: bool = False, threads: int = 1, max_samples: Optional[int] = None,
                  cfg_options: Optional[dict] = None) -> dict:
    """Metrics of an exported model with ONNX Runtime on the config's test set and, given a
    checkpoint, of the PyTorch model in the same loop: ``{'onnxruntime': {...}, 'pytorch':
    {...}, 'difference': {...}, 'timing_ms': {...}}`` (median per-image pipeline / predict)."""
    cfg = load_config(config, cfg_options)
    torch.set_num_threads(threads)
    timing = {}
    session = OrtSession(onnx_path, threads=threads)
    result = dict(onnxruntime=evaluate(cfg, ort_predictor(cfg, session), max_samples, timing))
    result['timing_ms'] = dict(onnxruntime=_median_ms(timing))
    if checkpoint:
        model = build_model(cfg, checkpoint, deploy=deploy)
        timing = {}
        result['pytorch'] = evaluate(cfg, pytorch_predictor(model), max_samples, timing)
        result['timing_ms']['pytorch'] = _median_ms(timing)
        import numbers
        result['difference'] = {  # (mmseg's metrics are numpy float32)
            k: float(result['onnxruntime'][k]) - float(v)
            for k, v in result['pytorch'].items()
            if isinstance(v, (numbers.Real, np.floating)) and k in result['onnxruntime']}
    return result


# --------------------------------------------------------------------------------------------
# INT8 post-training static quantization
# --------------------------------------------------------------------------------------------
def _calibration_batches(cfg, num: int) -> Iterator[np.ndarray]:
    """``num`` training images (evenly spread over the set) through the test pipeline and the
    data_preprocessor, one (1, 3, H, W) float32 array each."""
    from mmengine.dataset import pseudo_collate
    MODELS = _registry(cfg, 'MODELS')
    ds_cfg = copy.deepcopy(_leaf_dataset_cfg(cfg.train_dataloader.dataset))
    ds_cfg['pipeline'] = copy.deepcopy(_leaf_dataset_cfg(cfg.test_dataloader.dataset)['pipeline'])
    dataset = _build_dataset(cfg, ds_cfg)
    with _scope(cfg):
        preprocessor = MODELS.build(copy.deepcopy(cfg.model.data_preprocessor))
    n = min(num, len(dataset))
    for i in np.linspace(0, len(dataset) - 1, n).round().astype(int):
        with torch.no_grad():
            data = preprocessor(pseudo_collate([dataset[int(i)]]), False)
        yield data['inputs'].numpy().astype(np.float32)


def _reader(arrays: Iterator[np.ndarray], input_name: str):
    from onnxruntime.quantization import CalibrationDataReader

    class _Reader(CalibrationDataReader):

        def __init__(self):
            self._it = iter(arrays)

        def get_next(self):
            arr = next(self._it, None)
            return None if arr is None else {input_name: arr}

    return _Reader()


class CalibrationReader:
    """Calibration inputs from the config's train set (test pipeline), or random arrays.

    ``CalibrationReader(cfg, num)`` or ``CalibrationReader.random(sizes, num)``; ``.reader(name)``
    gives the ``onnxruntime.quantization.CalibrationDataReader``.
    """

    def __init__(self, cfg=None, num: int = 32, arrays: Optional[Sequence[np.ndarray]] = None):
        if arrays is None:
            if cfg is None:
                raise ValueError('give a config or the calibration arrays')
            arrays = list(_calibration_batches(cfg, num))
        self.arrays = list(arrays)
        if not self.arrays:
            raise ValueError('no calibration images: the config\'s train set is empty')

    @classmethod
    def random(cls, sizes: Sequence[Sequence[int]], num: int = 8, seed: int = 0):
        """Standard-normal images (what the data_preprocessor's output looks like), for speed
        measurements only."""
        rng = np.random.default_rng(seed)
        arrays = [rng.standard_normal((1, 3, *sizes[i % len(sizes)])).astype(np.float32)
                  for i in range(num)]
        return cls(arrays=arrays)

    def reader(self, input_name: str = 'input'):
        return _reader(self.arrays, input_name)


def _has_vnni() -> bool:
    try:
        with open('/proc/cpuinfo') as f:
            flags = f.read()
    except OSError:
        return False
    return 'avx512_vnni' in flags or 'avx_vnni' in flags or 'amx' in flags


def quantize_int8(src: str, dst: str, calibration: CalibrationReader,
                  per_channel: bool = True,
                  op_types: Sequence[str] = ('Conv', 'MatMul', 'Gemm'),
                  method: str = 'minmax',
                  reduce_range: Optional[bool] = None,
                  preprocess: bool = True) -> Dict[str, object]:
    """INT8 post-training static quantization (QDQ format) with ONNX Runtime.

    Weights int8 (per output channel when ``per_channel``), activations uint8, calibrated on
    ``calibration`` (``method``: minmax / entropy / percentile). Only ``op_types`` are quantized:
    by default the convolutions and matrix products, which ONNX Runtime runs as int8 kernels;
    the box decoding, NMS, softmax and resize of the deployable graphs stay in float.
    ``reduce_range`` (7-bit weights) defaults to on for CPUs without VNNI, where int8 products
    can overflow the 16-bit accumulation of ``vpmaddubsw``.
    """
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    methods = dict(minmax=CalibrationMethod.MinMax, entropy=CalibrationMethod.Entropy,
                   percentile=CalibrationMethod.Percentile)
    if method not in methods:
        raise ValueError(f'method must be one of {sorted(methods)}, got {method!r}')
    if reduce_range is None:
        reduce_range = not _has_vnni()
    model_path = src
    prepped = None
    if preprocess:
        from onnxruntime.quantization.shape_inference import quant_pre_process
        prepped = dst + '.prep.onnx'
        try:
            quant_pre_process(src, prepped, skip_symbolic_shape=True)
            model_path = prepped
        except Exception:  # noqa: BLE001  optimisation is optional; quantize the original
            prepped = None
    input_name = onnx.load(model_path, load_external_data=False).graph.input[0].name
    try:
        quantize_static(
            model_path, dst, calibration.reader(input_name),
            quant_format=QuantFormat.QDQ,
            op_types_to_quantize=list(op_types),
            per_channel=per_channel,
            reduce_range=reduce_range,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=methods[method])
    finally:
        if prepped and osp.exists(prepped):
            import os
            os.remove(prepped)
    return dict(per_channel=per_channel, reduce_range=reduce_range, method=method,
                op_types=list(op_types), calibration_images=len(calibration.arrays))
