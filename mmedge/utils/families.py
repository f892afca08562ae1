"""The one list of backbone families, read from the registry (nothing here is kept by hand).

A *family* is a :class:`~mmedge.models.backbones.BaseEdgeBackbone` subclass registered in
:data:`mmedge.registry.MODELS` with a non-empty ``arch_settings``; its name is the registered name
in lower case (``EdgeNeXt`` -> ``edgenext``, ``EfficientViTPaper`` -> ``efficientvitpaper``), its
variants are the keys of ``arch_settings`` in their order (smallest first), and its converter is
``CONVERTERS[cls.converter]``.  The benchmark / export / latency tools, ``convert_official.py`` and
the test matrices all read this list, so a new family file appears in all of them.
"""
from typing import Callable, Dict, Iterable, List, NamedTuple, Optional, Tuple

__all__ = ['Family', 'families', 'get_family', 'resolve_variant', 'variants',
           'smallest_variants', 'converter_families', 'get_converter']


class Family(NamedTuple):
    """One backbone family."""
    name: str  #: ``'edgenext'``
    type_name: str  #: the registered name, ``type='mmedge.<type_name>'``
    cls: type  #: the backbone class
    archs: Tuple[str, ...]  #: ``arch_settings`` keys, in order (the first is the smallest)
    converter: Optional[str]  #: key of :data:`mmedge.converters.CONVERTERS`, or None

    @property
    def smallest(self) -> str:
        return self.archs[0]

    def has_arch(self, arch: str) -> bool:
        key = arch.lower()
        return key in self.cls.arch_settings or key in self.cls.arch_aliases

    def build(self, arch: str, **kwargs):
        return self.cls(arch=arch, **kwargs)


def families() -> Dict[str, Family]:
    """``{name: Family}`` of every registered backbone family, sorted by name."""
    import mmedge.models.backbones  # noqa: F401  (registers the in-tree families)
    from mmedge.models.backbones.base import BaseEdgeBackbone
    from mmedge.registry import MODELS
    found = {}
    for key, obj in MODELS.module_dict.items():
        if not (isinstance(obj, type) and issubclass(obj, BaseEdgeBackbone)
                and obj.arch_settings):
            continue
        name = key.lower()
        if name in found:
            raise RuntimeError(
                f'two backbones registered as {found[name].type_name!r} and '
                f'{key!r} give the same family name {name!r}; rename one')
        found[name] = Family(name, key, obj, tuple(obj.arch_settings),
                             obj.converter)
    return dict(sorted(found.items()))


def get_family(name: str) -> Family:
    """The family called ``name`` (case-insensitive; the registered name works too)."""
    fams = families()
    fam = fams.get(str(name).lower())
    if fam is None:
        raise ValueError(f'unknown backbone family {name!r}; the registered '
                         f'families are {sorted(fams)}')
    return fam


def resolve_variant(family: str, arch: str) -> Tuple[Family, str]:
    """``(Family, arch)`` for ``family``/``arch`` as typed on a command line (``edgenext``, ``small``).

    A family name also reaches the variants of the families whose names extend it when it has no
    such variant itself (``efficientvit:base`` is ``efficientvitpaper:base``, the paper's model).
    """
    fams = families()
    fam = get_family(family)
    if fam.has_arch(arch):
        return fam, arch
    others = [f for n, f in fams.items()
              if n != fam.name and n.startswith(fam.name) and f.has_arch(arch)]
    if len(others) == 1:
        return others[0], arch
    owners = sorted(f'{n}:{arch}' for n, f in fams.items() if f.has_arch(arch))
    raise ValueError(
        f'{fam.type_name} has no variant {arch!r}; its variants are '
        f'{list(fam.archs)}' + (f' (did you mean {", ".join(owners)}?)'
                                if owners else ''))


def variants(selection: Iterable[str] = ('all', )) -> List[Tuple[str, Family, str]]:
    """``[(label, Family, arch)]`` for command-line items: ``all``, ``FAMILY`` or ``FAMILY:ARCH``.

    ``all`` is every variant of every family; ``FAMILY`` every variant of that family.
    """
    out = []
    for item in selection:
        if item == 'all':
            out += [(f'{f.name}:{a}', f, a) for f in families().values()
                    for a in f.archs]
            continue
        fam, _, arch = item.partition(':')
        if arch:
            family, arch = resolve_variant(fam, arch)
            out.append((item, family, arch))
        else:
            family = get_family(fam)
            out += [(f'{family.name}:{a}', family, a) for a in family.archs]
    return out


def smallest_variants() -> Dict[str, Tuple[str, str]]:
    """``{family: (registered name, smallest arch)}``: what the test matrices build."""
    return {n: (f.type_name, f.smallest) for n, f in families().items()}


def converter_families() -> Dict[str, Family]:
    """The families whose authors' checkpoints have a converter (``convert_official.py``'s choices)."""
    return {n: f for n, f in families().items() if f.converter is not None}


def get_converter(family: str) -> Callable:
    """The converter function of ``family`` (a family name or a converter key)."""
    from mmedge.converters import CONVERTERS
    fams = families()
    fam = fams.get(str(family).lower())
    key = fam.converter if fam is not None else family
    if key is None or key not in CONVERTERS:
        if fam is not None and key is not None:
            raise KeyError(
                f'{fam.type_name}.converter is {key!r}, but no converter is '
                f'registered under that key (registered: {sorted(CONVERTERS)}); '
                f'decorate the conversion function with '
                f'@register_converter({key!r})')
        raise ValueError(
            f'no converter for {family!r}; the families with one are '
            f'{sorted(converter_families())}')
    return CONVERTERS[key]
