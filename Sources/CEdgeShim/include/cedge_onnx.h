// ONNX decoding through protobuf-c. Swift walks the unpacked message, copies what it needs, then frees it.
#ifndef CEDGE_ONNX_H
#define CEDGE_ONNX_H
#include <stddef.h>
#include <stdint.h>
#include "../generated/onnx.pb-c.h"

// Decodes a serialized onnx.ModelProto; NULL when the bytes are not a well-formed protobuf message.
Onnx__ModelProto *cedge_onnx_model_unpack(const uint8_t *bytes, size_t length);
void cedge_onnx_model_free(Onnx__ModelProto *model);

// Decodes a serialized onnx.TensorProto (the backend-test .pb files); NULL on malformed bytes.
Onnx__TensorProto *cedge_onnx_tensor_unpack(const uint8_t *bytes, size_t length);
void cedge_onnx_tensor_free(Onnx__TensorProto *tensor);

// Serializes a TensorProto into a malloc'd buffer (*out, *out_length); returns 0 on success.
int cedge_onnx_tensor_pack(const Onnx__TensorProto *tensor, uint8_t **out, size_t *out_length);
#endif
