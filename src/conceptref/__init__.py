"""conceptref: small, checked reference implementations of deep-learning concepts.

Each module matches one concept page of the documentation and writes the textbook formula
out in NumPy (float64), so that a reader can compare every line with the page.
"""

__version__ = "0.1.0"
