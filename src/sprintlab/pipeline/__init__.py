"""Pipeline stages, one module per DVC stage: read inputs, call pure library code, write outputs atomically.

``pipelines/*.py`` (the DVC entry points) and the ``sprintlab`` CLI call these; each takes the
validated :class:`sprintlab.config.Params` and explicit paths, so tests run them on temporary folders.
"""
