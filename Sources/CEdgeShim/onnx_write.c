// Re-encodes an ONNX ModelProto with chosen float initializers replaced, through protobuf-c. The decoded
// tree is borrowed, not rebuilt: replaced fields are swapped in for packing and swapped back before the
// tree is freed, so protobuf-c only ever frees memory it allocated.
#include "cedge_onnx_write.h"
#include "cedge_onnx.h"
#include <stdlib.h>
#include <string.h>

// What packing borrows from one initializer, to put back afterwards.
typedef struct {
    Onnx__TensorProto *tensor;
    protobuf_c_boolean has_raw_data;
    ProtobufCBinaryData raw_data;
    size_t n_float_data;
    float *float_data;
    uint8_t *replacement;  // ours: freed here
} borrowed_field;

// ONNX raw_data is little-endian whatever the host, so bytes are written explicitly.
static void store_le_floats(uint8_t *out, const float *values, size_t count) {
    for (size_t i = 0; i < count; i++) {
        uint32_t bits;
        memcpy(&bits, &values[i], 4);
        out[4 * i] = (uint8_t)bits;
        out[4 * i + 1] = (uint8_t)(bits >> 8);
        out[4 * i + 2] = (uint8_t)(bits >> 16);
        out[4 * i + 3] = (uint8_t)(bits >> 24);
    }
}

static cedge_onnx_write_status check_target(const Onnx__TensorProto *t, size_t count) {
    if ((t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
        || t->n_external_data > 0) {
        return CEDGE_ONNX_WRITE_EXTERNAL_DATA;
    }
    if (t->data_type != ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) return CEDGE_ONNX_WRITE_NOT_FLOAT32;
    size_t elements = 1;
    for (size_t d = 0; d < t->n_dims; d++) {
        if (t->dims[d] < 0) return CEDGE_ONNX_WRITE_COUNT_MISMATCH;
        elements *= (size_t)t->dims[d];
    }
    return elements == count ? CEDGE_ONNX_WRITE_OK : CEDGE_ONNX_WRITE_COUNT_MISMATCH;
}

cedge_onnx_write_status cedge_onnx_replace_float_initializers(
    const uint8_t *model, size_t length, const cedge_float_initializer *replacements, size_t n,
    uint8_t **out, size_t *out_length, size_t *failed_index) {
    *failed_index = n;
    *out = NULL;
    *out_length = 0;
    Onnx__ModelProto *decoded = onnx__model_proto__unpack(NULL, length, model);
    if (!decoded) return CEDGE_ONNX_WRITE_MALFORMED;
    if (!decoded->graph) {
        onnx__model_proto__free_unpacked(decoded, NULL);
        return CEDGE_ONNX_WRITE_NO_GRAPH;
    }
    Onnx__GraphProto *graph = decoded->graph;

    // A name may (wrongly, but it happens) occur twice among initializers: every occurrence is replaced.
    size_t capacity = graph->n_initializer;
    borrowed_field *borrowed = calloc(capacity ? capacity : 1, sizeof *borrowed);
    if (!borrowed) {
        onnx__model_proto__free_unpacked(decoded, NULL);
        return CEDGE_ONNX_WRITE_OUT_OF_MEMORY;
    }
    size_t n_borrowed = 0;
    cedge_onnx_write_status status = CEDGE_ONNX_WRITE_OK;

    for (size_t r = 0; r < n && status == CEDGE_ONNX_WRITE_OK; r++) {
        int found = 0;
        for (size_t i = 0; i < graph->n_initializer && status == CEDGE_ONNX_WRITE_OK; i++) {
            Onnx__TensorProto *t = graph->initializer[i];
            if (!t->name || strcmp(t->name, replacements[r].name) != 0) continue;
            found = 1;
            status = check_target(t, replacements[r].count);
            if (status != CEDGE_ONNX_WRITE_OK) break;
            size_t bytes = replacements[r].count * 4;
            uint8_t *data = malloc(bytes ? bytes : 1);
            if (!data) { status = CEDGE_ONNX_WRITE_OUT_OF_MEMORY; break; }
            store_le_floats(data, replacements[r].values, replacements[r].count);
            // Replacing the same initializer twice: the first saved state is the one to restore.
            borrowed_field *slot = NULL;
            for (size_t b = 0; b < n_borrowed; b++) if (borrowed[b].tensor == t) slot = &borrowed[b];
            if (slot) {
                free(slot->replacement);
            } else {
                slot = &borrowed[n_borrowed++];
                slot->tensor = t;
                slot->has_raw_data = t->has_raw_data;
                slot->raw_data = t->raw_data;
                slot->n_float_data = t->n_float_data;
                slot->float_data = t->float_data;
            }
            slot->replacement = data;
            t->has_raw_data = 1;
            t->raw_data.data = data;
            t->raw_data.len = bytes;
            t->n_float_data = 0;
            t->float_data = NULL;
        }
        if (status == CEDGE_ONNX_WRITE_OK && !found) status = CEDGE_ONNX_WRITE_UNKNOWN_INITIALIZER;
        if (status != CEDGE_ONNX_WRITE_OK) *failed_index = r;
    }

    if (status == CEDGE_ONNX_WRITE_OK) {
        size_t size = onnx__model_proto__get_packed_size(decoded);
        uint8_t *buffer = malloc(size ? size : 1);
        if (buffer) {
            *out_length = onnx__model_proto__pack(decoded, buffer);
            *out = buffer;
        } else {
            status = CEDGE_ONNX_WRITE_OUT_OF_MEMORY;
        }
    }

    for (size_t b = 0; b < n_borrowed; b++) {
        Onnx__TensorProto *t = borrowed[b].tensor;
        t->has_raw_data = borrowed[b].has_raw_data;
        t->raw_data = borrowed[b].raw_data;
        t->n_float_data = borrowed[b].n_float_data;
        t->float_data = borrowed[b].float_data;
        free(borrowed[b].replacement);
    }
    free(borrowed);
    onnx__model_proto__free_unpacked(decoded, NULL);
    return status;
}
