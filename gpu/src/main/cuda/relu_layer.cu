// ReLULayer's kernels. Compiled to PTX by gpu/build-ptx.sh and loaded through the driver API, so a
// machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is needed. extern
// "C" keeps the entry names unmangled: ReLULayer.java declares each one as a Kernel with this
// signature.

// Caffe's ReLU with negative_slope.
extern "C" __global__ void crema_relu_forward(int n, float slope, const float* x, float* y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

extern "C" __global__ void crema_relu_backward(int n, float slope, const float* x, const float* dy, float* dx) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : slope);
}
