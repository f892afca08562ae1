from .toy import TOY_CLASSES, generate_toy_dataset

__all__ = ['TOY_CLASSES', 'generate_toy_dataset']
