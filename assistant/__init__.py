"""assist: a self-hosted code assistant over Ollama.

Data flows one way: files -> index -> pack -> prompt -> model -> front end.
The core package knows nothing of editors; ``lsp`` and the VS Code extension are thin layers over it.
"""

__version__ = "0.1.0"
