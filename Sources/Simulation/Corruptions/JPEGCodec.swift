// Grayscale JPEG encode/decode in memory through libjpeg-turbo, for the jpeg_compression corruption.
import CHostCodecs
import Foundation

enum JPEGCodec {
    /// Baseline JPEG of an 8-bit grayscale image at `quality` (1-100), with libjpeg's standard tables as
    /// PIL's `save(format='JPEG', quality=q)` uses them.
    static func encode(_ pixels: [UInt8], width: Int, height: Int, quality: Int) -> [UInt8] {
        precondition(pixels.count == width * height)
        let cinfo = UnsafeMutablePointer<jpeg_compress_struct>.allocate(capacity: 1)
        let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        let buffer = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: 1)
        let size = UnsafeMutablePointer<UInt>.allocate(capacity: 1)
        defer { cinfo.deallocate(); errors.deallocate(); buffer.deallocate(); size.deallocate() }
        cinfo.initialize(to: jpeg_compress_struct())
        buffer.initialize(to: nil)
        size.initialize(to: 0)

        cinfo.pointee.err = installErrorHandler(errors)
        jpeg_CreateCompress(cinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_compress_struct>.size)
        defer { jpeg_destroy_compress(cinfo) }
        jpeg_mem_dest(cinfo, buffer, size)
        cinfo.pointee.image_width = JDIMENSION(width)
        cinfo.pointee.image_height = JDIMENSION(height)
        cinfo.pointee.input_components = 1
        cinfo.pointee.in_color_space = JCS_GRAYSCALE
        jpeg_set_defaults(cinfo)
        jpeg_set_quality(cinfo, Int32(quality), 1) // force_baseline: 8-bit quantisation tables
        jpeg_start_compress(cinfo, 1)
        var rows = pixels
        rows.withUnsafeMutableBufferPointer { px in
            while cinfo.pointee.next_scanline < cinfo.pointee.image_height {
                var row: JSAMPROW? = px.baseAddress! + Int(cinfo.pointee.next_scanline) * width
                _ = jpeg_write_scanlines(cinfo, &row, 1)
            }
        }
        jpeg_finish_compress(cinfo)
        guard let data = buffer.pointee else { fatalError("libjpeg produced no output") }
        defer { free(data) }
        return Array(UnsafeBufferPointer(start: data, count: Int(size.pointee)))
    }

    /// Decodes a grayscale JPEG to 8-bit pixels.
    static func decode(_ jpeg: [UInt8]) -> (pixels: [UInt8], width: Int, height: Int) {
        let dinfo = UnsafeMutablePointer<jpeg_decompress_struct>.allocate(capacity: 1)
        let errors = UnsafeMutablePointer<jpeg_error_mgr>.allocate(capacity: 1)
        defer { dinfo.deallocate(); errors.deallocate() }
        dinfo.initialize(to: jpeg_decompress_struct())
        dinfo.pointee.err = installErrorHandler(errors)
        jpeg_CreateDecompress(dinfo, JPEG_LIB_VERSION, MemoryLayout<jpeg_decompress_struct>.size)
        defer { jpeg_destroy_decompress(dinfo) }
        return jpeg.withUnsafeBufferPointer { source in
            jpeg_mem_src(dinfo, source.baseAddress, UInt(source.count))
            _ = jpeg_read_header(dinfo, 1)
            dinfo.pointee.out_color_space = JCS_GRAYSCALE
            jpeg_start_decompress(dinfo)
            let width = Int(dinfo.pointee.output_width), height = Int(dinfo.pointee.output_height)
            var pixels = [UInt8](repeating: 0, count: width * height)
            pixels.withUnsafeMutableBufferPointer { px in
                while dinfo.pointee.output_scanline < dinfo.pointee.output_height {
                    var row: JSAMPROW? = px.baseAddress! + Int(dinfo.pointee.output_scanline) * width
                    _ = jpeg_read_scanlines(dinfo, &row, 1)
                }
            }
            jpeg_finish_decompress(dinfo)
            return (pixels, width, height)
        }
    }

    /// libjpeg's default handler calls exit(); our inputs are always well-formed in-memory images, so an
    /// error is a bug and should stop loudly with libjpeg's message.
    private static func installErrorHandler(_ errors: UnsafeMutablePointer<jpeg_error_mgr>) -> UnsafeMutablePointer<jpeg_error_mgr> {
        let manager = jpeg_std_error(errors)!
        manager.pointee.error_exit = { info in
            var message = [CChar](repeating: 0, count: Int(JMSG_LENGTH_MAX))
            info?.pointee.err.pointee.format_message(info, &message)
            fatalError("libjpeg: \(String(cString: message))")
        }
        return manager
    }
}
