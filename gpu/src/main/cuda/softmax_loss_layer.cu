// SoftmaxWithLossLayer's loss kernel. Compiled to PTX by gpu/build-ptx.sh and loaded through the
// driver API, so a machine with only an NVIDIA driver runs it: no CUDA runtime or cuBLAS library is
// needed. extern "C" keeps the entry names unmangled: SoftmaxWithLossLayer.java declares each one
// as a Kernel with this signature.

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
