// AdamSolver's update. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so a
// machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: AdamSolver.java declares each one as a Kernel with this
// signature.

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
