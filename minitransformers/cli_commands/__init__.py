"""Sub-commands of the ``minitransformers`` command line, one module each (see ``cli.py``)."""
