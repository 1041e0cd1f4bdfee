/* SPDX-License-Identifier: MIT */
/*
 * RV64 F and D computational instructions.
 *
 * Strategy:
 *  - Arithmetic (add, sub, mul, div, sqrt, fused multiply-add) in the
 *    four rounding modes the host has runs on host hardware with the
 *    guest's rounding mode loaded and the host exception flags read back.
 *    On x86-64 the operations and the MXCSR accesses are inline asm, so
 *    the compiler cannot move an operation across a control-register
 *    access; elsewhere <fenv.h> with volatile temporaries is used.
 *  - RMM (ties away from zero), which no common host implements, and
 *    fused multiply-add on hosts without an FMA unit, compute the result
 *    in a wider host format rounded to odd (round toward zero, then set
 *    the lowest bit when inexact) and round that to the target format in
 *    software.  With at least two extra bits of precision, rounding the
 *    round-to-odd value gives the correctly rounded result in every mode,
 *    including the tininess-after-rounding underflow test.
 *  - Conversions, comparisons, sign injection, min/max, classify and
 *    moves are integer code on the bit patterns.
 *  - NaN operands are handled before touching the host, so host NaN
 *    propagation rules never leak; every NaN result is canonical.
 *  - Once the guest has NX accrued, RNE operations whose flags can be
 *    read off the operands and result skip the host control register
 *    entirely (see fast_ok_d()).
 *
 * The calling thread's host FP environment must be in its default state
 * (round to nearest, exceptions masked, no flush-to-zero); fpu_execute()
 * relies on that and restores it before returning.
 */
#include "cpu/fpu.h"

#include <fenv.h>
#include <float.h>
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && !defined(WIRT_FPU_NO_ASM)
#define FPU_SSE 1
#else
#define FPU_SSE 0
#endif

#if LDBL_MANT_DIG < 55 || LDBL_MAX_EXP < 4096
#error "the RMM path needs a long double with >= 55 bits and a wide exponent"
#endif

#define F32_QNAN 0x7fc00000u
#define F64_QNAN 0x7ff8000000000000ULL
#define F32_SIGN 0x80000000u
#define F64_SIGN 0x8000000000000000ULL

enum { OP_ADD, OP_MUL, OP_DIV, OP_SQRT, OP_FMA };

/* ---- bit helpers ------------------------------------------------------ */

static inline float f32_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof(f));
    return f;
}

static inline uint32_t bits_f32(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof(u));
    return u;
}

static inline double f64_of(uint64_t u)
{
    double d;
    memcpy(&d, &u, sizeof(d));
    return d;
}

static inline uint64_t bits_f64(double d)
{
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    return u;
}

static inline bool f32_nan(uint32_t u)
{
    return (u & 0x7fffffffu) > 0x7f800000u;
}

static inline bool f32_snan(uint32_t u)
{
    return f32_nan(u) && !(u & 0x00400000u);
}

static inline bool f32_inf(uint32_t u)
{
    return (u & 0x7fffffffu) == 0x7f800000u;
}

static inline bool f32_zero(uint32_t u)
{
    return (u & 0x7fffffffu) == 0;
}

static inline bool f64_nan(uint64_t u)
{
    return (u & ~F64_SIGN) > 0x7ff0000000000000ULL;
}

static inline bool f64_snan(uint64_t u)
{
    return f64_nan(u) && !(u & 0x0008000000000000ULL);
}

static inline bool f64_inf(uint64_t u)
{
    return (u & ~F64_SIGN) == 0x7ff0000000000000ULL;
}

static inline bool f64_zero(uint64_t u)
{
    return (u & ~F64_SIGN) == 0;
}

/* A single operand whose upper half is not all ones reads as the
 * canonical NaN (NaN-boxing, unprivileged spec "NaN Boxing"). */
static inline uint32_t unbox(uint64_t v)
{
    return (v >> 32) == 0xffffffffu ? (uint32_t)v : F32_QNAN;
}

/* ---- software rounding ------------------------------------------------ */

/* Rounds sig >> shift to an integer per rm (sign is the sign of the
 * value, for the directed modes); *inexact reports dropped bits. */
static inline uint64_t round_shift(uint64_t sig, int shift, bool sign, int rm, bool *inexact)
{
    uint64_t kept, rest; /* rest: the dropped bits, aligned to bit 63 */
    const uint64_t half = 1ULL << 63;

    if (shift <= 0) {
        *inexact = false;
        return sig;
    }
    if (shift < 64) {
        kept = sig >> shift;
        rest = sig << (64 - shift);
    } else if (shift == 64) {
        kept = 0;
        rest = sig;
    } else {
        kept = 0;
        rest = sig != 0; /* below one half, but not zero */
    }
    *inexact = rest != 0;
    switch (rm) {
    case RM_RNE:
        return kept + (rest > half || (rest == half && (kept & 1)));
    case RM_RMM:
        return kept + (rest >= half);
    case RM_RDN:
        return kept + (sign && rest);
    case RM_RUP:
        return kept + (!sign && rest);
    default:
        return kept;
    }
}

/* Floating-point formats by their fmt field: S, D, H. */
enum { FMT_S = 0, FMT_D = 1, FMT_H = 2 };
static const int fmt_p[3] = {24, 53, 11};       /* precision */
static const int fmt_emax[3] = {127, 1023, 15}; /* also the bias */
static const int fmt_w[3] = {32, 64, 16};
static const uint64_t fmt_qnan[3] = {F32_QNAN, F64_QNAN, 0x7e00};

/* Rounds sign * sig * 2^exp (sig != 0) to format fmt and returns the bit
 * pattern.  Underflow is signalled when the result is tiny after
 * rounding (with unbounded exponent) and inexact. */
static uint64_t round_pack_fmt(bool sign, int exp, uint64_t sig, int fmt, int rm, uint32_t *fl)
{
    const int p = fmt_p[fmt];
    const int emax = fmt_emax[fmt];
    const int emin = 1 - emax;
    const uint64_t sign_bit = (uint64_t)sign << (fmt_w[fmt] - 1);
    const uint64_t inf = (uint64_t)(2 * emax + 1) << (p - 1);
    int lz = __builtin_clzll(sig);
    int e;
    bool tiny = false, inexact;
    uint64_t k, out;

    sig <<= lz;
    e = exp - lz + 63; /* value = 1.f * 2^e */
    if (e < emin) {
        k = round_shift(sig, 64 - p, sign, rm, &inexact);
        tiny = e + 1 < emin || !(k >> p);
        k = round_shift(sig, 64 - p + (emin - e), sign, rm, &inexact);
        /* A carry into bit p-1 lands in the exponent field: min normal. */
        out = k;
    } else {
        k = round_shift(sig, 64 - p, sign, rm, &inexact);
        if (k >> p) {
            k >>= 1;
            e++;
        }
        if (e > emax) {
            *fl |= FFLAG_OF | FFLAG_NX;
            bool to_inf =
                rm == RM_RNE || rm == RM_RMM || (rm == RM_RUP && !sign) || (rm == RM_RDN && sign);
            return sign_bit | (to_inf ? inf : inf - 1);
        }
        out = ((uint64_t)(e + emax) << (p - 1)) | (k & ((1ULL << (p - 1)) - 1)); /* bias = emax */
    }
    if (inexact) {
        *fl |= FFLAG_NX;
        if (tiny)
            *fl |= FFLAG_UF;
    }
    return sign_bit | out;
}

/* ---- host floating-point environment ---------------------------------- */

#if FPU_SSE

/* MXCSR: flags IE DE ZE OE UE PE in bits 0-5, masks 7-12, RC 13-14. */
#define MX_BASE 0x1f80u /* all exceptions masked, RNE, no DAZ/FTZ */

static const uint32_t mx_rc[4] = {0x0000, 0x6000, 0x2000, 0x4000};

static bool host_has_fma;

__attribute__((constructor)) static void fpu_detect(void)
{
    __builtin_cpu_init();
    host_has_fma = __builtin_cpu_supports("fma");
}

bool fpu_host_has_fma(void)
{
    return host_has_fma;
}

static inline uint32_t mx_get(void)
{
    uint32_t v;
    __asm__ volatile("stmxcsr %0" : "=m"(v));
    return v;
}

static inline void mx_set(uint32_t v)
{
    __asm__ volatile("ldmxcsr %0" : : "m"(v));
}

static inline uint32_t mx_fflags(uint32_t c)
{
    return (c & 1) << 4 | (c >> 2 & 1) << 3 | (c >> 3 & 1) << 2 | (c >> 4 & 1) << 1 | (c >> 5 & 1);
}

struct host_env {
    uint32_t rm;
};

/* Loads rm (0..3) with cleared flags.  MXCSR is written rather than
 * read-modified: STMXCSR is the slow half of the pair, and only the one
 * after the operation is needed.  Afterwards MXCSR is left in the ABI
 * default state (RNE, all exceptions masked, no FTZ/DAZ), so host code
 * in a thread that runs guest FP must not rely on a custom MXCSR. */
static inline void host_begin(struct host_env *env, int rm)
{
    uint32_t want = MX_BASE | mx_rc[rm];

    env->rm = (uint32_t)rm;
    mx_set(want);
}

static inline uint32_t host_end(struct host_env *env)
{
    uint32_t c = mx_get();

    if (env->rm != RM_RNE)
        mx_set(MX_BASE);
    return mx_fflags(c);
}

#define SSE_BIN(name, type, insn)                                                                  \
    static inline type name(type a, type b)                                                        \
    {                                                                                              \
        __asm__ volatile(insn " %1, %0" : "+x"(a) : "x"(b));                                       \
        return a;                                                                                  \
    }
SSE_BIN(h_add_s, float, "addss")
SSE_BIN(h_mul_s, float, "mulss")
SSE_BIN(h_div_s, float, "divss")
SSE_BIN(h_add_d, double, "addsd")
SSE_BIN(h_mul_d, double, "mulsd")
SSE_BIN(h_div_d, double, "divsd")

static inline float h_sqrt_s(float a)
{
    float r;
    __asm__ volatile("sqrtss %1, %0" : "=x"(r) : "x"(a));
    return r;
}

static inline double h_sqrt_d(double a)
{
    double r;
    __asm__ volatile("sqrtsd %1, %0" : "=x"(r) : "x"(a));
    return r;
}

/* Only called when host_has_fma. */
static inline float h_fma_s(float a, float b, float c)
{
    __asm__ volatile("vfmadd213ss %2, %1, %0" : "+x"(a) : "x"(b), "x"(c));
    return a;
}

static inline double h_fma_d(double a, double b, double c)
{
    __asm__ volatile("vfmadd213sd %2, %1, %0" : "+x"(a) : "x"(b), "x"(c));
    return a;
}

#else /* portable <fenv.h> path; build this file with -frounding-math */

#define host_has_fma true

static const int fe_of_rm[4] = {FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};

static inline uint32_t fflags_of_fe(int ex)
{
    uint32_t f = 0;

    if (ex & FE_INVALID)
        f |= FFLAG_NV;
    if (ex & FE_DIVBYZERO)
        f |= FFLAG_DZ;
    if (ex & FE_OVERFLOW)
        f |= FFLAG_OF;
    if (ex & FE_UNDERFLOW)
        f |= FFLAG_UF;
    if (ex & FE_INEXACT)
        f |= FFLAG_NX;
    return f;
}

struct host_env {
    int unused;
};

static inline void host_begin(struct host_env *env, int rm)
{
    (void)env;
    feclearexcept(FE_ALL_EXCEPT);
    fesetround(fe_of_rm[rm]);
}

static inline uint32_t host_end(struct host_env *env)
{
    int ex = fetestexcept(FE_ALL_EXCEPT);

    (void)env;
    fesetround(FE_TONEAREST);
    return fflags_of_fe(ex);
}

/* Volatile temporaries keep the operation between the fenv calls. */
#define GEN_BIN(name, type, expr)                                                                  \
    static inline type name(type a, type b)                                                        \
    {                                                                                              \
        volatile type x = a, y = b;                                                                \
        volatile type r = expr;                                                                    \
        return r;                                                                                  \
    }
GEN_BIN(h_add_s, float, x + y)
GEN_BIN(h_mul_s, float, x *y)
GEN_BIN(h_div_s, float, x / y)
GEN_BIN(h_add_d, double, x + y)
GEN_BIN(h_mul_d, double, x *y)
GEN_BIN(h_div_d, double, x / y)

static inline float h_sqrt_s(float a)
{
    volatile float x = a;
    volatile float r = sqrtf(x);
    return r;
}

static inline double h_sqrt_d(double a)
{
    volatile double x = a;
    volatile double r = sqrt(x);
    return r;
}

static inline float h_fma_s(float a, float b, float c)
{
    volatile float x = a, y = b, z = c;
    volatile float r = fmaf(x, y, z);
    return r;
}

static inline double h_fma_d(double a, double b, double c)
{
    volatile double x = a, y = b, z = c;
    volatile double r = fma(x, y, z);
    return r;
}

#endif

/* ---- wide (round-to-odd) path ----------------------------------------- */

/* One operation in double under host mode fe; *ex gets the host flags. */
static double wide_op_d(int op, double a, double b, double c, int fe, int *ex)
{
    volatile double x = a, y = b, z = c, r;

    feclearexcept(FE_ALL_EXCEPT);
    fesetround(fe);
    switch (op) {
    case OP_ADD:
        r = x + y;
        break;
    case OP_MUL:
        r = x * y;
        break;
    case OP_DIV:
        r = x / y;
        break;
    case OP_SQRT:
        r = sqrt(x);
        break;
    default:
        /* Single operands: the double product is exact, so this sum is
         * the only rounding. */
        r = x * y + z;
        break;
    }
    *ex = fetestexcept(FE_ALL_EXCEPT);
    fesetround(FE_TONEAREST);
    return r;
}

static long double wide_op_ld(int op, long double a, long double b, long double c, int fe, int *ex)
{
    volatile long double x = a, y = b, z = c, r;

    feclearexcept(FE_ALL_EXCEPT);
    fesetround(fe);
    switch (op) {
    case OP_ADD:
        r = x + y;
        break;
    case OP_MUL:
        r = x * y;
        break;
    case OP_DIV:
        r = x / y;
        break;
    case OP_SQRT:
        r = sqrtl(x);
        break;
    default:
        r = fmal(x, y, z);
        break;
    }
    *ex = fetestexcept(FE_ALL_EXCEPT);
    fesetround(FE_TONEAREST);
    return r;
}

/* Single- or half-precision (fmt) operation via double rounded to odd.
 * Operands are not NaN. */
static uint64_t wide_sh(int op, double a, double b, double c, int fmt, int rm, uint32_t *fl)
{
    int ex;
    double r = wide_op_d(op, a, b, c, FE_TOWARDZERO, &ex);
    uint64_t u = bits_f64(r);

    if (isnan(r)) {
        *fl |= FFLAG_NV;
        return fmt_qnan[fmt];
    }
    if (ex & FE_DIVBYZERO)
        *fl |= FFLAG_DZ;
    if (r == 0 && rm == RM_RDN && (op == OP_ADD || op == OP_FMA))
        r = wide_op_d(op, a, b, c, FE_DOWNWARD, &ex); /* exact zero: sign per mode */
    if (isinf(r) || r == 0) {
        if (fmt == FMT_S)
            return bits_f32((float)r);
        return (uint64_t)(signbit(r) != 0) << 15 | (isinf(r) ? 0x7c00 : 0);
    }

    /* r is a normal double: operands' range keeps it far from double's
     * subnormals and overflow. */
    uint64_t sig = (u & ((1ULL << 52) - 1)) | (1ULL << 52);
    int exp = (int)(u >> 52 & 0x7ff) - 1075;
    if (ex & FE_INEXACT)
        sig |= 1;
    return round_pack_fmt(u >> 63, exp, sig, fmt, rm, fl);
}

static uint32_t wide_s(int op, float a, float b, float c, int rm, uint32_t *fl)
{
    return (uint32_t)wide_sh(op, a, b, c, FMT_S, rm, fl);
}

static uint64_t wide_d(int op, double a, double b, double c, int rm, uint32_t *fl)
{
    int ex, e;
    long double r = wide_op_ld(op, a, b, c, FE_TOWARDZERO, &ex);

    if (isnan(r)) {
        *fl |= FFLAG_NV;
        return F64_QNAN;
    }
    if (ex & FE_DIVBYZERO)
        *fl |= FFLAG_DZ;
    if (r == 0 && rm == RM_RDN && (op == OP_ADD || op == OP_FMA))
        r = wide_op_ld(op, a, b, c, FE_DOWNWARD, &ex);
    if (isinf(r) || r == 0)
        return bits_f64((double)r);

    long double m = frexpl(r, &e);
    uint64_t sig = (uint64_t)ldexpl(fabsl(m), 64);
    if (ex & FE_INEXACT)
        sig |= 1;
    return round_pack_fmt(signbit(r) != 0, e - 64, sig, FMT_D, rm, fl);
}

/* ---- arithmetic --------------------------------------------------------- */

static inline float compute_s(int op, float a, float b, float c)
{
    switch (op) {
    case OP_ADD:
        return h_add_s(a, b);
    case OP_MUL:
        return h_mul_s(a, b);
    case OP_DIV:
        return h_div_s(a, b);
    case OP_SQRT:
        return h_sqrt_s(a);
    default:
        return h_fma_s(a, b, c);
    }
}

static inline double compute_d(int op, double a, double b, double c)
{
    switch (op) {
    case OP_ADD:
        return h_add_d(a, b);
    case OP_MUL:
        return h_mul_d(a, b);
    case OP_DIV:
        return h_div_d(a, b);
    case OP_SQRT:
        return h_sqrt_d(a);
    default:
        return h_fma_d(a, b, c);
    }
}

/*
 * Accrued-inexact fast path.  Once the guest has NX accrued (typical: it
 * is sticky and rarely cleared), an RNE operation on finite operands that
 * cannot be invalid or divide by zero only needs its OF and UF decided,
 * and those can be read off the result: an infinite result from finite
 * operands is an overflow, and a result above the smallest normal in
 * magnitude cannot be tiny.  Everything else (zero, subnormal or
 * smallest-normal results) is recomputed on the exact path.  The host
 * runs in RNE outside fpu_execute: this file always restores it.
 */
static inline bool fast_ok_s(int op, uint32_t a, uint32_t b, uint32_t c)
{
    const uint32_t e = 0x7f800000u;

    if ((a & e) == e)
        return false;
    if (op == OP_SQRT)
        return !(a & F32_SIGN) || f32_zero(a);
    if ((b & e) == e)
        return false;
    if (op == OP_FMA)
        return (c & e) != e;
    return op != OP_DIV || !f32_zero(b);
}

static inline bool fast_ok_d(int op, uint64_t a, uint64_t b, uint64_t c)
{
    const uint64_t e = 0x7ff0000000000000ULL;

    if ((a & e) == e)
        return false;
    if (op == OP_SQRT)
        return !(a & F64_SIGN) || f64_zero(a);
    if ((b & e) == e)
        return false;
    if (op == OP_FMA)
        return (c & e) != e;
    return op != OP_DIV || !f64_zero(b);
}

/* op on single operands a, b, c (bit patterns; sub is add with b negated). */
static uint32_t arith_s(int op, uint32_t a, uint32_t b, uint32_t c, int rm, uint32_t *fl)
{
    bool nan = f32_nan(a) || (op != OP_SQRT && f32_nan(b)) || (op == OP_FMA && f32_nan(c));

    if (nan) {
        bool nv = f32_snan(a) || (op != OP_SQRT && f32_snan(b)) || (op == OP_FMA && f32_snan(c));
        /* RISC-V: inf * 0 is invalid even when the addend is a qNaN. */
        if (op == OP_FMA && ((f32_inf(a) && f32_zero(b)) || (f32_zero(a) && f32_inf(b))))
            nv = true;
        if (nv)
            *fl |= FFLAG_NV;
        return F32_QNAN;
    }
    float fa = f32_of(a), fb = f32_of(b), fc = f32_of(c);
    bool hw = op != OP_FMA || host_has_fma;

    if (rm == RM_RNE && hw && (*fl & FFLAG_NX) && fast_ok_s(op, a, b, c)) {
        uint32_t u = bits_f32(compute_s(op, fa, fb, fc));
        uint32_t mag = u & ~F32_SIGN;
        if (mag > 0x00800000u && mag < 0x7f800000u)
            return u;
        if (mag == 0x7f800000u) {
            *fl |= FFLAG_OF | FFLAG_NX;
            return u;
        }
    }
    if (rm == RM_RMM || !hw)
        return wide_s(op, fa, fb, fc, rm, fl);

    struct host_env env;
    host_begin(&env, rm);
    float r = compute_s(op, fa, fb, fc);
    *fl |= host_end(&env);
    uint32_t u = bits_f32(r);
    return f32_nan(u) ? F32_QNAN : u;
}

static uint64_t arith_d(int op, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    bool nan = f64_nan(a) || (op != OP_SQRT && f64_nan(b)) || (op == OP_FMA && f64_nan(c));

    if (nan) {
        bool nv = f64_snan(a) || (op != OP_SQRT && f64_snan(b)) || (op == OP_FMA && f64_snan(c));
        if (op == OP_FMA && ((f64_inf(a) && f64_zero(b)) || (f64_zero(a) && f64_inf(b))))
            nv = true;
        if (nv)
            *fl |= FFLAG_NV;
        return F64_QNAN;
    }
    double da = f64_of(a), db = f64_of(b), dc = f64_of(c);
    bool hw = op != OP_FMA || host_has_fma;

    if (rm == RM_RNE && hw && (*fl & FFLAG_NX) && fast_ok_d(op, a, b, c)) {
        uint64_t u = bits_f64(compute_d(op, da, db, dc));
        uint64_t mag = u & ~F64_SIGN;
        if (mag > 0x0010000000000000ULL && mag < 0x7ff0000000000000ULL)
            return u;
        if (mag == 0x7ff0000000000000ULL) {
            *fl |= FFLAG_OF | FFLAG_NX;
            return u;
        }
    }
    if (rm == RM_RMM || !hw)
        return wide_d(op, da, db, dc, rm, fl);

    struct host_env env;
    host_begin(&env, rm);
    double r = compute_d(op, da, db, dc);
    *fl |= host_end(&env);
    uint64_t u = bits_f64(r);
    return f64_nan(u) ? F64_QNAN : u;
}

/* ---- conversions ---------------------------------------------------------- */

/* FCVT.S.D, FCVT.H.D (and .H.S through an exact widening): the double
 * with bits u rounded to format fmt. */
static uint64_t cvt_from_d(uint64_t u, int fmt, int rm, uint32_t *fl)
{
    bool sign = u >> 63;
    int e = u >> 52 & 0x7ff;
    uint64_t frac = u & ((1ULL << 52) - 1);
    uint64_t sign_bit = (uint64_t)sign << (fmt_w[fmt] - 1);

    if (e == 0x7ff) {
        if (!frac)
            return sign_bit | (uint64_t)(2 * fmt_emax[fmt] + 1) << (fmt_p[fmt] - 1);
        if (f64_snan(u))
            *fl |= FFLAG_NV;
        return fmt_qnan[fmt];
    }
    if (e == 0 && frac == 0)
        return sign_bit;
    if (e == 0)
        return round_pack_fmt(sign, -1074, frac, fmt, rm, fl);
    return round_pack_fmt(sign, e - 1075, frac | (1ULL << 52), fmt, rm, fl);
}

static uint32_t cvt_s_d(uint64_t u, int rm, uint32_t *fl)
{
    return (uint32_t)cvt_from_d(u, FMT_S, rm, fl);
}

/* FCVT.D.S: exact except for NaNs. */
static uint64_t cvt_d_s(uint32_t u, uint32_t *fl)
{
    if (f32_nan(u)) {
        if (f32_snan(u))
            *fl |= FFLAG_NV;
        return F64_QNAN;
    }
    return bits_f64((double)f32_of(u));
}

/* FCVT.{S,D,H}.{W,WU,L,LU}; type: 0 W, 1 WU, 2 L, 3 LU. */
static uint64_t cvt_from_int(uint64_t v, int type, int fmt, int rm, uint32_t *fl)
{
    bool sign = false;
    uint64_t mag;

    switch (type) {
    case 0:
        mag = (uint64_t)(int64_t)(int32_t)v;
        break;
    case 1:
        mag = (uint32_t)v;
        break;
    default:
        mag = v;
        break;
    }
    if ((type == 0 || type == 2) && (int64_t)mag < 0) {
        sign = true;
        mag = -mag;
    }
    if (mag == 0)
        return 0;
    return round_pack_fmt(sign, 0, mag, fmt, rm, fl);
}

/* FCVT.{W,WU,L,LU}.D on the double with bits u (single operands are
 * widened first, which is exact).  Returns the x register value. */
static uint64_t cvt_to_int(uint64_t u, int type, int rm, uint32_t *fl)
{
    static const uint64_t max_pos[4] = {0x7fffffff, 0xffffffff, INT64_MAX, UINT64_MAX};
    static const uint64_t max_neg[4] = {0x80000000, 0, 1ULL << 63, 0};
    bool sign = u >> 63;
    int e = u >> 52 & 0x7ff;
    uint64_t frac = u & ((1ULL << 52) - 1);
    uint64_t mag = 0, res;
    bool invalid = false, inexact = false;

    if (e == 0x7ff) {
        invalid = true;
    } else {
        uint64_t m = e ? frac | (1ULL << 52) : frac;
        int shift = (e ? e : 1) - 1075; /* value = m * 2^shift */
        if (shift > 11)
            invalid = true; /* >= 2^64 */
        else if (shift >= 0)
            mag = m << shift;
        else
            mag = round_shift(m, -shift, sign, rm, &inexact);
        if (!invalid)
            invalid = mag > (sign ? max_neg[type] : max_pos[type]);
    }
    if (invalid) {
        *fl |= FFLAG_NV;
        if (f64_nan(u) || !sign)
            res = max_pos[type];
        else
            res = -max_neg[type];
    } else {
        if (inexact)
            *fl |= FFLAG_NX;
        res = sign ? -mag : mag;
    }
    if (type < 2)
        res = (uint64_t)(int64_t)(int32_t)res;
    return res;
}

/* ---- comparisons, min/max, classify ----------------------------------- */

/* Maps a non-NaN float pattern to an unsigned key with the same order
 * (-0 below +0). */
static inline uint64_t order_key(uint64_t u, int width)
{
    uint64_t sign = 1ULL << (width - 1);
    return (u & sign) ? ~u & ((sign << 1) - 1) : u | sign;
}

static inline bool fmt_nan(uint64_t u, int fmt)
{
    int w = fmt_w[fmt];
    uint64_t mag = u & ((1ULL << (w - 1)) - 1);
    return mag > (uint64_t)(2 * fmt_emax[fmt] + 1) << (fmt_p[fmt] - 1);
}

static inline bool fmt_snan(uint64_t u, int fmt)
{
    return fmt_nan(u, fmt) && !(u >> (fmt_p[fmt] - 2) & 1);
}

/* The value of a non-NaN S, D or H pattern as a double (exact). */
static double fmt_to_double(uint64_t u, int fmt)
{
    if (fmt == FMT_D)
        return f64_of(u);
    if (fmt == FMT_S)
        return f32_of((uint32_t)u);
    int e = (int)(u >> 10 & 0x1f), m = (int)(u & 0x3ff);
    double v = e == 0x1f ? INFINITY : e ? ldexp(m | 0x400, e - 25) : ldexp(m, -24);
    return (u & 0x8000) ? -v : v;
}

/* FMIN/FMAX per the 2.2 spec (IEEE 754-2019 minimumNumber/maximumNumber);
 * with nan_wins (Zfa FMINM/FMAXM: minimum/maximum) any NaN operand gives
 * the canonical NaN. */
static uint64_t minmax(uint64_t a, uint64_t b, int fmt, bool is_max, uint32_t *fl, bool nan_wins)
{
    bool an = fmt_nan(a, fmt), bn = fmt_nan(b, fmt);

    if (fmt_snan(a, fmt) || fmt_snan(b, fmt))
        *fl |= FFLAG_NV;
    if ((an && bn) || (nan_wins && (an || bn)))
        return fmt_qnan[fmt];
    if (an)
        return b;
    if (bn)
        return a;
    int w = fmt_w[fmt];
    bool a_less = order_key(a, w) < order_key(b, w);
    return (a_less != is_max) ? a : b;
}

/* FLE (f3 0), FLT (1), FEQ (2); quiet (Zfa FLEQ/FLTQ): only signalling
 * NaNs are invalid. */
static uint64_t compare(uint64_t a, uint64_t b, int fmt, uint32_t f3, uint32_t *fl, bool quiet)
{
    if (fmt_nan(a, fmt) || fmt_nan(b, fmt)) {
        bool sn = fmt_snan(a, fmt) || fmt_snan(b, fmt);
        if ((f3 != 2 && !quiet) || sn)
            *fl |= FFLAG_NV;
        return 0;
    }
    double x = fmt_to_double(a, fmt);
    double y = fmt_to_double(b, fmt);
    switch (f3) {
    case 0:
        return x <= y;
    case 1:
        return x < y;
    default:
        return x == y;
    }
}

static uint64_t classify(uint64_t u, int fmt)
{
    int w = fmt_w[fmt], mbits = fmt_p[fmt] - 1;
    bool sign = u >> (w - 1) & 1;
    uint64_t emask = (uint64_t)(2 * fmt_emax[fmt] + 1);
    uint64_t e = u >> mbits & emask;
    uint64_t frac = u & ((1ULL << mbits) - 1);

    if (e == emask) {
        if (frac == 0)
            return sign ? 1u << 0 : 1u << 7;
        return (frac >> (mbits - 1)) ? 1u << 9 : 1u << 8;
    }
    if (e == 0)
        return frac == 0 ? (sign ? 1u << 3 : 1u << 4) : (sign ? 1u << 2 : 1u << 5);
    return sign ? 1u << 1 : 1u << 6;
}

/* ---- Zfh (half precision) and Zfa -------------------------------------- */

/* A half operand whose upper 48 bits are not all ones reads as the
 * canonical NaN (NaN-boxing). */
static inline uint64_t unbox_h(uint64_t v)
{
    return (v >> 16) == 0xffffffffffffULL ? (v & 0xffff) : 0x7e00;
}

static inline uint64_t fmt_get(uint64_t v, int fmt)
{
    return fmt == FMT_D ? v : fmt == FMT_S ? unbox(v) : unbox_h(v);
}

static inline uint64_t fmt_box(uint64_t v, int fmt)
{
    return fmt == FMT_D ? v : fmt == FMT_S ? fpu_box32((uint32_t)v) : fpu_box16((uint16_t)v);
}

/* The double with the value of S or H pattern u (exact), quieting NaNs
 * (a signalling one raises NV). */
static uint64_t cvt_d_of(uint64_t u, int fmt, uint32_t *fl)
{
    if (fmt == FMT_D)
        return u;
    if (fmt_nan(u, fmt)) {
        if (fmt_snan(u, fmt))
            *fl |= FFLAG_NV;
        return F64_QNAN;
    }
    return bits_f64(fmt_to_double(u, fmt));
}

/* Half-precision arithmetic: operands widened to double (exact), one
 * operation rounded to odd in double, then rounded to half (11 bits are
 * far fewer than 53 - 2, so the double rounding is exact). */
static uint64_t arith_h(int op, uint64_t a, uint64_t b, uint64_t c, int rm, uint32_t *fl)
{
    bool nan = fmt_nan(a, FMT_H) || (op != OP_SQRT && fmt_nan(b, FMT_H)) ||
               (op == OP_FMA && fmt_nan(c, FMT_H));

    if (nan) {
        bool nv = fmt_snan(a, FMT_H) || (op != OP_SQRT && fmt_snan(b, FMT_H)) ||
                  (op == OP_FMA && fmt_snan(c, FMT_H));
        if (op == OP_FMA && ((classify(a, FMT_H) & 0x81) && !(b & 0x7fff)))
            nv = true; /* inf * 0 */
        if (op == OP_FMA && ((classify(b, FMT_H) & 0x81) && !(a & 0x7fff)))
            nv = true;
        if (nv)
            *fl |= FFLAG_NV;
        return 0x7e00;
    }
    return wide_sh(op, fmt_to_double(a, FMT_H), fmt_to_double(b, FMT_H), fmt_to_double(c, FMT_H),
                   FMT_H, rm, fl);
}

/* The 32 FLI constants as singles; the double and half tables differ in
 * entry 1 (each format's smallest normal) and are derived from it. */
static const uint32_t fli_s[32] = {
    0xbf800000, 0x00800000, 0x37800000, 0x38000000, 0x3b800000, 0x3c000000, 0x3d800000, 0x3e000000,
    0x3e800000, 0x3ea00000, 0x3ec00000, 0x3ee00000, 0x3f000000, 0x3f200000, 0x3f400000, 0x3f600000,
    0x3f800000, 0x3fa00000, 0x3fc00000, 0x3fe00000, 0x40000000, 0x40200000, 0x40400000, 0x40800000,
    0x41000000, 0x41800000, 0x43000000, 0x43800000, 0x47000000, 0x47800000, 0x7f800000, 0x7fc00000};

static uint64_t fli(unsigned idx, int fmt)
{
    uint32_t none = 0;
    if (fmt == FMT_S)
        return fli_s[idx];
    if (idx == 1)
        return fmt == FMT_D ? 0x0010000000000000ULL : 0x0400;
    uint64_t d = cvt_d_of(fli_s[idx], FMT_S, &none);
    /* Half: 2^16 (entry 29) overflows to +inf, as the spec says. */
    return fmt == FMT_D ? d : cvt_from_d(d, FMT_H, RM_RNE, &none);
}

/* FROUND/FROUNDNX: u (a non-NaN, finite, non-zero double) rounded to an
 * integral value per rm; *inexact when that changed it. */
static uint64_t round_integral(uint64_t u, int rm, bool *inexact)
{
    int e = u >> 52 & 0x7ff;
    bool sign = u >> 63;
    *inexact = false;
    if (e >= 1075)
        return u; /* |u| >= 2^52: already integral */
    uint64_t m = e ? (u & ((1ULL << 52) - 1)) | (1ULL << 52) : u & ((1ULL << 52) - 1);
    uint64_t k = round_shift(m, 1075 - (e ? e : 1), sign, rm, inexact);
    return (uint64_t)sign << 63 | (k ? bits_f64((double)k) : 0);
}

/* FCVTMOD.W.D: truncated, modulo 2^32, sign-extended; flags as FCVT.W.D
 * with RTZ. */
static uint64_t cvtmod_w_d(uint64_t u, uint32_t *fl)
{
    int e = u >> 52 & 0x7ff;
    uint64_t m = e ? (u & ((1ULL << 52) - 1)) | (1ULL << 52) : u & ((1ULL << 52) - 1);
    int shift = (e ? e : 1) - 1075;
    uint64_t mag;

    (void)cvt_to_int(u, 0, RM_RTZ, fl);
    if (e == 0x7ff || shift >= 32)
        return 0; /* infinities, NaNs, and multiples of 2^32 */
    mag = shift >= 0 ? m << shift : shift > -64 ? m >> -shift : 0;
    if (u >> 63)
        mag = -mag;
    return (uint64_t)(int64_t)(int32_t)(uint32_t)mag;
}

/* The Zfh instructions (fmt H, and FCVT.S.H/FCVT.D.H) and the Zfa ones, in
 * OP-FP: returns 1 when done, 0 for an illegal encoding, -1 when insn is
 * neither (the base F/D decoder then takes it). */
static int fpu_exec_ext(struct fpu_regs *fp, uint64_t *x, uint32_t insn, int rm, uint32_t *fl)
{
    const uint32_t rd = insn >> 7 & 31;
    const uint32_t f3 = insn >> 12 & 7;
    const uint32_t rs1 = insn >> 15 & 31;
    const uint32_t rs2 = insn >> 20 & 31;
    const uint32_t f7 = insn >> 25;
    const int fmt = (int)(f7 & 3);
    const bool rm_ok = rm <= RM_RMM;
    const uint64_t a = fmt == 3 ? 0 : fmt_get(fp->f[rs1], fmt);
    const uint64_t b = fmt == 3 ? 0 : fmt_get(fp->f[rs2], fmt);
    const uint32_t grp = f7 >> 2;

    if (fmt == 3)
        return -1;
    if (fmt != FMT_H) {
        /* Only Zfa's encodings, and FCVT.{S,D}.H, among S and D. */
        bool mine = (grp == 0x05 && f3 >= 2) || (grp == 0x14 && f3 >= 3) ||
                    (grp == 0x08 && rs2 >= 2) || (f7 == 0x61 && rs2 == 8) ||
                    (grp == 0x1e && rs2 == 1);
        if (!mine)
            return -1;
    }
    switch (grp) {
    case 0x00: /* FADD.H */
    case 0x01: /* FSUB.H */
    case 0x02: /* FMUL.H */
    case 0x03: /* FDIV.H */
    case 0x0b: /* FSQRT.H */ {
        static const int ops[12] = {OP_ADD, OP_ADD, OP_MUL, OP_DIV, 0, 0, 0, 0, 0, 0, 0, OP_SQRT};
        if (!rm_ok || (grp == 0x0b && rs2 != 0))
            return 0;
        fp->f[rd] = fpu_box16((uint16_t)arith_h(ops[grp], a, grp == 1 ? b ^ 0x8000 : b, 0, rm, fl));
        return 1;
    }
    case 0x04: /* FSGNJ.H, FSGNJN.H, FSGNJX.H */ {
        uint64_t sg;
        if (f3 == 0)
            sg = b;
        else if (f3 == 1)
            sg = ~b;
        else if (f3 == 2)
            sg = a ^ b;
        else
            return 0;
        fp->f[rd] = fpu_box16((uint16_t)((a & 0x7fff) | (sg & 0x8000)));
        return 1;
    }
    case 0x05: /* FMIN, FMAX (H); FMINM, FMAXM (Zfa) */
        if (f3 > 3)
            return 0;
        fp->f[rd] = fmt_box(minmax(a, b, fmt, f3 & 1, fl, f3 >= 2), fmt);
        return 1;
    case 0x08: /* FCVT.S.H, FCVT.D.H, FCVT.H.S, FCVT.H.D; FROUND[NX] */
        if (!rm_ok)
            return 0;
        if (rs2 == 4 || rs2 == 5) {
            uint64_t r = a;
            if (fmt_nan(a, fmt)) {
                if (fmt_snan(a, fmt))
                    *fl |= FFLAG_NV;
                r = fmt_qnan[fmt];
            } else if (classify(a, fmt) & 0x66) { /* finite, non-zero */
                bool inexact;
                uint64_t d = round_integral(cvt_d_of(a, fmt, fl), rm, &inexact);
                r = cvt_from_d(d, fmt, RM_RNE, &(uint32_t){0});
                if (inexact && rs2 == 5)
                    *fl |= FFLAG_NX;
            }
            fp->f[rd] = fmt_box(r, fmt);
            return 1;
        }
        if (fmt == FMT_H && rs2 <= 1) { /* FCVT.H.S, FCVT.H.D */
            uint64_t d = rs2 == 0 ? cvt_d_of(unbox(fp->f[rs1]), FMT_S, fl) : fp->f[rs1];
            fp->f[rd] = fpu_box16((uint16_t)cvt_from_d(d, FMT_H, rm, fl));
            return 1;
        }
        if (fmt != FMT_H && rs2 == 2) { /* FCVT.S.H, FCVT.D.H: exact */
            uint64_t d = cvt_d_of(unbox_h(fp->f[rs1]), FMT_H, fl);
            fp->f[rd] = fmt == FMT_D ? d : fpu_box32(cvt_s_d(d, RM_RNE, fl));
            return 1;
        }
        return 0;
    case 0x14: /* FLE, FLT, FEQ (H); FLEQ, FLTQ (Zfa) */
        if (f3 == 3 || f3 > 5 || (fmt != FMT_H && f3 < 4))
            return 0;
        x[rd] = compare(a, b, fmt, f3 & 3, fl, f3 >= 4);
        return 1;
    case 0x18: /* FCVT.{W,WU,L,LU}.H; FCVTMOD.W.D */
        if (fmt == FMT_D) {
            if (f3 != RM_RTZ)
                return 0;
            x[rd] = cvtmod_w_d(fp->f[rs1], fl);
            return 1;
        }
        if (rs2 > 3 || !rm_ok)
            return 0;
        x[rd] = cvt_to_int(cvt_d_of(a, FMT_H, &(uint32_t){0}), (int)rs2, rm, fl);
        return 1;
    case 0x1a: /* FCVT.H.{W,WU,L,LU} */
        if (rs2 > 3 || !rm_ok)
            return 0;
        fp->f[rd] = fpu_box16((uint16_t)cvt_from_int(x[rs1], (int)rs2, FMT_H, rm, fl));
        return 1;
    case 0x1c: /* FMV.X.H, FCLASS.H */
        if (rs2 != 0 || f3 > 1)
            return 0;
        x[rd] = f3 == 0 ? (uint64_t)(int64_t)(int16_t)fp->f[rs1] : classify(a, FMT_H);
        return 1;
    case 0x1e: /* FMV.H.X; FLI.{S,D,H} (Zfa) */
        if (f3 != 0 || rs2 > 1)
            return 0;
        fp->f[rd] = fmt_box(rs2 ? fli(rs1, fmt) : (x[rs1] & 0xffff), fmt);
        return 1;
    default:
        return 0;
    }
}

/* ---- decode and execute ------------------------------------------------- */

bool fpu_execute(struct fpu_regs *fp, uint64_t *x, uint32_t insn)
{
    const uint32_t opc = insn & 0x7f;
    const uint32_t rd = insn >> 7 & 31;
    const uint32_t f3 = insn >> 12 & 7;
    const uint32_t rs1 = insn >> 15 & 31;
    const uint32_t rs2 = insn >> 20 & 31;
    const uint32_t f7 = insn >> 25;
    const bool is_d = f7 & 1;
    const int rm = f3 == RM_DYN ? (int)(fp->frm & 7) : (int)f3;
    const bool rm_ok = rm <= RM_RMM;
    uint32_t fl = fp->fflags;

    switch (opc) {
    case 0x43: /* FMADD */
    case 0x47: /* FMSUB */
    case 0x4b: /* FNMSUB */
    case 0x4f: /* FNMADD */ {
        if ((f7 & 3) > 2 || !rm_ok)
            return false;
        /* -(a*b) is (-a)*b; negating operands, not the result, gives the
         * RISC-V signs for zero results. */
        bool neg_prod = opc == 0x4b || opc == 0x4f;
        bool neg_add = opc == 0x47 || opc == 0x4f;
        uint64_t a = fp->f[rs1], b = fp->f[rs2], c = fp->f[insn >> 27];
        if ((f7 & 3) == FMT_H) {
            uint64_t ha = unbox_h(a) ^ (neg_prod ? 0x8000 : 0);
            uint64_t hc = unbox_h(c) ^ (neg_add ? 0x8000 : 0);
            fp->f[rd] = fpu_box16((uint16_t)arith_h(OP_FMA, ha, unbox_h(b), hc, rm, &fl));
        } else if (is_d) {
            a ^= neg_prod ? F64_SIGN : 0;
            c ^= neg_add ? F64_SIGN : 0;
            fp->f[rd] = arith_d(OP_FMA, a, b, c, rm, &fl);
        } else {
            uint32_t sa = unbox(a) ^ (neg_prod ? F32_SIGN : 0);
            uint32_t sc = unbox(c) ^ (neg_add ? F32_SIGN : 0);
            fp->f[rd] = fpu_box32(arith_s(OP_FMA, sa, unbox(b), sc, rm, &fl));
        }
        break;
    }
    case 0x53: {
        uint64_t a = fp->f[rs1], b = fp->f[rs2];
        int ext = fpu_exec_ext(fp, x, insn, rm, &fl);
        if (ext == 0)
            return false;
        if (ext > 0)
            break;
        switch (f7) {
        case 0x00: /* FADD.S */
        case 0x04: /* FSUB.S */
        case 0x08: /* FMUL.S */
        case 0x0c: /* FDIV.S */
        case 0x2c: /* FSQRT.S */ {
            static const int ops[12] = {OP_ADD, OP_ADD, OP_MUL, OP_DIV, 0, 0,
                                        0,      0,      0,      0,      0, OP_SQRT};
            if (!rm_ok || (f7 == 0x2c && rs2 != 0))
                return false;
            uint32_t sb = unbox(b) ^ (f7 == 0x04 ? F32_SIGN : 0);
            fp->f[rd] = fpu_box32(arith_s(ops[f7 >> 2], unbox(a), sb, 0, rm, &fl));
            break;
        }
        case 0x01: /* FADD.D */
        case 0x05: /* FSUB.D */
        case 0x09: /* FMUL.D */
        case 0x0d: /* FDIV.D */
        case 0x2d: /* FSQRT.D */ {
            static const int ops[12] = {OP_ADD, OP_ADD, OP_MUL, OP_DIV, 0, 0,
                                        0,      0,      0,      0,      0, OP_SQRT};
            if (!rm_ok || (f7 == 0x2d && rs2 != 0))
                return false;
            b ^= f7 == 0x05 ? F64_SIGN : 0;
            fp->f[rd] = arith_d(ops[f7 >> 2], a, b, 0, rm, &fl);
            break;
        }
        case 0x10: /* FSGNJ.S, FSGNJN.S, FSGNJX.S */ {
            uint32_t sa = unbox(a), sb = unbox(b), s;
            if (f3 == 0)
                s = sb;
            else if (f3 == 1)
                s = ~sb;
            else if (f3 == 2)
                s = sa ^ sb;
            else
                return false;
            fp->f[rd] = fpu_box32((sa & ~F32_SIGN) | (s & F32_SIGN));
            break;
        }
        case 0x11: /* FSGNJ.D, FSGNJN.D, FSGNJX.D */ {
            uint64_t s;
            if (f3 == 0)
                s = b;
            else if (f3 == 1)
                s = ~b;
            else if (f3 == 2)
                s = a ^ b;
            else
                return false;
            fp->f[rd] = (a & ~F64_SIGN) | (s & F64_SIGN);
            break;
        }
        case 0x14: /* FMIN.S, FMAX.S */
            if (f3 > 1)
                return false;
            fp->f[rd] = fpu_box32((uint32_t)minmax(unbox(a), unbox(b), FMT_S, f3, &fl, false));
            break;
        case 0x15: /* FMIN.D, FMAX.D */
            if (f3 > 1)
                return false;
            fp->f[rd] = minmax(a, b, FMT_D, f3, &fl, false);
            break;
        case 0x20: /* FCVT.S.D */
            if (rs2 != 1 || !rm_ok)
                return false;
            fp->f[rd] = fpu_box32(cvt_s_d(a, rm, &fl));
            break;
        case 0x21: /* FCVT.D.S */
            if (rs2 != 0 || !rm_ok)
                return false;
            fp->f[rd] = cvt_d_s(unbox(a), &fl);
            break;
        case 0x50: /* FLE.S, FLT.S, FEQ.S */
            if (f3 > 2)
                return false;
            x[rd] = compare(unbox(a), unbox(b), FMT_S, f3, &fl, false);
            break;
        case 0x51: /* FLE.D, FLT.D, FEQ.D */
            if (f3 > 2)
                return false;
            x[rd] = compare(a, b, FMT_D, f3, &fl, false);
            break;
        case 0x60: /* FCVT.{W,WU,L,LU}.S */
            if (rs2 > 3 || !rm_ok)
                return false;
            x[rd] = cvt_to_int(cvt_d_s(unbox(a), &(uint32_t){0}), rs2, rm, &fl);
            break;
        case 0x61: /* FCVT.{W,WU,L,LU}.D */
            if (rs2 > 3 || !rm_ok)
                return false;
            x[rd] = cvt_to_int(a, rs2, rm, &fl);
            break;
        case 0x68: /* FCVT.S.{W,WU,L,LU} */
            if (rs2 > 3 || !rm_ok)
                return false;
            fp->f[rd] = fpu_box32((uint32_t)cvt_from_int(x[rs1], rs2, FMT_S, rm, &fl));
            break;
        case 0x69: /* FCVT.D.{W,WU,L,LU} */
            if (rs2 > 3 || !rm_ok)
                return false;
            fp->f[rd] = cvt_from_int(x[rs1], rs2, FMT_D, rm, &fl);
            break;
        case 0x70: /* FMV.X.W, FCLASS.S */
            if (rs2 != 0 || f3 > 1)
                return false;
            if (f3 == 0)
                x[rd] = (uint64_t)(int64_t)(int32_t)(uint32_t)a; /* raw bits, no unboxing */
            else
                x[rd] = classify(unbox(a), FMT_S);
            break;
        case 0x71: /* FMV.X.D, FCLASS.D */
            if (rs2 != 0 || f3 > 1)
                return false;
            x[rd] = f3 == 0 ? a : classify(a, FMT_D);
            break;
        case 0x78: /* FMV.W.X */
            if (rs2 != 0 || f3 != 0)
                return false;
            fp->f[rd] = fpu_box32((uint32_t)x[rs1]);
            break;
        case 0x79: /* FMV.D.X */
            if (rs2 != 0 || f3 != 0)
                return false;
            fp->f[rd] = x[rs1];
            break;
        default:
            return false;
        }
        break;
    }
    default:
        return false;
    }
    fp->fflags = fl & 0x1f;
    return true;
}
