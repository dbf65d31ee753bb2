"""Data that is not real: the demonstration cast and notifications (``seed_demo``) and
the million-notification simulator for the benchmarks (``seed_scale``, ``scale``)."""
