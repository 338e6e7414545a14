// How an int8 convolution runs: the instruction-set path chosen at run time, and the direct path's plan
// functions (qconv_int8_direct.c) that qconv_int8.c dispatches to.
#ifndef CEDGE_QCONV_INT8_PLAN_H
#define CEDGE_QCONV_INT8_PLAN_H
#include "kernels_internal.h"
#include "qkernels_internal.h"

typedef struct {
    const char *name;
    cedge_qdot_fn dot;          // im2col path tile
    cedge_qdirect_fn fn;        // direct path tile
    int unsigned_acts;          // the direct tile multiplies u8 activations (1) or s8 (0) by s8 weights
    cedge_qadd_fn add;          // SIMD body of the requantized residual add, or NULL (the scalar loop)
} cedge_qdirect_path;

// The path in force (generic when the portable switch is on).
const cedge_qdirect_path *cedge_qpath_active(void);

// 1 when the direct path handles this geometry (1-D/2-D, one group); the layout of the packed weights
// depends on it, never on the instruction set, so a path can change after packing.
int cedge_qdirect_applies(const cedge_qconv_desc *d, const cedge_geom3 *g);
size_t cedge_qdirect_packed_bytes(const cedge_qconv_desc *d, const cedge_geom3 *g);
size_t cedge_qdirect_rowsum_count(const cedge_qconv_desc *d);
void cedge_qdirect_pack(const cedge_qconv_desc *d, const cedge_geom3 *g, const int8_t *w, int8_t *packed,
                        int32_t *rowsum);
void cedge_qdirect_run(const cedge_qconv_desc *d, const cedge_geom3 *g, const cedge_qdirect_path *path,
                       const void *x, const int8_t *packed, const int32_t *rowsum, const float *mult,
                       const float *bias, void *y);
#endif
