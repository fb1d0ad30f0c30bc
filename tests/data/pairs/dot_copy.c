/* a loop that -O2 unrolls and vectorises: its -O0 and -O2 modules differ */
float dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}
