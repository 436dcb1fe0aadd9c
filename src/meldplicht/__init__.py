"""meldplicht: the Dutch employer notification duty for people under temporary protection."""

__version__ = "0.1.0"
