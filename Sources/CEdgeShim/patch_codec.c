// cema.proto decoding/encoding through protobuf-c (generated code in generated/cema.pb-c.c).
#include "cedge_patch.h"
#include <stdlib.h>

Cema__ParameterPatch *cedge_patch_unpack(const uint8_t *bytes, size_t length) {
    return cema__parameter_patch__unpack(NULL, length, bytes);
}

void cedge_patch_free(Cema__ParameterPatch *patch) {
    if (patch) cema__parameter_patch__free_unpacked(patch, NULL);
}

// protobuf-c packs into a caller buffer of get_packed_size bytes; malloc(0) may return NULL, hence the 1.
static int pack_message(const ProtobufCMessage *message, uint8_t **out, size_t *out_length) {
    size_t size = protobuf_c_message_get_packed_size(message);
    uint8_t *buffer = malloc(size ? size : 1);
    if (!buffer) return -1;
    *out_length = protobuf_c_message_pack(message, buffer);
    *out = buffer;
    return 0;
}

int cedge_patch_pack(const Cema__ParameterPatch *patch, uint8_t **out, size_t *out_length) {
    return pack_message(&patch->base, out, out_length);
}

Cema__UploadBatch *cedge_upload_batch_unpack(const uint8_t *bytes, size_t length) {
    return cema__upload_batch__unpack(NULL, length, bytes);
}

void cedge_upload_batch_free(Cema__UploadBatch *batch) {
    if (batch) cema__upload_batch__free_unpacked(batch, NULL);
}

int cedge_upload_batch_pack(const Cema__UploadBatch *batch, uint8_t **out, size_t *out_length) {
    return pack_message(&batch->base, out, out_length);
}
