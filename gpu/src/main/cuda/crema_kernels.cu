// Crema's CUDA kernels, compiled to PTX (build-ptx.sh) and loaded through the driver API, so a
// machine with only an NVIDIA driver runs them: no CUDA runtime or cuBLAS library is needed.
// extern "C" keeps the entry names unmangled: the Java side looks them up by name.

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

// Caffe's ReLU with negative_slope.
extern "C" __global__ void crema_relu_forward(int n, float slope, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

extern "C" __global__ void crema_relu_backward(int n, float slope, const float* x, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : slope);
}

extern "C" __global__ void crema_sigmoid_forward(int n, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 0.5f * tanhf(0.5f * x[i]) + 0.5f;
}

extern "C" __global__ void crema_sigmoid_backward(int n, const float* y, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}

extern "C" __global__ void crema_tanh_forward(int n, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = tanhf(x[i]);
}

extern "C" __global__ void crema_tanh_backward(int n, const float* y, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}

// Softmax over each row of a rows × cols matrix (the channel axis of an N×C blob), max-shifted as
// Caffe's SoftmaxLayer. One thread per row: rows are examples, cols are classes.
extern "C" __global__ void crema_softmax_forward(int rows, int cols, const float* x, float* y) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* xr = x + r * cols;
  float* yr = y + r * cols;
  float m = xr[0];
  for (int c = 1; c < cols; ++c) m = fmaxf(m, xr[c]);
  float s = 0.0f;
  for (int c = 0; c < cols; ++c) {
    yr[c] = expf(xr[c] - m);
    s += yr[c];
  }
  for (int c = 0; c < cols; ++c) yr[c] /= s;
}

// Softmax backward per row: dx = (dy - dot(dy, y)) · y.
extern "C" __global__ void crema_softmax_backward(int rows, int cols, const float* y, const float* dy, float* dx) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  const float* yr = y + r * cols;
  const float* gr = dy + r * cols;
  float dot = 0.0f;
  for (int c = 0; c < cols; ++c) dot += gr[c] * yr[c];
  for (int c = 0; c < cols; ++c) dx[r * cols + c] = (gr[c] - dot) * yr[c];
}

// SoftmaxWithLoss: per row, loss[r] = -log(max(p[label], FLT_MIN)); the gradient p - onehot,
// scaled by `scale` (Caffe's normalisation: 1 / valid count for VALID). Rows whose label equals
// ignore_label get no loss and no gradient; counted[r] says which counted.
extern "C" __global__ void crema_softmax_loss(int rows, int cols, const float* prob, const float* label,
                                              int hasIgnore, int ignoreLabel, float scale,
                                              float* loss, float* counted, float* dx) {
  int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= rows) return;
  int l = (int) label[r];
  bool ignored = hasIgnore && l == ignoreLabel;
  for (int c = 0; c < cols; ++c) {
    dx[r * cols + c] = ignored ? 0.0f : scale * (prob[r * cols + c] - (c == l ? 1.0f : 0.0f));
  }
  loss[r] = ignored ? 0.0f : -logf(fmaxf(prob[r * cols + l], 1.17549435e-38f));
  counted[r] = ignored ? 0.0f : 1.0f;
}

// A counter-based generator (a 32-bit integer hash of seed and index): each element's draw depends
// only on (seed, i), so the mask is the same whatever the launch shape, and no state lives on the
// device between iterations.
__device__ unsigned int crema_hash(unsigned int x) {
  x ^= x >> 16; x *= 0x7feb352dU;
  x ^= x >> 15; x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// Caffe's inverted dropout: keep with probability 1 - ratio, scale kept values by 1 / (1 - ratio).
extern "C" __global__ void crema_dropout_forward(int n, float ratio, unsigned int seed, const float* x,
                                                 float* mask, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float u = (crema_hash(seed ^ crema_hash((unsigned int) i)) >> 8) * (1.0f / 16777216.0f);
  float keep = u >= ratio ? 1.0f : 0.0f;
  mask[i] = keep;
  y[i] = x[i] * keep / (1.0f - ratio);
}

extern "C" __global__ void crema_dropout_backward(int n, float ratio, const float* mask, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * mask[i] / (1.0f - ratio);
}

// Caffe's SGD with momentum: history = momentum · history + rate · diff; diff = history.
extern "C" __global__ void crema_sgd_update(int n, float rate, float momentum, float* diff, float* history) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  history[i] = momentum * history[i] + rate * diff[i];
  diff[i] = history[i];
}

// Caffe's Adam: m = β1 m + (1-β1) g; v = β2 v + (1-β2) g²; diff = rate·√(1-β2^t)/(1-β1^t) · m / (√v + ε).
extern "C" __global__ void crema_adam_update(int n, float rate, float beta1, float beta2, float eps, float correction,
                                             float* diff, float* m, float* v) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  float g = diff[i];
  // The CPU's order of operations, so the two round alike.
  m[i] = (1.0f - beta1) * g + beta1 * m[i];
  v[i] = (1.0f - beta2) * (g * g) + beta2 * v[i];
  diff[i] = (rate * correction) * (m[i] / (sqrtf(v[i]) + eps));
}
