// SigmoidLayer's kernels. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so
// a machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: SigmoidLayer.java declares each one as a Kernel with this
// signature.

extern "C" __global__ void crema_sigmoid_forward(int n, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 0.5f * tanhf(0.5f * x[i]) + 0.5f;
}

extern "C" __global__ void crema_sigmoid_backward(int n, const float* y, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
}
