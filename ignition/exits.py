"""`ignition`'s exit codes, as Ignition's: 0 ok, 1 stage failed, 2 usage, 3 setup.
A module of their own so the command line can answer a bad flag without
loading the engine."""

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SETUP = 0, 1, 2, 3
