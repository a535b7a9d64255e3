// DropoutLayer's kernels. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so
// a machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: DropoutLayer.java declares each one as a Kernel with this
// signature.

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
