"""mmedge as an OpenMMLab package: its configs, its metafiles and ``mmedge::`` config paths.

* :func:`register_mim_package` adds mmedge to mmengine's ``MODULE2PACKAGE`` table, which is what
  lets a config say ``_base_ = 'mmedge::edgenext/ssdlite_edgenext_s_coco.py'`` (mmengine 0.10.7
  refuses ``pkg::`` for any package outside that table). ``import mmedge`` calls it, so it holds
  in every process that imported mmedge before parsing the config (see the README, "Using mmedge
  configs from your project").
* :func:`add_task_scope_fallback` lets the ``mmedge`` registry scope resolve the task package's
  types: mmengine builds every dict of an inherited ``mmedge::`` config in the ``mmedge`` scope
  (``_scope_='mmedge'``), and our configs are mmdet / mmseg / mmpretrain configs (``type='SSD'``,
  ``'NumClassCheckHook'``, ``'ImageClassifier'``, ...).
* :func:`config_root` / :func:`find_config` / :func:`list_configs` locate the configs in a
  checkout (``configs/``) or in an installed package (``mmedge/.mim/configs``, put there by
  ``setup.py``).
* :func:`load_models` reads ``model-index.yml`` and the per-family ``metafile.yml`` files it
  imports: the single source of the papers' numbers (params, FLOPs, reported metrics) that the
  zoo tables, the docs and the tests use.
"""
import glob
import os.path as osp

PACKAGE_DIR = osp.dirname(osp.dirname(osp.abspath(__file__)))  # .../mmedge
SCOPE = 'mmedge'


def register_mim_package():
    """Let mmengine resolve ``mmedge::folder/config.py`` and build what it inherits (idempotent).

    mmengine reads ``MODULE2PACKAGE`` (module name -> pip package name) when it parses a
    ``pkg::`` path and then looks for ``<get_installed_path(package)>/.mim/model-index.yml`` and
    ``.mim/configs/<folder>/<config>.py``; see :func:`add_task_scope_fallback` for the build.

    The entry is ``'mmedge.registry'``, a module, not the pip name: no distribution has that
    name, so mmengine's ``get_installed_path`` falls back to ``find_spec``, i.e. the folder of the
    mmedge that is imported. With ``'mmedge'`` it would ask pkg_resources for the distribution's
    location, which for a PEP 660 editable install (``pip install -e .`` with setuptools >= 64)
    is site-packages, where there is no ``mmedge/.mim``.
    """
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE.setdefault(SCOPE, f'{SCOPE}.registry')
    add_task_scope_fallback()


def _task_registry(registry):
    """The registry of the scope the run is in (the innermost default scope that is not
    ``mmedge``: the runner's ``default_scope``), in ``registry``'s tree, or None."""
    from importlib import import_module

    from mmengine.registry import DefaultScope

    # DefaultScope keeps its instances in creation order; a build with `_scope_='mmedge'` pushes
    # a temporary one on top of the runner's (mmengine 0.10 `overwrite_default_scope`).
    for instance in reversed(list(DefaultScope._instance_dict.values())):
        if instance.scope_name != SCOPE:
            name = instance.scope_name
            break
    else:
        return None
    try:
        import_module(f'{name}.registry')
    except ImportError:
        pass
    task = registry._get_root_registry()._search_child(name)
    return None if task is None or task is registry else task


def _task_scoped(registry):
    own_get = registry.get

    def get(key):
        scope, name = registry.split_scope_key(key)
        if scope is not None:  # 'mmdet.X', 'mmedge.X': as mmengine resolves them
            return own_get(key)
        # mmedge's own type, else the task package's, else mmengine's (the order a task
        # package's registry uses: its own, then its parents)
        obj = own_get(f'{SCOPE}.{name}')
        if obj is None:
            task = _task_registry(registry)
            obj = task.get(name) if task is not None else None
        return obj if obj is not None else own_get(name)

    get.task_scoped = True
    return get


def add_task_scope_fallback():
    """Give every mmengine root registry an ``mmedge`` child whose unscoped lookups fall back to
    the task package of the run (idempotent).

    mmengine gives every dict with ``type`` of an inherited ``mmedge::`` config ``_scope_='mmedge'``
    and builds it with mmedge's registries (a child of each mmengine root registry). mmedge's
    configs are mmdet / mmseg / mmpretrain configs, so an unscoped type that mmedge does not
    define (``SSD``, ``VOCDataset``, ``NumClassCheckHook``, ``ImageClassifier``, also those built
    inside them while the scope is ``mmedge``) is looked up in the registry of the run's default
    scope (the config's ``default_scope``), then in mmengine's. Without a default scope (a bare
    ``MODELS.build``) only mmedge's and mmengine's types resolve, as before.
    """
    import mmengine.registry as mmengine_registry
    from mmengine.registry import Registry

    import mmedge.registry  # noqa: F401  (mmedge's own children first)
    for root in vars(mmengine_registry).values():
        if not isinstance(root, Registry) or root.parent is not None:
            continue
        child = root._children.get(SCOPE)
        if child is None:
            # a location, or mmengine (mmedge being in MODULE2PACKAGE) would call the
            # `mmedge.utils.register_all_modules` of OpenMMLab 2.0 packages
            child = Registry(root.name, parent=root, scope=SCOPE, locations=['mmedge.registry'])
        if not getattr(child.get, 'task_scoped', False):
            child.get = _task_scoped(child)


def mim_root():
    """The folder that holds ``configs/``, ``tools/`` and ``model-index.yml``.

    A checkout (the repository root beside the ``mmedge`` package) wins over the package's
    ``.mim`` folder, so that editing a config in a clone takes effect even when a wheel build
    left copies in ``mmedge/.mim``.
    """
    checkout = osp.dirname(PACKAGE_DIR)
    if osp.isfile(osp.join(checkout, 'model-index.yml')) and osp.isdir(
            osp.join(checkout, 'configs')):
        return checkout
    installed = osp.join(PACKAGE_DIR, '.mim')
    if osp.isfile(osp.join(installed, 'model-index.yml')):
        return installed
    raise FileNotFoundError(
        f'mmedge has no configs here: neither {checkout}/model-index.yml (a clone) nor '
        f'{installed}/model-index.yml (an installed package). Reinstall mmedge from a clone '
        '(`pip install .` or `pip install -e .`) or from its wheel; both put configs, tools '
        'and model-index.yml under mmedge/.mim.')


def config_root():
    """The ``configs`` folder (one sub-folder per family, ``_base_`` and ``toy``)."""
    return osp.join(mim_root(), 'configs')


def list_configs(include_toy=True):
    """Every config file (``_base_`` excluded), sorted by file name."""
    paths = [
        p for p in glob.glob(osp.join(config_root(), '*', '*.py'))
        if osp.basename(osp.dirname(p)) != '_base_'
    ]
    if not include_toy:
        paths = [p for p in paths if not _stem(p).startswith('toy_')]
    return sorted(paths, key=_stem)


def _stem(path):
    return osp.splitext(osp.basename(path))[0]


def find_config(name):
    """The path of a config given as a path, ``folder/file.py``, ``mmedge::folder/file.py``
    or a bare name (``ssdlite_edgenext_s_coco`` or ``ssdlite_edgenext_s_coco.py``)."""
    if osp.isfile(name):
        return osp.abspath(name)
    rel = name.split('::', 1)[1] if name.startswith(SCOPE + '::') else name
    root = config_root()
    for candidate in (rel, rel[len('configs/'):] if rel.startswith('configs/') else None):
        if candidate and osp.isfile(osp.join(root, candidate)):
            return osp.join(root, candidate)
    stem = _stem(rel)
    hits = [p for p in list_configs() if _stem(p) == stem]
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise FileNotFoundError(
            f'no mmedge config named {name!r} under {root} (one folder per family: '
            f'{", ".join(sorted(_folders(root)))}); `mim search mmedge` lists them all')
    raise FileNotFoundError(f'{name!r} is ambiguous: {hits}; give the folder too')


def _folders(root):
    return {osp.basename(osp.dirname(p)) for p in glob.glob(osp.join(root, '*', '*.py'))}


def load_model_index(root=None):
    """``{'Collections': [...], 'Models': [...]}`` of every metafile ``model-index.yml``
    imports, each model with its ``Collection`` (the dict of its ``In Collection``).

    ``root``: the folder of ``model-index.yml`` (default :func:`mim_root`)."""
    from mmengine.fileio import load
    root = root or mim_root()
    index = load(osp.join(root, 'model-index.yml'))
    collections, models = [], []
    for rel in index['Import']:
        meta = load(osp.join(root, rel))
        by_name = {c['Name']: c for c in meta.get('Collections', [])}
        collections.extend(by_name.values())
        for model in meta.get('Models', []):
            model = dict(model)
            model['Collection'] = by_name.get(model.get('In Collection'))
            models.append(model)
    return dict(Collections=collections, Models=models)


def load_models(root=None):
    """``config stem -> Model entry`` of the metafiles (see :func:`load_model_index`)."""
    out = {}
    for model in load_model_index(root)['Models']:
        stem = _stem(model['Config'])
        if stem in out:
            raise ValueError(f'two metafile models use the config {model["Config"]}')
        out[stem] = model
    return out


def paper_numbers(model):
    """What the paper reports for a metafile ``Model`` entry (None where it gives nothing):
    ``source`` (paper and table), ``params`` (M), ``flops`` (G) and ``metrics``
    (e.g. ``{'box AP': 27.9}``, ``{'mIoU': 80.2}``, ``{'Top 1 Accuracy': 79.4}``)."""
    meta = model.get('Metadata') or {}
    metrics = {}
    for result in model.get('Results') or []:
        metrics.update(result.get('Metrics') or {})
    return dict(
        source=meta.get('Paper Source'),
        params=meta.get('Paper Parameters (M)'),
        flops=meta.get('Paper FLOPs (G)'),
        metrics=metrics)


def paper_table(root=None):
    """``config stem -> paper_numbers(...)`` for the metafile models with a paper source."""
    out = {}
    for stem, model in load_models(root).items():
        numbers = paper_numbers(model)
        if numbers['source']:
            out[stem] = numbers
    return out
