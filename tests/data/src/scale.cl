/* An OpenCL kernel for --compile tests; SCALE comes from -D. */
__kernel void scale(__global float *v, int n) {
    int i = get_global_id(0);
    if (i < n) v[i] = v[i] * SCALE;
}
