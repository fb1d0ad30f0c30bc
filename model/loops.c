/*
 * loops.c: the loop depth of every instruction node of a module graph, from its control edges (model.h,
 * mir_loop_depth). It weights the statistics targets of `stats = 2`.
 *
 * The control-flow graph is the instruction nodes (MIR_NODE_INSTRUCTION) and the control edges (MIR_FLOW_CONTROL)
 * between them. ProGraML's graphs chain the instructions of a block and join a terminator to the first instruction
 * of each successor, so this instruction-level graph has the dominance and the loops of the block-level one.
 * Functions are not joined by control edges: a virtual root above every instruction without a control predecessor
 * (each function's entry, the graph's own root) makes one graph of them.
 *
 *   1. depth-first search from the virtual root: reverse post-order numbers (unreached nodes: none);
 *   2. immediate dominators by the iterative two-finger intersection over reverse post-order (Cooper, Harvey
 *      and Kennedy, "A Simple, Fast Dominance Algorithm", 2001);
 *   3. a back edge is a control edge u -> h whose target dominates its source (only retreating edges, rpo[h] <=
 *      rpo[u], are tested, so the dominator-tree walks are few); the natural loop of header h is h and every
 *      node that reaches a back edge's source without passing through h. Back edges to one header make one loop;
 *   4. a node's depth is the number of natural loops that contain it (saturated at 255).
 * Retreating edges of an irreducible region are not back edges: such a region adds no depth.
 */
#include "model.h"

#include "mir_common.h"

#include <stdlib.h>
#include <string.h>

/* CSR of the control edges between instruction nodes, both directions; nodes 0..n-1 plus the virtual root n */
typedef struct cfg {
    int32_t n;                 /* module nodes; the virtual root is n */
    int64_t *succ_ptr, *pred_ptr; /* (n+2) */
    int32_t *succ, *pred;      /* (edges + roots) */
} cfg;

static int is_control(const mir_module_view *mv, int64_t e) {
    int32_t s = mv->edge_src[e], d = mv->edge_dst[e];
    return mv->edge_flow[e] == MIR_FLOW_CONTROL && s >= 0 && d >= 0 && s < mv->n_nodes && d < mv->n_nodes &&
           mv->node_kind[s] == MIR_NODE_INSTRUCTION && mv->node_kind[d] == MIR_NODE_INSTRUCTION;
}

static void cfg_build(cfg *g, const mir_module_view *mv) {
    const int32_t n = (int32_t)mv->n_nodes;
    g->n = n;
    g->succ_ptr = mir_calloc((size_t)n + 2, sizeof *g->succ_ptr);
    g->pred_ptr = mir_calloc((size_t)n + 2, sizeof *g->pred_ptr);
    int64_t m = 0;
    for (int64_t e = 0; e < mv->n_edges; e++)
        if (is_control(mv, e)) g->succ_ptr[mv->edge_src[e] + 1]++, g->pred_ptr[mv->edge_dst[e] + 1]++, m++;
    /* the roots (instruction nodes without a control predecessor) get the virtual root as theirs */
    uint8_t *root = mir_calloc((size_t)n + 1, 1);
    for (int32_t v = 0; v < n; v++)
        if (mv->node_kind[v] == MIR_NODE_INSTRUCTION && g->pred_ptr[v + 1] == 0)
            root[v] = 1, g->succ_ptr[n + 1]++, g->pred_ptr[v + 1]++, m++;
    for (int32_t v = 0; v <= n; v++) g->succ_ptr[v + 1] += g->succ_ptr[v], g->pred_ptr[v + 1] += g->pred_ptr[v];
    g->succ = mir_malloc((size_t)(m + 1) * sizeof *g->succ);
    g->pred = mir_malloc((size_t)(m + 1) * sizeof *g->pred);
    int64_t *sf = mir_malloc((size_t)(n + 1) * sizeof *sf), *pf = mir_malloc((size_t)(n + 1) * sizeof *pf);
    memcpy(sf, g->succ_ptr, (size_t)(n + 1) * sizeof *sf);
    memcpy(pf, g->pred_ptr, (size_t)(n + 1) * sizeof *pf);
    for (int64_t e = 0; e < mv->n_edges; e++)
        if (is_control(mv, e)) {
            int32_t s = mv->edge_src[e], d = mv->edge_dst[e];
            g->succ[sf[s]++] = d;
            g->pred[pf[d]++] = s;
        }
    for (int32_t v = 0; v < n; v++)
        if (root[v]) g->succ[sf[n]++] = v, g->pred[pf[v]++] = n;
    free(root);
    free(sf);
    free(pf);
}

static void cfg_free(cfg *g) {
    free(g->succ_ptr);
    free(g->pred_ptr);
    free(g->succ);
    free(g->pred);
}

/* Post-order of the nodes reached from the virtual root (iterative depth-first search). po_num[v]: v's
 * post-order number, -1 when unreached; order (reached nodes) receives them in post-order. Returns their number. */
static int32_t post_order(const cfg *g, int32_t *po_num, int32_t *order) {
    const int32_t n = g->n;
    int32_t *stack = mir_malloc((size_t)(n + 1) * sizeof *stack);
    int64_t *next = mir_malloc((size_t)(n + 1) * sizeof *next); /* next successor to visit */
    for (int32_t v = 0; v <= n; v++) po_num[v] = -1, next[v] = g->succ_ptr[v];
    uint8_t *seen = mir_calloc((size_t)n + 1, 1);
    int32_t top = 0, k = 0;
    stack[top++] = n;
    seen[n] = 1;
    while (top) {
        int32_t v = stack[top - 1];
        if (next[v] < g->succ_ptr[v + 1]) {
            int32_t w = g->succ[next[v]++];
            if (!seen[w]) seen[w] = 1, stack[top++] = w;
        } else {
            po_num[v] = k;
            order[k++] = v;
            top--;
        }
    }
    free(stack);
    free(next);
    free(seen);
    return k;
}

/* Immediate dominators (idom[v], -1 when unreached; idom[root] = root), by post-order numbers. */
static void dominators(const cfg *g, const int32_t *po_num, const int32_t *order, int32_t k, int32_t *idom) {
    const int32_t n = g->n;
    for (int32_t v = 0; v <= n; v++) idom[v] = -1;
    idom[n] = n;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int32_t i = k - 2; i >= 0; i--) { /* reverse post-order, the root (last) excepted */
            int32_t v = order[i], nd = -1;
            for (int64_t j = g->pred_ptr[v]; j < g->pred_ptr[v + 1]; j++) {
                int32_t p = g->pred[j];
                if (idom[p] < 0) continue; /* not processed yet (or unreached) */
                if (nd < 0) { nd = p; continue; }
                int32_t a = p, b = nd;
                while (a != b) {
                    while (po_num[a] < po_num[b]) a = idom[a];
                    while (po_num[b] < po_num[a]) b = idom[b];
                }
                nd = a;
            }
            if (nd >= 0 && idom[v] != nd) idom[v] = nd, changed = 1;
        }
    }
}

static int dominates(const int32_t *idom, int32_t root, int32_t h, int32_t u) {
    for (;;) {
        if (u == h) return 1;
        if (u == root || idom[u] < 0) return 0;
        u = idom[u];
    }
}

void mir_loop_depth(const mir_module_view *mv, uint8_t *depth) {
    const int32_t n = (int32_t)mv->n_nodes;
    memset(depth, 0, (size_t)n);
    if (n <= 0) return;
    cfg g;
    cfg_build(&g, mv);
    int32_t *po_num = mir_malloc((size_t)(n + 1) * sizeof *po_num), *order = mir_malloc((size_t)(n + 1) * sizeof *order);
    int32_t *idom = mir_malloc((size_t)(n + 1) * sizeof *idom);
    int32_t k = post_order(&g, po_num, order);
    dominators(&g, po_num, order, k, idom);

    /* headers in reverse post-order (each loop once, with all its back edges), their bodies by backward search */
    int32_t *mark = mir_malloc((size_t)(n + 1) * sizeof *mark), *queue = mir_malloc((size_t)(n + 1) * sizeof *queue);
    for (int32_t v = 0; v <= n; v++) mark[v] = -1;
    for (int32_t i = k - 2; i >= 0; i--) {
        int32_t h = order[i], q = 0, loop = 0;
        for (int64_t j = g.pred_ptr[h]; j < g.pred_ptr[h + 1]; j++) {
            int32_t u = g.pred[j];
            if (po_num[u] < 0 || po_num[u] > po_num[h] || !dominates(idom, n, h, u)) continue; /* not a back edge */
            loop = 1; /* u -> h is a back edge (u = h: a self-loop, a loop of h alone) */
            if (mark[u] != h && u != h) mark[u] = h, queue[q++] = u;
        }
        if (!loop) continue;
        mark[h] = h;
        if (depth[h] < 255) depth[h]++;
        while (q) {
            int32_t u = queue[--q];
            if (depth[u] < 255) depth[u]++;
            for (int64_t j = g.pred_ptr[u]; j < g.pred_ptr[u + 1]; j++) {
                int32_t p = g.pred[j];
                if (p == n || po_num[p] < 0 || mark[p] == h) continue;
                mark[p] = h;
                queue[q++] = p;
            }
        }
    }
    free(mark);
    free(queue);
    free(po_num);
    free(order);
    free(idom);
    cfg_free(&g);
}
