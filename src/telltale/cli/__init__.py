"""The ``telltale`` command line."""
