"""The ``cidery`` command line."""
