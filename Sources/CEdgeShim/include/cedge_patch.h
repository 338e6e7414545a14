// cema.proto wire messages through protobuf-c: the board decodes ParameterPatch and encodes UploadBatch.
#ifndef CEDGE_PATCH_H
#define CEDGE_PATCH_H
#include <stddef.h>
#include <stdint.h>
#include "../generated/cema.pb-c.h"

// Decodes a serialized cema.ParameterPatch; NULL when the bytes are not a well-formed message.
Cema__ParameterPatch *cedge_patch_unpack(const uint8_t *bytes, size_t length);
void cedge_patch_free(Cema__ParameterPatch *patch);
// Serializes a patch into a malloc'd buffer (*out, *out_length; free with cedge_free); returns 0 on success.
int cedge_patch_pack(const Cema__ParameterPatch *patch, uint8_t **out, size_t *out_length);

// The same for cema.UploadBatch.
Cema__UploadBatch *cedge_upload_batch_unpack(const uint8_t *bytes, size_t length);
void cedge_upload_batch_free(Cema__UploadBatch *batch);
int cedge_upload_batch_pack(const Cema__UploadBatch *batch, uint8_t **out, size_t *out_length);
#endif
