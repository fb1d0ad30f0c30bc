/* test_normalize.c: the statement normaliser (preprocess/normalize.h) on LLVM 16 lines, word by word.
 * Prints only failures and a final line. */
#include "normalize.h"

#include "mir_test.h"

#include <stdint.h>
#include <string.h>

/* Words joined by single spaces (each word checked to be NUL-terminated at its length). */
static const char *joined(const mir_words *w, size_t from, char *buf, size_t cap) {
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = from; i < w->n; i++) {
        const char *s = mir_words_get(w, i);
        if (s[w->len[i]] != '\0' || strlen(s) != w->len[i]) return "(word not NUL-terminated at its length)";
        if (k + w->len[i] + 2 > cap) return "(too long)";
        if (i > from) buf[k++] = ' ';
        memcpy(buf + k, s, w->len[i]);
        k += w->len[i];
        buf[k] = '\0';
    }
    return buf;
}

static char g_buf[8192];
static mir_words g_w;

/* Normalise line and return the words joined by spaces; also checks the returned count. */
static const char *norm_cls(const char *line, mir_sym_classify_fn f, void *ctx) {
    mir_words_clear(&g_w);
    size_t n = mir_normalize_statement(line, strlen(line), f, ctx, &g_w);
    CHECK_EQ_INT(n, g_w.n);
    return joined(&g_w, 0, g_buf, sizeof g_buf);
}
static const char *norm(const char *line) { return norm_cls(line, NULL, NULL); }

/* A module: A and main are defined, global/.str/g are variables, get_global_id and intrinsics external;
 * struct.Point, myty and "my type" are named types. Records the quoted name it saw. */
static char g_seen_quoted[64];
static size_t g_seen_quoted_len;
static int g_pct_calls;
static mir_sym_kind classify(void *ctx, char sigil, const char *name, size_t len) {
    (void)ctx;
#define IS_NAME(lit) (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)
    if (len == 4 && name[0] == '\x01') {
        memcpy(g_seen_quoted, name, len);
        g_seen_quoted_len = len;
    }
    if (sigil == '@') {
        if (IS_NAME("A") || IS_NAME("main") || IS_NAME("\x01" "foo")) return MIR_SYM_DEFINED_FN;
        if (IS_NAME("global") || IS_NAME(".str") || IS_NAME("g") || IS_NAME("0")) return MIR_SYM_GLOBAL_VAR;
        if (IS_NAME("_Z13get_global_idj") || IS_NAME("llvm.memcpy.p0.p0.i64")) return MIR_SYM_EXTERNAL_FN;
        return MIR_SYM_UNKNOWN;
    }
    g_pct_calls++;
    if (IS_NAME("struct.Point") || IS_NAME("myty") || IS_NAME("my type")) return MIR_SYM_TYPE;
    if (IS_NAME("class.addr")) return MIR_SYM_EXTERNAL_FN; /* "definitely not a type" */
    return MIR_SYM_UNKNOWN;
#undef IS_NAME
}

static void test_example_lines(void) {
    CHECK_EQ_STR(norm("  %5 = getelementptr inbounds float, ptr addrspace(1) %0, i64 %4, !dbg !12"),
                 "%ID = getelementptr inbounds float ptr addrspace ( 1 ) %ID i64 %ID");
    CHECK_EQ_STR(norm("  br i1 %cmp, label %for.body, label %for.end"), "br i1 %ID label %ID label %ID");
    CHECK_EQ_STR(norm("  %call = tail call i64 @_Z13get_global_idj(i32 noundef 0) #3"),
                 "%ID = tail call i64 @_Z13get_global_idj ( i32 noundef 0 )");
    CHECK_EQ_STR(norm("  store <4 x float> %v, ptr %p, align 16, !tbaa !7"),
                 "store < 4 x float > %ID ptr %ID align 16");
    CHECK_EQ_STR(norm("  switch i32 %x, label %def [\n    i32 0, label %a\n    i32 1, label %b\n  ]"),
                 "switch i32 %ID label %ID [ i32 0 label %ID i32 1 label %ID ]");
    CHECK_EQ_STR(norm("  %p = phi i32 [ 0, %entry ], [ %inc, %for.body ]"),
                 "%ID = phi i32 [ 0 %ID ] [ %ID %ID ]");
    CHECK_EQ_STR(norm("  call void @llvm.memcpy.p0.p0.i64(ptr align 4 %d, ptr align 4 %s, i64 16, i1 false)"),
                 "call void @llvm.memcpy ( ptr align 4 %ID ptr align 4 %ID i64 16 i1 false )");
    CHECK_EQ_STR(norm("  %s = alloca %struct.Point, align 4"), "%ID = alloca %struct align 4");
    CHECK_EQ_STR(norm("  %c = fcmp olt float %a, 0x3FB99999A0000000"), "%ID = fcmp olt float %ID <fp>");
    CHECK_EQ_STR(norm("  %x = load i32, ptr @global, align 4"), "%ID = load i32 ptr @global align 4");
    CHECK_EQ_STR(norm("define dso_local spir_kernel void @A(ptr addrspace(1) nocapture noundef readonly align 4 "
                      "%a, i32 noundef %n) local_unnamed_addr #0"),
                 "define dso_local spir_kernel void @A ( ptr addrspace ( 1 ) nocapture noundef readonly align 4 "
                 "%ID i32 noundef %ID ) local_unnamed_addr");
    CHECK_EQ_STR(norm("  %r = call i32 asm sideeffect \"mov $0, 1\", \"=r\"()"),
                 "%ID = call i32 asm sideeffect <asm> <asm> ( )");
    CHECK_EQ_STR(norm("  store i8 0, ptr getelementptr inbounds ([10 x i8], ptr @.str, i64 0, i64 1)"),
                 "store i8 0 ptr getelementptr inbounds ( [ 10 x i8 ] ptr @.str i64 0 i64 1 )");
    CHECK_EQ_STR(norm("  %v = load i32*, i32** %p"), "%ID = load ptr ptr %ID");
    CHECK_EQ_STR(norm("  %\"x y\" = add i32 %\"a\\22b\", 1"), "%ID = add i32 %ID 1");
    CHECK_EQ_STR(norm("  call void @\"\\01foo\"()"), "call void @\"\\01foo\" ( )");
    CHECK_EQ_STR(norm("  %m = add i32 %a, -2147483648"), "%ID = add i32 %ID <int-10>");
    CHECK_EQ_STR(norm("  %d = fadd double %a, 1.000000e+00"), "%ID = fadd double %ID 1.0");
    CHECK_EQ_STR(norm("  %h = fadd half %a, 0xH3C00"), "%ID = fadd half %ID <fp>");
}

static void test_classify(void) {
    CHECK_EQ_STR(norm_cls("  %x = load i32, ptr @global, align 4", classify, NULL),
                 "%ID = load i32 ptr @GV align 4");
    CHECK_EQ_STR(norm_cls("define dso_local spir_kernel void @A(ptr addrspace(1) nocapture noundef readonly align 4 "
                          "%a, i32 noundef %n) local_unnamed_addr #0",
                          classify, NULL),
                 "define dso_local spir_kernel void @FN ( ptr addrspace ( 1 ) nocapture noundef readonly align 4 "
                 "%ID i32 noundef %ID ) local_unnamed_addr");
    CHECK_EQ_STR(norm_cls("  %call = tail call i64 @_Z13get_global_idj(i32 noundef 0) #3", classify, NULL),
                 "%ID = tail call i64 @_Z13get_global_idj ( i32 noundef 0 )");
    CHECK_EQ_STR(norm_cls("  call void @llvm.memcpy.p0.p0.i64(ptr align 4 %d, ptr align 4 %s, i64 16, i1 false)",
                          classify, NULL),
                 "call void @llvm.memcpy ( ptr align 4 %ID ptr align 4 %ID i64 16 i1 false )");
    CHECK_EQ_STR(norm_cls("  store i8 0, ptr getelementptr inbounds ([10 x i8], ptr @.str, i64 0, i64 1)",
                          classify, NULL),
                 "store i8 0 ptr getelementptr inbounds ( [ 10 x i8 ] ptr @GV i64 0 i64 1 )");
    CHECK_EQ_STR(norm_cls("  %r = call i32 @main(ptr @g, ptr @0, ptr @unknown_fn)", classify, NULL),
                 "%ID = call i32 @FN ( ptr @GV ptr @GV ptr @unknown_fn )");
    /* quoted names reach the callback unescaped */
    g_seen_quoted_len = 0;
    CHECK_EQ_STR(norm_cls("  call void @\"\\01foo\"()", classify, NULL), "call void @FN ( )");
    CHECK_EQ_INT(g_seen_quoted_len, 4);
    CHECK(memcmp(g_seen_quoted, "\x01" "foo", 4) == 0);
    /* named types: the callback decides; the struct./class./union. prefixes without a callback answer */
    CHECK_EQ_STR(norm_cls("  %s = alloca %struct.Point, align 4", classify, NULL), "%ID = alloca %struct align 4");
    CHECK_EQ_STR(norm_cls("  %s = alloca %myty, align 4", classify, NULL), "%ID = alloca %type align 4");
    CHECK_EQ_STR(norm_cls("  %s = alloca %\"my type\", align 4", classify, NULL), "%ID = alloca %type align 4");
    CHECK_EQ_STR(norm("  %s = alloca %myty, align 4"), "%ID = alloca %ID align 4");
    CHECK_EQ_STR(norm("  %u = alloca %union.U, align 4"), "%ID = alloca %union align 4");
    CHECK_EQ_STR(norm("  %u = alloca %class.C, align 4"), "%ID = alloca %class align 4");
    CHECK_EQ_STR(norm_cls("  %u = load i32, ptr %class.addr", classify, NULL), "%ID = load i32 ptr %ID");
    /* numbered locals are not asked about */
    g_pct_calls = 0;
    CHECK_EQ_STR(norm_cls("  %5 = add i32 %3, %4", classify, NULL), "%ID = add i32 %ID %ID");
    CHECK_EQ_INT(g_pct_calls, 0);
}

static void test_typed_pointers(void) {
    char a[8192];
    snprintf(a, sizeof a, "%s", norm("  %v = load i32*, i32** %p"));
    CHECK_EQ_STR(a, norm("  %v = load ptr, ptr %p"));
    snprintf(a, sizeof a, "%s", norm("  %5 = getelementptr inbounds float, float addrspace(1)* %0, i64 %4"));
    CHECK_EQ_STR(a, norm("  %5 = getelementptr inbounds float, ptr addrspace(1) %0, i64 %4"));
    CHECK_EQ_STR(norm("  %a = load %struct.Foo*, %struct.Foo** %p"), "%ID = load ptr ptr %ID");
    CHECK_EQ_STR(norm("  %a = bitcast [4 x i32]* %p to <4 x float>*"), "%ID = bitcast ptr %ID to ptr");
    CHECK_EQ_STR(norm("  %a = load { i32, i8* }*, { i32, i8* }** %p"), "%ID = load ptr ptr %ID");
    CHECK_EQ_STR(norm("  %a = load void (i32, i8*)*, void (i32, i8*)** %p"), "%ID = load ptr ptr %ID");
    CHECK_EQ_STR(norm("  %a = load i8 addrspace(1)* addrspace(3)*, i8 addrspace(1)* addrspace(3)** %p"),
                 "%ID = load ptr addrspace ( 3 ) ptr %ID");
    CHECK_EQ_STR(norm("  %a = addrspacecast i8 addrspace(0)* %p to i8 addrspace(3)*"),
                 "%ID = addrspacecast ptr %ID to ptr addrspace ( 3 )");
    CHECK_EQ_STR(norm("  call void bitcast (void (i8*)* @f to void (i32*)*)(i32* %x)"),
                 "call void bitcast ( ptr @f to ptr ) ( ptr %ID )");
    CHECK_EQ_STR(norm("  %r = call i32 (i8*, ...) @printf(i8* getelementptr ([3 x i8], [3 x i8]* @.s, i64 0, i64 0))"),
                 "%ID = call i32 ( ptr ... ) @printf ( ptr getelementptr ( [ 3 x i8 ] ptr @.s i64 0 i64 0 ) )");
    CHECK_EQ_STR(norm("  %r = call i32 (ptr, ...) @printf(ptr @.s)"), "%ID = call i32 ( ptr ... ) @printf ( ptr @.s )");
}

static void test_integers(void) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0", "0"},       {"1", "1"},         {"16", "16"},           {"17", "<int+2>"},     {"32", "32"},
        {"100", "<int+3>"}, {"1024", "1024"}, {"1025", "<int+4>"},    {"1048576", "1048576"},
        {"2097152", "<int+7>"}, {"1048577", "<int+7>"}, {"-1", "-1"}, {"-2", "<int-1>"},  {"-16", "<int-2>"},
        {"-1024", "<int-4>"}, {"-2147483648", "<int-10>"}, {"4294967296", "<int+10>"},
        {"340282366920938463463374607431768211455", "<int+39>"},
    };
    char line[128];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(line, sizeof line, "  %%r = add i64 %%a, %s", cases[i].in);
        char want[128];
        snprintf(want, sizeof want, "%%ID = add i64 %%ID %s", cases[i].out);
        CHECK_EQ_STR(norm(line), want);
    }
    CHECK_EQ_STR(norm("  %a = alloca [1000 x i8], align 4096"), "%ID = alloca [ <int+4> x i8 ] align 4096");
    CHECK_EQ_STR(norm("  %c = icmp eq ptr %p, null"), "%ID = icmp eq ptr %ID null");
    CHECK_EQ_STR(norm("  store <2 x i32> zeroinitializer, ptr %p"), "store < 2 x i32 > zeroinitializer ptr %ID");
    CHECK_EQ_STR(norm("  %s = select i1 true, i32 undef, i32 poison"), "%ID = select i1 true i32 undef i32 poison");
}

static void test_floats(void) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"0.000000e+00", "0.0"},  {"1.000000e+00", "1.0"}, {"-1.000000e+00", "-1.0"}, {"5.000000e-01", "0.5"},
        {"2.000000e+00", "2.0"},  {"1.0", "1.0"},          {"20.0e-1", "2.0"},        {"0.5", "0.5"},
        {"2.", "2.0"},            {"-0.000000e+00", "<fp>"}, {"1.500000e+00", "<fp>"}, {"-2.000000e+00", "<fp>"},
        {"1.000000e+01", "<fp>"}, {"1.000001e+00", "<fp>"}, {"-5.000000e-01", "<fp>"}, {"5.000000e-02", "<fp>"},
        {"0x3FF0000000000000", "1.0"}, {"0xBFF0000000000000", "-1.0"}, {"0x3FE0000000000000", "0.5"},
        {"0x4000000000000000", "2.0"}, {"0x0000000000000000", "0.0"}, {"0x8000000000000000", "<fp>"},
        {"0x3FB99999A0000000", "<fp>"}, {"0x7FF0000000000000", "<fp>"}, {"0x7FF8000000000000", "<fp>"},
        {"0xH3C00", "<fp>"}, {"0xR3F80", "<fp>"}, {"0xK3FFF8000000000000000", "<fp>"},
        {"0xL00000000000000003FFF000000000000", "<fp>"}, {"0xM3FF00000000000000000000000000000", "<fp>"},
    };
    char line[160], want[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(line, sizeof line, "  %%r = fadd double %%a, %s", cases[i].in);
        snprintf(want, sizeof want, "%%ID = fadd double %%ID %s", cases[i].out);
        CHECK_EQ_STR(norm(line), want);
    }
}

static void test_intrinsics(void) {
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"llvm.memcpy.p0.p0.i64", "@llvm.memcpy"},
        {"llvm.memcpy.p0i8.p0i8.i64", "@llvm.memcpy"},
        {"llvm.fmuladd.f32", "@llvm.fmuladd"},
        {"llvm.lifetime.start.p0", "@llvm.lifetime.start"},
        {"llvm.masked.load.v4f32.p0", "@llvm.masked.load"},
        {"llvm.vector.reduce.fadd.v4f32", "@llvm.vector.reduce.fadd"},
        {"llvm.umul.with.overflow.i32", "@llvm.umul.with.overflow"},
        {"llvm.experimental.vector.insert.nxv4i32.v4i32", "@llvm.experimental.vector.insert"},
        {"llvm.fabs.bf16", "@llvm.fabs"},
        {"llvm.dbg.declare", "@llvm.dbg.declare"},
        {"llvm.nvvm.read.ptx.sreg.tid.x", "@llvm.nvvm.read.ptx.sreg.tid.x"},
        {"llvm.x86.avx512.mask.cvtps2dq.512", "@llvm.x86.avx512.mask.cvtps2dq.512"},
        {"llvm.i32", "@llvm.i32"},
        {"llvm.trap", "@llvm.trap"},
        {"llvmfoo.i32", "@llvmfoo.i32"},
        {"foo.i32", "@foo.i32"},
    };
    char line[160], want[160];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(line, sizeof line, "  call void @%s()", cases[i].in);
        snprintf(want, sizeof want, "call void %s ( )", cases[i].out);
        CHECK_EQ_STR(norm(line), want);
    }
}

static void test_misc(void) {
    /* metadata: attachments dropped, operands "!MD" */
    CHECK_EQ_STR(norm("  call void @llvm.dbg.declare(metadata ptr %x, metadata !15, metadata !DIExpression()), !dbg !17"),
                 "call void @llvm.dbg.declare ( metadata ptr %ID metadata !MD metadata !MD )");
    CHECK_EQ_STR(norm("  call void @llvm.dbg.value(metadata i32 %x, metadata !{!\"a(\", i32 0}, metadata "
                      "!DIExpression(DW_OP_plus_uconst, 4))"),
                 "call void @llvm.dbg.value ( metadata i32 %ID metadata !MD metadata !MD )");
    CHECK_EQ_STR(norm("  br label %for.cond, !llvm.loop !9"), "br label %ID");
    CHECK_EQ_STR(norm("  %l = load i32, ptr %p, align 4, !range !{i32 0, i32 10}, !noundef !3"),
                 "%ID = load i32 ptr %ID align 4");
    CHECK_EQ_STR(norm("  call void @f(metadata !\"str\")"), "call void @f ( metadata !MD )");
    CHECK_EQ_STR(norm("define void @k() #0 !dbg !5 !kernel_arg_addr_space !6 {"), "define void @k ( ) {");
    /* comments, strings, varargs, punctuation */
    CHECK_EQ_STR(norm("  %x = add nsw i32 %a, 1 ; a comment, with words"), "%ID = add nsw i32 %ID 1");
    CHECK_EQ_STR(norm("  %x = add i32 %a, 1 ; c\n"), "%ID = add i32 %ID 1");
    CHECK_EQ_STR(norm("@s = private unnamed_addr constant [3 x i8] c\"h;\\00\", align 1"),
                 "@s = private unnamed_addr constant [ 3 x i8 ] c\"<str>\" align 1");
    CHECK_EQ_STR(norm("  fence syncscope(\"workgroup\") acquire"), "fence syncscope ( \"workgroup\" ) acquire");
    CHECK_EQ_STR(norm("  %p = alloca <{ i8, i32 }>, align 1"), "%ID = alloca < { i8 i32 } > align 1");
    CHECK_EQ_STR(norm("  %x = extractvalue { i32, i1 } %r, 0"), "%ID = extractvalue { i32 i1 } %ID 0");
    CHECK_EQ_STR(norm("  invoke void @f() to label %cont unwind label %lpad"),
                 "invoke void @f ( ) to label %ID unwind label %ID");
    CHECK_EQ_STR(norm("  %v = load x86_fp80, ptr %p, align 16"), "%ID = load x86_fp80 ptr %ID align 16");
    CHECK_EQ_STR(norm("  %v = fadd x86_fp80 %a, 0xK3FFF8000000000000000"), "%ID = fadd x86_fp80 %ID <fp>");
    CHECK_EQ_STR(norm(""), "");
    CHECK_EQ_STR(norm("   \n\t "), "");
    /* robustness: unterminated strings and groups, stray bytes */
    CHECK_EQ_STR(norm("  %x = call i32 asm \"abc"), "%ID = call i32 asm <asm>");
    CHECK_EQ_STR(norm("  call void @\"unterminated"), "call void @\"unterminated");
    CHECK_EQ_STR(norm("  %x = call i32 @f(metadata !{i32 0"), "%ID = call i32 @f ( metadata !MD");
    CHECK_EQ_STR(norm("* % @ ! # ? :"), "* % @ ! # ? :");
    /* words append after existing ones; the count returned is the number appended */
    mir_words w;
    mir_words_init(&w);
    mir_words_push(&w, "first", 5);
    size_t n = mir_normalize_statement("ret void", 8, NULL, NULL, &w);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(w.n, 3);
    CHECK_EQ_STR(mir_words_get(&w, 0), "first");
    CHECK_EQ_STR(mir_words_get(&w, 2), "void");
    /* the input need not be NUL-terminated: only len bytes are read */
    mir_words_clear(&w);
    n = mir_normalize_statement("ret i32 17XXXX", 10, NULL, NULL, &w);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(mir_words_get(&w, 2), "<int+2>");
    /* a long statement grows the arena; words stay intact */
    mir_words_clear(&w);
    static char big[200000];
    size_t k = 0;
    k += (size_t)snprintf(big + k, sizeof big - k, "  %%p = phi i32");
    for (int i = 0; i < 5000; i++) k += (size_t)snprintf(big + k, sizeof big - k, " [ %d, %%bb%d ],", i, i);
    n = mir_normalize_statement(big, k, NULL, NULL, &w);
    CHECK_EQ_INT(n, 4 + 5000 * 4);
    CHECK_EQ_STR(mir_words_get(&w, 4 + 4 * 17 + 1), "<int+2>");
    CHECK_EQ_STR(mir_words_get(&w, w.n - 1), "]");
    mir_words_free(&w);
}

static void test_type(void) {
    char out[64];
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"i32", "i32"},
        {"ptr", "ptr"},
        {"ptr addrspace(1)", "ptraddrspace(1)"},
        {"<4 x float>", "<4xfloat>"},
        {"[8 x i32]", "[8xi32]"},
        {"%struct.Foo", "%struct"},
        {"%union.U", "%union"},
        {"%myty", "%type"},
        {"%0", "%type"},
        {"{ i32, ptr }", "{i32,ptr}"},
        {"<{ i8, [3 x i16] }>", "<{i8,[3xi16]}>"},
        {"i32*", "ptr"},
        {"float addrspace(1)*", "ptraddrspace(1)"},
        {"{ i32*, %struct.S* }", "{ptr,ptr}"},
        {"void (i32, ...)", "void(i32,...)"},
        {"[1000 x i8]", "[<int+4>xi8]"},
        {"<vscale x 4 x i32>", "<vscalex4xi32>"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = mir_normalize_type(cases[i].in, strlen(cases[i].in), NULL, NULL, out, sizeof out);
        CHECK_EQ_STR(out, cases[i].out);
        CHECK_EQ_INT(n, strlen(cases[i].out));
    }
    size_t n = mir_normalize_type("%myty", 5, classify, NULL, out, sizeof out);
    CHECK_EQ_STR(out, "%type");
    CHECK_EQ_INT(n, 5);
    /* truncation to cap-1 bytes */
    n = mir_normalize_type("<4 x float>", 11, NULL, NULL, out, 4);
    CHECK_EQ_STR(out, "<4x");
    CHECK_EQ_INT(n, 3);
    n = mir_normalize_type("<4 x float>", 11, NULL, NULL, out, 1);
    CHECK_EQ_STR(out, "");
    CHECK_EQ_INT(n, 0);
    out[0] = 'Z';
    n = mir_normalize_type("i32", 3, NULL, NULL, out, 0);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(out[0], 'Z');
    /* a type bigger than the internal stack buffers */
    static char big[20000], bigout[40000];
    size_t k = 0;
    k += (size_t)snprintf(big + k, sizeof big - k, "{ ");
    for (int i = 0; i < 1000; i++) k += (size_t)snprintf(big + k, sizeof big - k, "i32*, ");
    k += (size_t)snprintf(big + k, sizeof big - k, "i8 }");
    n = mir_normalize_type(big, k, NULL, NULL, bigout, sizeof bigout);
    CHECK_EQ_INT(n, 1 + 1000 * 4 + 2 + 1);
    CHECK(strncmp(bigout, "{ptr,ptr,", 9) == 0);
    CHECK_EQ_STR(bigout + n - 7, "ptr,i8}");
}

/* Past max_bytes (the 32-bit offsets' limit, lowered here) the arena marks its words invalid instead of aborting
 * (issue 17); clearing it takes the mark off. */
static void test_words_overflow(void) {
    mir_words w;
    mir_words_init(&w);
    w.max_bytes = 40;
    for (int i = 0; i < 5; i++) mir_words_push(&w, "abcdef", 6);
    CHECK(!w.overflow); /* 5 * 7 = 35 bytes */
    mir_words_push(&w, "abcdef", 6);
    CHECK(w.overflow); /* 42: the sixth word crosses, and is still stored */
    CHECK_EQ_INT(w.n, 6);
    CHECK_EQ_STR(mir_words_get(&w, 5), "abcdef");
    mir_words_clear(&w);
    CHECK(!w.overflow);
    const char *line = "%x = getelementptr inbounds %struct.S, ptr %p, i64 0, i32 1";
    mir_normalize_statement(line, strlen(line), NULL, NULL, &w);
    CHECK(w.overflow);
    mir_words_free(&w);
}

int main(void) {
    mir_words_init(&g_w);
    test_words_overflow();
    test_example_lines();
    test_classify();
    test_typed_pointers();
    test_integers();
    test_floats();
    test_intrinsics();
    test_misc();
    test_type();
    mir_words_free(&g_w);
    return mir_test_finish("test_normalize");
}
