"""OTLP/JSON captures of real agent frameworks, their expected sessions, and the analyzer's labels.

A package so that they install with stepseven: `stepseven demo` and `stepseven evaluate` find them
wherever they run (stepseven/samples.py). capture.py regenerates them from a checkout.
"""
