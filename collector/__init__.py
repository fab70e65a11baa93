"""OTLP receivers: gRPC and HTTP in, column batches for the store out."""
