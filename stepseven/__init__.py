"""stepseven: a flight recorder for AI agents."""

__version__ = "0.1.0"
