/* recursion and locals: -O0 keeps allocas, loads and stores that -O2 removes */
static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int fib_sum(int n) {
    int total = 0;
    for (int i = 0; i < n; i++) total += fib(i);
    return total;
}
