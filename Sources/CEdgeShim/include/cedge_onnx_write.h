// Writes an ONNX model back with some float initializers replaced: how a patched model becomes a file.
#ifndef CEDGE_ONNX_WRITE_H
#define CEDGE_ONNX_WRITE_H
#include <stddef.h>
#include <stdint.h>

// New contents for one float32 initializer: exactly as many values as its dims hold.
typedef struct {
    const char *name;
    const float *values;
    size_t count;
} cedge_float_initializer;

typedef enum {
    CEDGE_ONNX_WRITE_OK = 0,
    CEDGE_ONNX_WRITE_MALFORMED = 1,            // the model bytes do not decode as a ModelProto
    CEDGE_ONNX_WRITE_NO_GRAPH = 2,             // the model has no graph
    CEDGE_ONNX_WRITE_UNKNOWN_INITIALIZER = 3,  // no initializer has the name
    CEDGE_ONNX_WRITE_NOT_FLOAT32 = 4,          // the initializer's data_type is not FLOAT
    CEDGE_ONNX_WRITE_COUNT_MISMATCH = 5,       // count differs from the product of its dims
    CEDGE_ONNX_WRITE_EXTERNAL_DATA = 6,        // the initializer's data lives outside the file
    CEDGE_ONNX_WRITE_OUT_OF_MEMORY = 7,
} cedge_onnx_write_status;

// Decodes `model`, gives every initializer named in `replacements` the new values as little-endian
// raw_data (dropping any float_data), and encodes the result into a malloc'd buffer (*out, *out_length;
// free with cedge_free). Everything else (nodes, metadata, unknown fields) is re-encoded unchanged.
// On failure returns the status, sets *failed_index to the offending replacement (or n), writes nothing.
cedge_onnx_write_status cedge_onnx_replace_float_initializers(
    const uint8_t *model, size_t length, const cedge_float_initializer *replacements, size_t n,
    uint8_t **out, size_t *out_length, size_t *failed_index);
#endif
