"""The reference data every other app reads: countries and their declared policies
(reply regime and period), competent authorities and their focal points, and the
substance catalogue (Tables I and II)."""
