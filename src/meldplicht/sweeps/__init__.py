"""The nightly sweep: re-check everything as of a day and keep the flags true."""
