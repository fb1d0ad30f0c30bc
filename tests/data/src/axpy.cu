// A CUDA kernel for --compile tests, compiled without the CUDA toolkit.
__global__ void axpy(float a, const float *x, float *y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) y[i] = fmaf(a, x[i], y[i]) + sqrtf(y[i]);
}
