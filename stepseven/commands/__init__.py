"""The `stepseven` commands, one module each; `stepseven.cli` puts them in one group."""
