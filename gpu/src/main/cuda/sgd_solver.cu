// SgdSolver's update. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so a
// machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: SgdSolver.java declares each one as a Kernel with this
// signature.

// Caffe's SGD with momentum: history = momentum · history + rate · diff; diff = history.
extern "C" __global__ void crema_sgd_update(int n, float rate, float momentum, float* diff, float* history) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  history[i] = momentum * history[i] + rate * diff[i];
  diff[i] = history[i];
}
