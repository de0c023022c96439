"""Operations: Prometheus metrics (``GET /metrics``) and structured logs."""
