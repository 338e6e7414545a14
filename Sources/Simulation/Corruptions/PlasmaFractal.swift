// Diamond-square plasma fractal on a torus, the height map behind ImageNet-C's fog.

enum PlasmaFractal {
    /// A `size` x `size` map (power of two) scaled to [0, 1]. As in ImageNet-C the random term at each level is
    /// wibble * U(-wibble, wibble) with wibble starting at 100 and divided by `decay` per level, and
    /// neighbours wrap around (np.roll).
    static func generate(size: Int, decay: Double, rng: inout SeededGenerator) -> [Double] {
        precondition(size > 1 && size & (size - 1) == 0, "plasma map size must be a power of two")
        var map = [Double](repeating: 0, count: size * size)
        func at(_ y: Int, _ x: Int) -> Double { map[((y + size) % size) * size + (x + size) % size] }
        var step = size
        var wibble = 100.0
        while step >= 2 {
            let half = step / 2, cells = size / step
            func wibbled(_ sum: Double) -> Double { sum / 4 + wibble * rng.uniform(-wibble, wibble) }
            // Squares: each cell centre from its four corners.
            for a in 0..<cells { for b in 0..<cells {
                let y = a * step, x = b * step
                map[(y + half) * size + x + half] =
                    wibbled(at(y, x) + at(y + step, x) + at(y, x + step) + at(y + step, x + step))
            } }
            // Diamonds: the top-edge and left-edge midpoints of each cell from their four neighbours.
            for a in 0..<cells { for b in 0..<cells {
                let y = a * step, x = b * step
                map[y * size + x + half] = wibbled(at(y, x) + at(y, x + step) + at(y + half, x + half) + at(y - half, x + half))
            } }
            for a in 0..<cells { for b in 0..<cells {
                let y = a * step, x = b * step
                map[(y + half) * size + x] = wibbled(at(y, x) + at(y + step, x) + at(y + half, x + half) + at(y + half, x - half))
            } }
            step /= 2
            wibble /= decay
        }
        let low = map.min()!, range = map.max()! - low
        return map.map { range > 0 ? ($0 - low) / range : 0 }
    }
}
