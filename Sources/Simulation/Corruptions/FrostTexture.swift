// Procedural stand-ins for ImageNet-C's frost photographs: branching ice crystals over a hazy plasma.
import Foundation

/// ImageNet-C blends crops of six frost photographs (it draws from the first five). Shipping photographs is
/// not an option here, so five textures are grown once from fixed seeds, like fixed asset files: the
/// per-image randomness is only which texture and which crop, as in the original.
enum FrostTexture {
    /// Low-resolution side; a 28x28 crop can start anywhere in 0..<52.
    static let side = 80
    static let count = 5

    static let textures: [Plane] = (0..<count).map { generate(seed: 0xF205_7000 &+ UInt64($0)) }

    /// Crystals are drawn at 8x resolution (strokes of 1-3 fine pixels, i.e. ImageNet-C's scale) and box
    /// averaged, then laid over a low-frequency plasma haze. Tuned by eye so the texture is bright,
    /// feathery and has a mean near 0.45, as the photographs have.
    static func generate(seed: UInt64) -> Plane {
        var rng = SeededGenerator(seed: seed)
        let factor = Geometry.supersampling, big = side * factor
        var canvas = CrystalCanvas(side: big)
        for _ in 0..<44 {
            let start = (x: rng.uniform(0, Double(big)), y: rng.uniform(0, Double(big)))
            canvas.grow(from: start, angle: rng.uniform(0, 2 * .pi), length: rng.uniform(80, 260),
                        radius: 1.4, intensity: Float(rng.uniform(0.75, 1)), depth: 0, rng: &rng)
        }
        let fine = Plane(width: big, height: big, pixels: canvas.pixels)
        let box = LinearMap1D(dense: DenseMap.boxAverage(big, factor: factor), inputCount: big)
        let crystals = LinearMap1D.apply(rows: box, columns: box, to: fine)
        let hazeSize = 128
        let haze = PlasmaFractal.generate(size: hazeSize, decay: 1.8, rng: &rng)
        var out = Plane(width: side, height: side)
        for y in 0..<side { for x in 0..<side {
            let h = Float(haze[y * hazeSize + x])
            out[x, y] = min(0.12 + 0.3 * h + 1.3 * crystals[x, y], 1)
        } }
        return out
    }
}

/// A fine-resolution canvas on which dendrites grow: a slightly curving stem with side branches at about
/// 60 degrees (ice's hexagonal habit), recursively, thinner and dimmer at each level.
private struct CrystalCanvas {
    let side: Int
    var pixels: [Float]

    init(side: Int) {
        self.side = side
        pixels = [Float](repeating: 0, count: side * side)
    }

    mutating func grow(from start: (x: Double, y: Double), angle: Double, length: Double, radius: Double,
                       intensity: Float, depth: Int, rng: inout SeededGenerator) {
        var x = start.x, y = start.y, direction = angle
        let spacing = rng.uniform(5, 11)
        var sinceBranch = rng.uniform(0, spacing)
        var travelled = 0.0
        while travelled < length {
            stamp(x: x, y: y, radius: radius, intensity: intensity)
            direction += 0.04 * rng.normal()
            x += cos(direction)
            y += sin(direction)
            travelled += 1
            sinceBranch += 1
            if depth < 2 && sinceBranch >= spacing {
                sinceBranch = 0
                let remaining = length - travelled
                for side in [-1.0, 1.0] where rng.uniform() < 0.85 {
                    grow(from: (x, y), angle: direction + side * (Double.pi / 3 + 0.15 * rng.normal()),
                         length: remaining * rng.uniform(0.2, 0.45), radius: radius * 0.7,
                         intensity: intensity * 0.85, depth: depth + 1, rng: &rng)
                }
            }
        }
    }

    /// Antialiased disc, composited with max so crossings do not saturate.
    private mutating func stamp(x: Double, y: Double, radius: Double, intensity: Float) {
        let reach = Int(radius.rounded(.up)) + 1
        let cx = Int(x.rounded()), cy = Int(y.rounded())
        for py in (cy - reach)...(cy + reach) where py >= 0 && py < side {
            for px in (cx - reach)...(cx + reach) where px >= 0 && px < side {
                let distance = ((Double(px) - x) * (Double(px) - x) + (Double(py) - y) * (Double(py) - y)).squareRoot()
                let coverage = Float(min(max(radius + 0.5 - distance, 0), 1))
                if coverage > 0 { pixels[py * side + px] = max(pixels[py * side + px], intensity * coverage) }
            }
        }
    }
}
