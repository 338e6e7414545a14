// ONNX protobuf decoding/encoding through protobuf-c (generated code in generated/).
#include "cedge_onnx.h"
#include <stdlib.h>

Onnx__ModelProto *cedge_onnx_model_unpack(const uint8_t *bytes, size_t length) {
    return onnx__model_proto__unpack(NULL, length, bytes);
}

void cedge_onnx_model_free(Onnx__ModelProto *model) {
    if (model) onnx__model_proto__free_unpacked(model, NULL);
}

Onnx__TensorProto *cedge_onnx_tensor_unpack(const uint8_t *bytes, size_t length) {
    return onnx__tensor_proto__unpack(NULL, length, bytes);
}

void cedge_onnx_tensor_free(Onnx__TensorProto *tensor) {
    if (tensor) onnx__tensor_proto__free_unpacked(tensor, NULL);
}

int cedge_onnx_tensor_pack(const Onnx__TensorProto *tensor, uint8_t **out, size_t *out_length) {
    size_t size = onnx__tensor_proto__get_packed_size(tensor);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return -1;
    *out_length = onnx__tensor_proto__pack(tensor, buffer);
    *out = buffer;
    return 0;
}
