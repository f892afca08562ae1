"""The converter registry: ``CONVERTERS[key]``, filled by :func:`register_converter`."""
from typing import Callable, Dict

__all__ = ['CONVERTERS', 'register_converter']

#: ``{key: convert(state_dict, keep_head=False) -> state_dict}``; a backbone class names its key in
#: its ``converter`` attribute.
CONVERTERS: Dict[str, Callable] = {}


def register_converter(key: str) -> Callable[[Callable], Callable]:
    """Decorator: register ``fn`` as the converter of the authors' checkpoints named ``key``.

    Example::

        @register_converter('edgenext')
        def convert_edgenext(state_dict, keep_head=False): ...
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f'register_converter needs a non-empty str key, got {key!r}')

    def _register(fn: Callable) -> Callable:
        old = CONVERTERS.get(key)
        if old is not None and (old.__module__, old.__qualname__) != (
                fn.__module__, fn.__qualname__):
            raise KeyError(
                f'converter {key!r} is already registered by '
                f'{old.__module__}.{old.__qualname__}; pick another key for '
                f'{fn.__module__}.{fn.__qualname__}')
        CONVERTERS[key] = fn
        return fn

    return _register
