"""EHD G-Net: a trained G-Net embedded into binary arithmetic, with bit-packed inference and faults.

Grothendieck's identity turns every arcsine layer into a comparison of sign embeddings. For a layer
with folded weight rows w~_i (see :mod:`gnetlab.gnet.layers`) and a random G_l in R^{N x n}:

    data:     s = sign(G_l (x + b))                      in {-1, +1}^N  (one per input / patch)
    weights:  a_i = sign(G_l w~_i)                       in {-1, +1}^N  (stored as bits, m x N)
    output:   z^_i = (pi / (2N)) <s, a_i> = (pi / (2N)) (N - 2 Hamming(s, a_i))  ~  z_i

(exact in expectation for Gaussian G: E[z^_i] = arcsin(cos(x + b, w~_i)) up to the eps terms).
Activations act on z^: RASU gives relu(alpha z^) (real), TASU gives sign(alpha z^) (binary,
sign(0) = +1), ASU alpha z^. Convolutions use N random filters g_k shared by all positions:
s_k(pos) = sign(<g_k, patch(pos)>), z^_j(pos) = (pi/(2N)) sum_k s_k(pos) sign(<g_k, w~_j>).
*Cosine kernel (the distortion ablation).* A G-Net built with ``kernel="cosine"`` (plain cosine layers
and ReLU units, :mod:`gnetlab.gnet.layers`) has no arcsine to match: the same sign embeddings give
h_i = <s, a_i> / N -> (2/pi) arcsin(cos(x + b, w~_i)), not the cosine. ``embed_gnet(...,
cosine_estimate=...)`` chooses what each layer hands its activation (:class:`EHDLayer` ``estimate``):
``"uncompensated"`` (default) h_i itself, used as if it were the cosine, distorted at every N by up
to 0.21 (at |cos| = 0.77); ``"inverted"`` sin((pi/2) h_i), which tends to the cosine. The arcsine
layers need neither: their estimate (pi/2) h_i tends to exactly what the float layer computes.
The classifier embeds the last hidden vector and the class vectors c_j (columns of the output layer's
row-normalised W2 by default; ``class_vectors="raw"`` embeds the raw W2 columns as the official code
does) with its own G and predicts argmax_j <sign(G (x + b)), sign(G c_j)>, i.e. the class with the
smallest Hamming distance (ties: lowest class index).

Two inference paths compute exactly the same integers and hence the same predictions:

``path="packed"``  signs are packed 64 per uint64 word (:mod:`gnetlab.bits` convention: bit 1 = -1,
                   LSB first, padding cancels) and every <s, a_i> is an XOR-popcount product. When a
                   layer's input is +-1 (after a TASU layer) and G is Rademacher, the data side
                   <g_k, x> is an XOR-popcount product too: the network after the first layer is
                   binary end to end.
``path="float"``   the official code's simulation: +-1 values as float32 and BLAS products (exact
                   integers for N < 2^24).

With +-1 inputs the bias trick is applied algebraically, <g, x + b> = <g, x> + b sum(g) (sums over the
non-padded positions of a patch), and with Rademacher G the sign of that is decided by an exact
comparison of the integer <g, x> with a float32 threshold, in both paths. The real-valued projections
(the first layer, and every layer of a RASU network) with Rademacher G are decided on the exact real
value of <g, x + b> in both paths (:func:`gnetlab.ehd.fast.exact_projection_signs`): a float32
product (BLAS in the float path; one-bit tables or cache-sized BLAS blocks in the packed path) decides
every entry farther from 0 than a rigorous bound on its rounding error, the few others are re-summed in
float64 (exactly, with ``math.fsum``, if needed), so the signs do not depend on the summation order.
With Gaussian G they are the same float32 BLAS product in both paths.

Speed: the packed path stores weight embeddings in 1/32 of the memory of float32 +-1 and its
XOR-popcount products are several times faster than float32 BLAS. For dense TASU networks with
Rademacher G it is fused (:mod:`gnetlab.ehd.fast`): signs go from the integer products straight into
packed words, and small batches project the real inputs with byte tables on the packed G (1 bit per
entry of G instead of 32). See :func:`gnetlab.bench.bench_ehd` and :func:`gnetlab.bench.bench_conv_ehd`.

Hyperdimensions: one N per arcsine layer plus one for the classifier, either given (``hyperdim=``,
an int for all or a sequence) or from the paper's rule ``N_l = round_hyperdim(ratio_l * n_l)`` with
``n_l`` the official size (:func:`layer_sizes`: fan-in of a dense layer, *all* weights out*in*k^d of a
conv layer, as the official code's ``w.shape[1:].numel()`` on an unsqueezed weight, and the input size of
the classifier) and the official rounding to a multiple of 1000 (remainder > 100 rounds up).

Faults (:func:`gnetlab.bits.flip_signs`, :meth:`EHDGNet.with_weight_flips`, the ``data_flip`` arguments):

``"exact"``        exactly round(p * D) distinct positions of each stored embedding of length D.
``"replacement"``  the official code's model: int(p * D) positions drawn with replacement; a position
                   drawn several times is flipped once (PyTorch ``t[idx] *= -1`` writes, it does not
                   toggle), so a nominal p flips 1 - exp(-p) of the entries in expectation (39.3% at
                   p = 0.5).

Both act per row (each weight row's embedding, each input's or patch's data embedding). The paper's
evaluation protocol is :func:`evaluate_chunks`: contiguous test chunks, fresh G per chunk.

Modules: :mod:`~gnetlab.ehd.hyperdims` (N per layer), :mod:`~gnetlab.ehd.model` (the embedded network
and its inference), :mod:`~gnetlab.ehd.build` (:func:`embed_gnet`), :mod:`~gnetlab.ehd.sweeps` (the
chunked protocol), :mod:`~gnetlab.ehd.vectors` (the vectors each layer embeds, :func:`layer_vectors`),
:mod:`~gnetlab.ehd.training` (a layer-wise straight-through / BPDA forward, classifier fine-tuning on the EHD
network's own hidden representations) and :mod:`~gnetlab.ehd.aware` (training the float G-Net through its
EHD forward pass, and its committed checkpoints). Bit flips live in :mod:`gnetlab.bits`, chunks and summaries in
:mod:`gnetlab.protocol`, the benchmark in :mod:`gnetlab.bench`; the names are re-exported here.
"""


from __future__ import annotations

import warnings

from ..bits import FLIP_MODELS, flip_packed, flip_signs
from ..embed import EMBEDDINGS
from ..protocol import chunk_summary
from .build import CLASS_VECTORS, COSINE_ESTIMATES, embed_gnet
from .hyperdims import layer_sizes, resolve_hyperdims, round_hyperdim
from .model import ESTIMATES, PATHS, EHDGNet, EHDLayer
from .sweeps import evaluate_chunks, flip_sweep, hyperdim_sweep, sweep
from .vectors import layer_vectors

__all__ = [
    "EMBEDDINGS",
    "FLIP_MODELS",
    "PATHS",
    "CLASS_VECTORS",
    "COSINE_ESTIMATES",
    "ESTIMATES",
    "EHDLayer",
    "EHDGNet",
    "embed_gnet",
    "layer_vectors",
    "embed",
    "round_hyperdim",
    "layer_sizes",
    "resolve_hyperdims",
    "flip_signs",
    "flip_packed",
    "evaluate_chunks",
    "hyperdim_sweep",
    "flip_sweep",
    "sweep",
    "chunk_summary",
    "benchmark",
    "bench_main",
]


def embed(model, **kwargs) -> EHDGNet:
    """Deprecated name of :func:`embed_gnet` (it read like the module :mod:`gnetlab.embed`).

    Emits a ``PendingDeprecationWarning``; use :func:`embed_gnet`, which takes the same arguments.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    **kwargs
        As :func:`embed_gnet`.

    Returns
    -------
    EHDGNet
        The embedded network.
    """
    warnings.warn("gnetlab.ehd.embed is renamed gnetlab.ehd.embed_gnet (same arguments)",
                  PendingDeprecationWarning, stacklevel=2)
    return embed_gnet(model, **kwargs)


_MOVED = {"benchmark": ("gnetlab.bench", "bench_ehd"), "bench_main": ("gnetlab.bench", "ehd_main")}


def __getattr__(name):
    # The benchmark moved to gnetlab.bench (which imports this package, not the reverse).
    if name in _MOVED:
        import importlib

        module, new = _MOVED[name]
        warnings.warn(f"gnetlab.ehd.{name} moved to {module}.{new}", PendingDeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(module), new)
    raise AttributeError(f"module 'gnetlab.ehd' has no attribute {name!r}")
