// The int8 file a simulated device runs: the edge model quantized in-process exactly as `cema quantize`
// does (min-max on the first clean training images), or a QDQ file given by the caller, checked to come
// from the same fp32 model (the cloud only ever adapts that one).
import CloudTrainer
import EdgeRuntime

public enum DeployedModel {
    /// Calibration images `cema simulate --precision int8` uses: the first 512 of the clean training split.
    public static let calibrationImages = 512

    /// QDQ ONNX bytes of `edgeModel`, calibrated (min-max) on the first `count` images of `calibration`.
    public static func int8(edgeModel: [UInt8], calibration: IDXImages, count: Int = calibrationImages) throws -> [UInt8] {
        let model = try Model(bytes: edgeModel)
        let q = try ModelQuantizer.quantize(model, pixels: calibration.pixels, pixelsPerImage: calibration.pixelsPerImage,
                                            count: min(count, calibration.count))
        return try ONNXGraphWriter.encode(q.graph)
    }

    /// Throws unless `bytes` is a QDQ model whose norm parameters are `edgeModel`'s (patchable as the
    /// board checks them): the same test the cloud makes before it addresses patches to it.
    public static func checkInt8(_ bytes: [UInt8], edgeModel: [UInt8]) throws {
        _ = try Model(bytes: bytes).forDevice(.int8)
        try CloudAdapter.checkDeployed(bytes, student: try ModelLoader.load(bytes: edgeModel))
    }
}
