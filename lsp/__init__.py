"""``assist-lsp``: the language server, a thin layer of handlers over the ``assistant`` core."""
