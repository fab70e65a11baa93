"""Finds context rot, runaway loops and failed handoffs in stored sessions."""
