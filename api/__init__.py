"""The collector's read-only HTTP query API (port 4319) and its client."""
