// A C++ function for --compile tests.
template <typename T> T total(const T *v, int n) { T s = T(); for (int i = 0; i < n; i++) s += v[i]; return s; }
double total_d(const double *v, int n) { return total(v, n); }
