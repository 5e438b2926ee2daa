"""Export of a trained BinaryNet to packed bits, run on the popcount kernels with identical predictions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .._validation import as_array, check_choice
from .models import BinaryMLP, QuantLinear
from .quantizers import ClippedSteSign, SteSign, _sign

__all__ = ["PackedBinaryMLP", "export_binarynet"]


@dataclass
class PackedBinaryMLP:
    """A BinaryNet MLP as packed bits, running on the popcount kernels.

    Layer 0: real input x (centred to [-1, 1]) times sign weights -> float (``sign_weight_matmul``).
    Layers 1..: +-1 inputs and +-1 weights -> exact integer dot products (``binary_matmul``).
    Each BatchNorm + sign pair is folded into a per-unit comparison of the pre-activation with a
    threshold (direction given by the sign of the BN scale); the final BatchNorm is applied as an
    affine map to produce logits. Weight storage: 1 bit per weight plus 2 floats per unit.

    Parameters
    ----------
    first_weights : gnetlab.bits.PackedBits, shape (h0, d)
        sign(W0).
    hidden_weights : list of gnetlab.bits.PackedBits
        sign(W_l) of the later layers, shape (h_l, h_(l-1)).
    thresholds : list of tuple of ndarray
        Per hidden BatchNorm: ``(tau, flip)``, float64 and bool arrays of length h_l.
    out_scale, out_shift : ndarray, float64, shape (n_classes,)
        The final BatchNorm as an affine map.
    in_features : int
        d.
    """

    first_weights: object  # PackedBits of sign(W0), (h0, d)
    hidden_weights: list  # PackedBits per later layer
    thresholds: list  # per hidden BN: (tau, flip) float64/bool arrays of length h_l
    out_scale: np.ndarray
    out_shift: np.ndarray
    in_features: int
    _arrays: dict | None = field(default=None, init=False, repr=False, compare=False)

    def kernel_arrays(self) -> dict:
        """The model in the layouts of :func:`gnetlab.bnn.fast.pixel_forward` (built once, cached).

        ``w0``: sign(W0) as VPDPBUSD words (:func:`gnetlab.kernels.u8gemm.weight_layout`, 1 byte per
        weight: an unpacked working copy of the 1-bit first layer); ``thr0``: per unit the least
        ``p . sign(W0)`` whose ``(2 p . sign(W0) - 255 sum sign(W0)) / 255`` (float64) reaches the
        BatchNorm threshold; the later layers' packed words, each stored word-major ``(W, n)`` and
        concatenated (``hw``), with per layer ``meta`` rows (units, words, inputs, word offset,
        threshold offset) and the largest XOR popcount that still gives +1 (``hthr``). Every integer
        threshold gives the same decision as the float64 comparison of the exact product with ``tau``
        (:func:`gnetlab.bnn.fast.integer_thresholds`).

        Returns
        -------
        dict
            Arrays for the compiled forward pass.
        """
        if self._arrays is None:
            from ..bits import unpack_signs
            from ..kernels.u8gemm import weight_layout
            from .fast import integer_thresholds

            s0 = unpack_signs(self.first_weights).astype(np.int8)
            tau0, flip0 = self.thresholds[0]
            colterm = 255 * s0.sum(axis=1, dtype=np.int64)
            c = integer_thresholds(tau0, 255.0, 255 * s0.shape[1])  # least A = 2 acc - colterm with A/255 >= tau
            rest = list(self.thresholds[1:])
            meta, hw, hthr, woff, toff = [], [], [], 0, 0
            for i, W in enumerate(self.hidden_weights):
                words = np.ascontiguousarray(W.words, dtype=np.uint64)
                meta.append((words.shape[0], words.shape[1], W.k, woff, toff))
                hw.append(np.ascontiguousarray(words.T).ravel())
                woff += words.size
                if i < len(rest):
                    # dot = k - 2 s >= tau  <=>  dot >= C (least integer)  <=>  s <= floor((k - C) / 2)
                    C = integer_thresholds(rest[i][0], 1.0, W.k + 2)
                    hthr.append((W.k - C) // 2)
                    toff += rest[i][0].size
            self._arrays = dict(
                w0=weight_layout(s0), thr0=-((-(c + colterm)) // 2), flip0=np.ascontiguousarray(flip0, np.bool_),
                hw=np.concatenate(hw), meta=np.array(meta, np.int64).reshape(-1, 5),
                hthr=np.concatenate(hthr + [np.zeros(0, np.int64)]).astype(np.int64),
                hflip=np.concatenate([f for _, f in rest] + [np.zeros(0, bool)]).astype(np.bool_),
                scale=np.ascontiguousarray(self.out_scale, np.float64),
                shift=np.ascontiguousarray(self.out_shift, np.float64),
                max_words=int(max(-(-t.size // 64) for t, _ in self.thresholds)),
                max_units=int(max(W.words.shape[0] for W in self.hidden_weights)))
        return self._arrays

    def _fused(self) -> bool:
        from .fast import fused_path

        return fused_path() == "vnni"

    def decision_function(self, X, *, backend: str = "auto") -> np.ndarray:
        """Logits, float64 ``(B, n_classes)``.

        8-bit images (every value ``float32(p) / float32(255)``, p in 0..255, as :mod:`gnetlab.datasets`
        loads MNIST) with backend "auto" / "numba" where the CPU has AVX-512 VNNI
        (:func:`gnetlab.bnn.fast.fused_path`): the whole network in one compiled call
        (:func:`gnetlab.bnn.fast.pixel_forward`), its first layer exact in integers,
        ``(2x - 1) . sign(W0) = (2 p . sign(W0) - 255 sum sign(W0)) / 255``. Otherwise (other inputs, or
        backend "numpy" / "cupy", or no VNNI: the portable integer kernel is slower than this path):
        layer 0 multiplies the centred real inputs ``2x - 1`` (float32) by the packed sign(W0) with
        :func:`gnetlab.kernels.sign_weight_matmul` (one-bit weights, float32 sums); every folded
        BatchNorm + sign then writes its +-1 outputs straight into packed words
        (:func:`gnetlab.bnn.fast.pack_bn_sign`, a float64 comparison with the thresholds) for the next
        XOR-popcount product (:func:`gnetlab.kernels.binary_matmul`).

        Parameters
        ----------
        X : array_like, float, shape (B, in_features)
            Inputs in [0, 1].
        backend : str, default "auto"
            Kernel backend (:mod:`gnetlab.kernels`).

        Returns
        -------
        ndarray, float64, shape (B, n_classes)
            The logits (the final BatchNorm as an affine map).
        """
        from ..bits import PackedBits
        from ..kernels import binary_matmul, sign_weight_matmul
        from .fast import pack_bn_sign

        if (backend in ("auto", "numba") and self._fused() and type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 2
                and X.shape[0] and X.shape[1] == self.in_features and X.flags.c_contiguous):
            # batch-1 latency: the kernel's own pixel check refuses NaN / inf too, so the full
            # validation below only runs when it declines
            from .fast import pixel_forward

            out = pixel_forward(X, self.kernel_arrays())
            if out is not None:
                return out
        X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32)
        if X.shape[1] != self.in_features:
            raise ValueError(f"X: expected {self.in_features} features, got {X.shape[1]}")
        check_choice(backend, "backend", ("auto", "numpy", "numba", "cupy"))
        if backend in ("auto", "numba") and X.shape[0] and self._fused():
            from .fast import pixel_forward

            out = pixel_forward(np.ascontiguousarray(X), self.kernel_arrays())
            if out is not None:
                return out
        pre = sign_weight_matmul(2 * X - 1, self.first_weights, backend=backend)
        for (tau, flip), W in zip(self.thresholds, self.hidden_weights):
            words = pack_bn_sign(pre, tau, flip)
            pre = binary_matmul(PackedBits(words, W.k), W, backend=backend)
        return np.asarray(pre, dtype=np.float64) * self.out_scale + self.out_shift

    def predict(self, X, *, backend: str = "auto") -> np.ndarray:
        return self.decision_function(X, backend=backend).argmax(1)

    def weight_bytes(self) -> int:
        words = self.first_weights.words.nbytes + sum(W.words.nbytes for W in self.hidden_weights)
        return int(words + sum(t.size * 8 + f.size for t, f in self.thresholds) + 16 * self.out_scale.size)


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    g = bn.weight.detach().double().numpy()
    b = bn.bias.detach().double().numpy()
    m = bn.running_mean.detach().double().numpy()
    v = bn.running_var.detach().double().numpy()
    s = g / np.sqrt(v + bn.eps)
    return s, b - m * s


@torch.no_grad()
def export_binarynet(model: BinaryMLP) -> PackedBinaryMLP:
    """Export a trained ``binarynet`` :class:`BinaryMLP` to :class:`PackedBinaryMLP`.

    Parameters
    ----------
    model : BinaryMLP
        Built with ``recipe="binarynet"`` and trained.

    Returns
    -------
    PackedBinaryMLP
        Same predictions as ``model`` in evaluation mode.
    """
    from ..bits import pack_signs

    if not isinstance(model, BinaryMLP) or model.recipe != "binarynet":
        raise ValueError("export_binarynet: expected a BinaryMLP built with recipe='binarynet'")
    model.eval()
    linears = [m for m in model.net if isinstance(m, QuantLinear)]
    bns = [m for m in model.net if isinstance(m, nn.BatchNorm1d)]
    if any(not isinstance(l.input_quantizer, (ClippedSteSign, SteSign)) for l in linears[1:]):
        raise ValueError("export_binarynet: hidden layers must have binary (sign) input quantizers")
    W = [_sign(l.weight).numpy().astype(np.int8) for l in linears]
    thresholds = []
    for bn in bns[:-1]:
        s, t = _bn_affine(bn)
        if np.any(s == 0):
            raise ValueError("export_binarynet: a BatchNorm scale is exactly 0; its unit is constant")
        # sign(s*a + t) = +1  <=>  a >= -t/s (s > 0)  or  a <= -t/s (s < 0)
        tau = -t / s
        flip = s < 0
        # a == tau with s < 0 gives s*a+t = 0 -> +1: handled by nudging tau for the flipped units
        tau = np.where(flip, np.nextafter(tau, np.inf), tau)
        thresholds.append((tau, flip))
    s_out, t_out = _bn_affine(bns[-1])
    return PackedBinaryMLP(pack_signs(W[0]), [pack_signs(w) for w in W[1:]], thresholds, s_out, t_out,
                           model.spec["in_features"])

