// Bit-packed popcount kernels for gnetlab (loaded by gnetlab/kernels/cupy_backend.py through
// cupy.RawModule / NVRTC; also compiled by nvcc in tests/test_cuda_compile.py for sm_80 and sm_90).
//
// Bit convention (gnetlab.bits): bit 1 encodes -1, least-significant bit first, 64 signs per
// uint64 word, padding bits 0 in every operand, so the +-1 dot product of two rows of K signs is
//     dot = K - 2 * popcount(a XOR b).
// Self-contained on purpose: no headers, so NVRTC compiles it without a CUDA include path.

typedef unsigned long long u64;
typedef unsigned int u32;

// ---------------------------------------------------------------------------------------------
// 1. XOR-popcount GEMM on CUDA cores (all NVIDIA GPUs).
//    C[i, j] = K - 2 * sum_w popc(A[i, w] ^ B[j, w]);  A (M, W), B (N, W) row-major uint64.
//    A 16 x 16 thread block computes a 64 x 64 tile of C, 4 x 4 outputs per thread; each step
//    stages 64 rows x 8 words of A and of B in shared memory (padded by one word against bank
//    conflicts), so every word loaded from global memory is used 64 times.
// ---------------------------------------------------------------------------------------------
#define XT_ROWS 64
#define XT_WORDS 8

extern "C" __global__ void __launch_bounds__(256)
xor_popcount_matmul(const u64* __restrict__ A, const u64* __restrict__ B, int* __restrict__ C,
                    int M, int N, int W, int K)
{
    __shared__ u64 As[XT_ROWS][XT_WORDS + 1];
    __shared__ u64 Bs[XT_ROWS][XT_WORDS + 1];
    const int tx = threadIdx.x;  // 0..15, output columns tx + 16 * jj
    const int ty = threadIdx.y;  // 0..15, output rows    ty + 16 * ii
    const int tid = ty * 16 + tx;
    const int row0 = blockIdx.y * XT_ROWS;
    const int col0 = blockIdx.x * XT_ROWS;
    int acc[4][4];
    for (int ii = 0; ii < 4; ++ii)
        for (int jj = 0; jj < 4; ++jj)
            acc[ii][jj] = 0;

    for (int w0 = 0; w0 < W; w0 += XT_WORDS) {
        // 512 words per operand per step, two per thread; zeros outside the matrices
        for (int e = tid; e < XT_ROWS * XT_WORDS; e += 256) {
            const int r = e / XT_WORDS;
            const int w = e % XT_WORDS;
            const int ra = row0 + r, rb = col0 + r, ww = w0 + w;
            As[r][w] = (ra < M && ww < W) ? A[(size_t)ra * W + ww] : 0ULL;
            Bs[r][w] = (rb < N && ww < W) ? B[(size_t)rb * W + ww] : 0ULL;
        }
        __syncthreads();
#pragma unroll
        for (int w = 0; w < XT_WORDS; ++w) {
            u64 a[4], b[4];
#pragma unroll
            for (int ii = 0; ii < 4; ++ii) a[ii] = As[ty + 16 * ii][w];
#pragma unroll
            for (int jj = 0; jj < 4; ++jj) b[jj] = Bs[tx + 16 * jj][w];
#pragma unroll
            for (int ii = 0; ii < 4; ++ii)
#pragma unroll
                for (int jj = 0; jj < 4; ++jj)
                    acc[ii][jj] += __popcll(a[ii] ^ b[jj]);
        }
        __syncthreads();
    }
    for (int ii = 0; ii < 4; ++ii) {
        const int i = row0 + ty + 16 * ii;
        if (i >= M) continue;
        for (int jj = 0; jj < 4; ++jj) {
            const int j = col0 + tx + 16 * jj;
            if (j < N) C[(size_t)i * N + j] = K - 2 * acc[ii][jj];
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Row popcounts, for the AND formulation below: P[i] = sum_w popc(A[i, w]).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void row_popcount(const u64* __restrict__ A, int* __restrict__ P, int M, int W)
{
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= M) return;
    int s = 0;
    for (int w = 0; w < W; ++w) s += __popcll(A[(size_t)i * W + w]);
    P[i] = s;
}

// ---------------------------------------------------------------------------------------------
// 3. AND-popcount GEMM on binary tensor cores (sm_80+: A100, H100, H200).
//    Hopper has no fast XOR-popcount MMA, so use
//        popc(a ^ b) = popc(a) + popc(b) - 2 popc(a & b)
//    with mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc.
//    Operands viewed as uint32: A32 (M, W32), B32 (N, W32), W32 a multiple of 8 (the host pads
//    rows to whole 256-bit slices with zero words, which change no popcount).
//    Fragments (PTX ISA, mma.m16n8k256 .b1): g = lane / 4, t = lane % 4;
//      a0 = A[g][t], a1 = A[g + 8][t], a2 = A[g][t + 4], a3 = A[g + 8][t + 4]  (32-bit words of
//      the 256-bit k slice), b0 = B[col g][t], b1 = B[col g][t + 4];
//      c0, c1 = C[g][2t, 2t + 1], c2, c3 = C[g + 8][2t, 2t + 1].
//    A block of 4 warps computes 64 x 32 outputs: each warp 16 rows x 4 n-tiles of 8 columns,
//    reusing its A fragment across the 4 n-tiles.
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void __launch_bounds__(128)
and_popcount_mma(const u32* __restrict__ A32, const u32* __restrict__ B32,
                 const int* __restrict__ popA, const int* __restrict__ popB, int* __restrict__ C,
                 int M, int N, int W32, int K)
{
#if defined(__CUDA_ARCH__) && (__CUDA_ARCH__ >= 800)
    const int lane = threadIdx.x & 31;
    const int warp = threadIdx.x >> 5;
    const int g = lane >> 2;
    const int t = lane & 3;
    const int r0 = blockIdx.y * 64 + warp * 16 + g;
    const int r1 = r0 + 8;
    const int cbase = blockIdx.x * 32;
    int acc[4][4];
    for (int nt = 0; nt < 4; ++nt)
        for (int e = 0; e < 4; ++e)
            acc[nt][e] = 0;

    for (int k0 = 0; k0 < W32; k0 += 8) {
        const u32 a0 = (r0 < M) ? A32[(size_t)r0 * W32 + k0 + t] : 0u;
        const u32 a1 = (r1 < M) ? A32[(size_t)r1 * W32 + k0 + t] : 0u;
        const u32 a2 = (r0 < M) ? A32[(size_t)r0 * W32 + k0 + t + 4] : 0u;
        const u32 a3 = (r1 < M) ? A32[(size_t)r1 * W32 + k0 + t + 4] : 0u;
#pragma unroll
        for (int nt = 0; nt < 4; ++nt) {
            const int col = cbase + nt * 8 + g;
            const u32 b0 = (col < N) ? B32[(size_t)col * W32 + k0 + t] : 0u;
            const u32 b1 = (col < N) ? B32[(size_t)col * W32 + k0 + t + 4] : 0u;
            asm volatile(
                "mma.sync.aligned.m16n8k256.row.col.s32.b1.b1.s32.and.popc "
                "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                : "+r"(acc[nt][0]), "+r"(acc[nt][1]), "+r"(acc[nt][2]), "+r"(acc[nt][3])
                : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
        }
    }
    for (int nt = 0; nt < 4; ++nt) {
        for (int e = 0; e < 4; ++e) {
            const int i = (e < 2) ? r0 : r1;
            const int j = cbase + nt * 8 + 2 * t + (e & 1);
            if (i < M && j < N) {
                const int xor_pop = popA[i] + popB[j] - 2 * acc[nt][e];
                C[(size_t)i * N + j] = K - 2 * xor_pop;
            }
        }
    }
#else
    __trap();  // binary tensor cores need sm_80+; the host dispatch never launches this there
#endif
}

// ---------------------------------------------------------------------------------------------
// 4. One-bit weights x float activations: out[b, r] = sum_k x[b, k] * s[r, k], s = +-1 from bits.
//    One warp per weight row: lane l reads 32-bit word c = l, l + 32, ... (coalesced) and adds
//    +-x over its 32 signs; a warp shuffle reduction finishes the row. X is (B, 32 * C32), zero
//    padded; W32 (N, C32).
// ---------------------------------------------------------------------------------------------
extern "C" __global__ void __launch_bounds__(256)
sign_weight_gemv(const float* __restrict__ X, const u32* __restrict__ W32, float* __restrict__ out,
                 int batch, int N, int C32)
{
    const int lane = threadIdx.x & 31;
    const int row = blockIdx.x * (blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= N) return;
    const u32* wr = W32 + (size_t)row * C32;
    const int K32 = 32 * C32;
    for (int b = 0; b < batch; ++b) {
        const float* xb = X + (size_t)b * K32;
        float s = 0.0f;
        for (int c = lane; c < C32; c += 32) {
            const u32 bits = wr[c];
            const float* xc = xb + 32 * c;
#pragma unroll
            for (int l = 0; l < 32; ++l) {
                const float v = xc[l];
                s += ((bits >> l) & 1u) ? -v : v;
            }
        }
        for (int off = 16; off > 0; off >>= 1) s += __shfl_down_sync(0xffffffffu, s, off);
        if (lane == 0) out[(size_t)b * N + row] = s;
    }
}
