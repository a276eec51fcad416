"""The built-in tasks; importing this package registers them in :data:`.base.TASKS`."""

from . import classification, extractive_qa, generation, sequence_labeling, tabular  # noqa: F401
