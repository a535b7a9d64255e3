// The device math every layer shares: the GEMM fallback, AXPY, set and scale. Compiled to PTX by
// gpu/build-ptx.sh and loaded through the driver API, so a machine with only an NVIDIA driver runs
// it: no CUDA runtime or cuBLAS library is needed. extern "C" keeps the entry names unmangled:
// CudaDevice looks them up by name.

#define TILE 16

// C[M×N] = alpha · op(A) · op(B) + beta · C, row-major as the engine's Backend.gemm; op(X) is X
// or its transpose. One 16×16 tile of C per block, operands staged through shared memory. The
// fallback when cuBLAS cannot be loaded (JCublas 12 needs libcublas.so.12).
extern "C" __global__ void crema_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                                       const float* A, const float* B, float beta, float* C) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t = 0; t < (K + TILE - 1) / TILE; ++t) {
    int ka = t * TILE + threadIdx.x;
    int kb = t * TILE + threadIdx.y;
    As[threadIdx.y][threadIdx.x] = (row < M && ka < K) ? (transA ? A[ka * M + row] : A[row * K + ka]) : 0.0f;
    Bs[threadIdx.y][threadIdx.x] = (kb < K && col < N) ? (transB ? B[col * K + kb] : B[kb * N + col]) : 0.0f;
    __syncthreads();
    for (int k = 0; k < TILE; ++k) {
      acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
    }
    __syncthreads();
  }
  if (row < M && col < N) {
    C[row * N + col] = alpha * acc + (beta == 0.0f ? 0.0f : beta * C[row * N + col]);
  }
}

// y = alpha · x + y
extern "C" __global__ void crema_axpy(int n, float alpha, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] += alpha * x[i];
}

// x = value
extern "C" __global__ void crema_set(int n, float value, float* x) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = value;
}

// x = alpha · x
extern "C" __global__ void crema_scal(int n, float alpha, float* x) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= alpha;
}
