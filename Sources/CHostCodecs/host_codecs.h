// Host-only codecs from Debian packages: zlib (gzip IDX files) and libjpeg-turbo (the jpeg corruption).
#include <stdio.h>
#include <zlib.h>
#include <jpeglib.h>
