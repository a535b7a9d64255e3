// SoftmaxLayer's kernels (SoftmaxWithLoss runs the forward one too). Compiled to PTX by
// gpu/build-ptx.sh and loaded through the driver API, so a machine with only an NVIDIA driver runs
// it: no CUDA runtime or cuBLAS library is needed. extern "C" keeps the entry names unmangled:
// SoftmaxLayer.java declares each one as a Kernel with this signature.

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
