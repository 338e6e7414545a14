// A single-channel float image in [0, 1] (nominally), the working form of every corruption.

struct Plane {
    let width: Int
    let height: Int
    var pixels: [Float]

    init(width: Int, height: Int, pixels: [Float]) {
        precondition(pixels.count == width * height)
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(width: Int, height: Int, fill: Float = 0) {
        self.init(width: width, height: height, pixels: [Float](repeating: fill, count: width * height))
    }

    /// uint8 -> [0, 1], as ImageNet-C's `np.array(x) / 255.`.
    init(bytes: [UInt8], width: Int, height: Int) {
        self.init(width: width, height: height, pixels: bytes.map { Float($0) / 255 })
    }

    subscript(x: Int, y: Int) -> Float {
        get { pixels[y * width + x] }
        set { pixels[y * width + x] = newValue }
    }

    /// Clips to [0, 1] and rounds to uint8. ImageNet-C truncates (`np.uint8`) and then re-encodes as
    /// JPEG-85; we round (no half-level darkening) and keep the bytes lossless.
    func bytes() -> [UInt8] {
        pixels.map { UInt8((min(max($0, 0), 1) * 255).rounded()) }
    }

    func map(_ transform: (Float) -> Float) -> Plane {
        Plane(width: width, height: height, pixels: pixels.map(transform))
    }

    var mean: Float { pixels.reduce(0, +) / Float(pixels.count) }
    var maximum: Float { pixels.max() ?? 0 }

    /// Rotation by 180 degrees (`np.rot90(x, k=2)`).
    func rotated180() -> Plane {
        Plane(width: width, height: height, pixels: pixels.reversed())
    }
}

/// How indices outside the image are mapped back inside.
enum Border {
    /// Repeat the edge pixel (skimage `mode='nearest'`, ImageMagick's default edge virtual pixels).
    case clamp
    /// Mirror without repeating the edge: `d c b | a b c d` -> `c b | a b c` (OpenCV's default, REFLECT_101).
    case reflect101
    /// Mirror repeating the edge: `b a | a b c` (scipy.ndimage / skimage `mode='reflect'`).
    case reflect

    @inline(__always) func index(_ i: Int, _ n: Int) -> Int {
        if i >= 0 && i < n { return i }
        if n == 1 { return 0 }
        switch self {
        case .clamp:
            return min(max(i, 0), n - 1)
        case .reflect101:
            let period = 2 * (n - 1)
            var k = i % period
            if k < 0 { k += period }
            return k < n ? k : period - k
        case .reflect:
            let period = 2 * n
            var k = i % period
            if k < 0 { k += period }
            return k < n ? k : period - 1 - k
        }
    }
}
