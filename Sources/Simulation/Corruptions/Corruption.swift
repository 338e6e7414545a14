// The 15 ImageNet-C corruptions (Hendrycks & Dietterich 2019) at 28x28 grayscale, its 4 held-out
// validation corruptions, and their dispatch.

// Scaling from ImageNet-C's 224x224 to 28x28 (s = 1/8), per corruption. Constants are the originals
// (make_imagenet_c.py); what changes is only how lengths in pixels are realised.
//   gaussian/shot/impulse noise, brightness, contrast: per pixel or per image, unchanged.
//   defocus_blur: disk radius and antialias sigma x s (0.375-1.25 px); taps placed at sub-pixel offsets.
//   glass_blur: its 1-4 px swaps cannot shrink below a pixel, so it runs at 224 px on the replicated image
//     with the original constants and is box-averaged back (exactly "scaled by s"); at 28 px the shuffle
//     averages into an irregular blur, milder-looking than ImageNet-C's grain.
//   motion_blur: ImageMagick's kernel (radius, sigma) x s, taps at sub-pixel offsets; angle unchanged.
//   zoom_blur: zoom factors are ratios, unchanged; zoom about the exact centre (no crop rounding).
//   snow: flakes are 224-pixel noise, built at 224 px with the original constants and box-averaged.
//   frost: procedural textures at the 28-pixel scale (crystal strokes drawn at 224 px and box-averaged).
//   fog: plasma map 256 -> 32 (same coarse octaves), crop 224 -> 28; strength and decay unchanged.
//   elastic_transform: sigma and affine jitter x s; alpha rescaled so the displacement spread in image
//     widths equals the original's (plain x s would make it ~8x too large at severities 1-2).
//   pixelate: the kept fraction is a ratio (16, 14, 11, 8, 7 px); PIL BOX boxes, aligned enlargement.
//   jpeg_compression: quality unchanged, real libjpeg-turbo.
// ImageNet-C also re-saves every output as JPEG quality 85 and truncates to uint8; we keep lossless
// IDX bytes and round.

/// One corruption type of ImageNet-C: the 15 benchmark corruptions in the order of the reference code
/// (`codebase/constant`), then the 4 validation corruptions. Raw values are ImageNet-C's names, as used on
/// the command line and in output paths.
public enum Corruption: String, CaseIterable, Sendable {
    case gaussianNoise = "gaussian_noise"
    case shotNoise = "shot_noise"
    case impulseNoise = "impulse_noise"
    case defocusBlur = "defocus_blur"
    case glassBlur = "glass_blur"
    case motionBlur = "motion_blur"
    case zoomBlur = "zoom_blur"
    case snow
    case frost
    case fog
    case brightness
    case contrast
    case elasticTransform = "elastic_transform"
    case pixelate
    case jpegCompression = "jpeg_compression"
    // Held out for choosing hyperparameters (ImageNet-C's "extra" set); never in a benchmark table.
    case speckleNoise = "speckle_noise"
    case gaussianBlur = "gaussian_blur"
    case spatter
    case saturate

    /// The benchmark suite ("all" on the command line).
    public static let benchmark: [Corruption] = Array(allCases.prefix(15))
    /// The validation suite ("validation" on the command line).
    public static let validation: [Corruption] = [.speckleNoise, .gaussianBlur, .spatter, .saturate]

    public static let severities = 1...5
    /// Side of the images the suite works on (Fashion-MNIST / MNIST).
    public static let imageSide = Geometry.side

    /// Position in the reference order; part of every per-image seed, so it must never change.
    public var index: Int { Corruption.allCases.firstIndex(of: self)! }

    /// Whether the output depends on the random generator (the others are pure functions of the image).
    public var isRandom: Bool {
        switch self {
        case .defocusBlur, .zoomBlur, .brightness, .contrast, .pixelate, .jpegCompression, .gaussianBlur, .saturate: return false
        default: return true
        }
    }

    /// Corrupts one 28x28 uint8 image at severity 1...5, drawing randomness only from `rng`.
    public func apply(_ image: [UInt8], severity: Int, rng: inout SeededGenerator) -> [UInt8] {
        precondition(image.count == Geometry.side * Geometry.side, "corruptions work on 28x28 images")
        precondition(Corruption.severities.contains(severity), "severity must be 1...5")
        let x = Plane(bytes: image, width: Geometry.side, height: Geometry.side)
        let s = severity - 1
        let y: Plane
        switch self {
        case .gaussianNoise: y = Noise.gaussian(x, severity: s, rng: &rng)
        case .shotNoise: y = Noise.shot(x, severity: s, rng: &rng)
        case .impulseNoise: y = Noise.impulse(x, severity: s, rng: &rng)
        case .defocusBlur: y = Blur.defocus(x, severity: s)
        case .glassBlur: y = Blur.glass(x, severity: s, rng: &rng)
        case .motionBlur: y = Blur.motion(x, severity: s, rng: &rng)
        case .zoomBlur: y = Blur.zoom(x, severity: s)
        case .snow: y = Weather.snow(x, severity: s, rng: &rng)
        case .frost: y = Weather.frost(x, severity: s, rng: &rng)
        case .fog: y = Weather.fog(x, severity: s, rng: &rng)
        case .brightness: y = Digital.brightness(x, severity: s)
        case .contrast: y = Digital.contrast(x, severity: s)
        case .elasticTransform: y = Digital.elastic(x, severity: s, rng: &rng)
        case .pixelate: y = Digital.pixelate(x, severity: s)
        case .jpegCompression: return Digital.jpeg(image, severity: s)
        case .speckleNoise: y = Validation.speckle(x, severity: s, rng: &rng)
        case .gaussianBlur: y = Validation.gaussianBlur(x, severity: s)
        case .spatter: y = Validation.spatter(x, severity: s, rng: &rng)
        case .saturate: y = Validation.saturate(x, severity: s)
        }
        return y.bytes()
    }
}

/// Image geometry: ImageNet-C works on 224x224 crops, Fashion-MNIST is 28x28. Lengths in pixels scale by
/// `scale` = 28/224 = 1/8. Operations whose unit is one 224-pixel (pixel swaps, per-pixel snow noise) run on a
/// `supersampling` = 8x finer grid with pixel replication in and box averaging out, which is that scaling
/// made exact; linear filters use the equivalent 28-pixel kernels (see `Kernels.tent`).
enum Geometry {
    static let side = 28
    static let referenceSide = 224
    static let supersampling = 8
    static let scale = Double(side) / Double(referenceSide)
}
