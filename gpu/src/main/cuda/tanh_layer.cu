// TanHLayer's kernels. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so a
// machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: TanHLayer.java declares each one as a Kernel with this
// signature.

extern "C" __global__ void crema_tanh_forward(int n, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = tanhf(x[i]);
}

extern "C" __global__ void crema_tanh_backward(int n, const float* y, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
}
