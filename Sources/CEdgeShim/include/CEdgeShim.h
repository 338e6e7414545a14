// Umbrella header of the C shim: everything Swift may call lives behind these includes.
#ifndef CEDGESHIM_H
#define CEDGESHIM_H
#include "cedge_onnx.h"
#include "cedge_kernels.h"
#include "cedge_qkernels.h"
#include "cedge_platform.h"
#include "cedge_math.h"
#include "cedge_sha256.h"
#include "cedge_patch.h"
#include "cedge_onnx_write.h"
#include "cedge_crc32.h"
#include "cedge_signature.h"
#include "cedge_store_io.h"
#include "cedge_serial.h"
#include "cedge_socket.h"
#endif
