"""synthprint: find the fingerprints that real training images leave in synthetic images.

Data flows one way: :mod:`synthprint.io` (layouts, decoding, writers) ->
:mod:`synthprint.features` (similarities, embeddings) -> :mod:`synthprint.membership` /
:mod:`synthprint.attribution` (methods) -> :mod:`synthprint.evaluation` (metrics,
cross-validation) -> :mod:`synthprint.report`. The command line (:mod:`synthprint.cli`) only
wires these together.
"""

__version__ = "0.1.0"

from synthprint.errors import SynthprintError

__all__ = ["SynthprintError", "__version__"]
