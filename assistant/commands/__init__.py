"""One module per ``assist`` sub-command.

Each module exposes ``register(subparsers)``, which adds its parser and sets ``func`` to a
``run(args) -> int`` function. Command modules import heavy libraries (ollama, tree-sitter, rich)
inside ``run`` so that ``assist --help`` and every editor or hook call start fast.
"""
