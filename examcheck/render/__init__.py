"""Renderers: each takes a report-like object and returns or prints text.
They know nothing of grading."""
