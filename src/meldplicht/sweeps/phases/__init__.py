"""The sweep's phases, each one module with one entry function taking the run's state."""
