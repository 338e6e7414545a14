// A grid of images (one row per stream) rendered as a grayscale PNG for people to look at.

/// Rows of equally sized images, separated by a mid-gray gutter, optionally enlarged by pixel replication.
public struct ContactSheet {
    public let imageWidth: Int
    public let imageHeight: Int
    public private(set) var rows: [[[UInt8]]] = []

    public init(imageWidth: Int = Corruption.imageSide, imageHeight: Int = Corruption.imageSide) {
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    /// Adds one row of images (each imageWidth x imageHeight).
    public mutating func addRow(_ images: [[UInt8]]) {
        precondition(images.allSatisfy { $0.count == imageWidth * imageHeight })
        rows.append(images)
    }

    /// PNG bytes; `scale` enlarges every pixel to scale x scale so 28-pixel images are easy to see.
    public func png(scale: Int = 2, gutter: Int = 2) -> [UInt8] {
        let columns = max(rows.map(\.count).max() ?? 1, 1)
        let cellW = imageWidth * scale + gutter, cellH = imageHeight * scale + gutter
        let width = columns * cellW + gutter, height = max(rows.count, 1) * cellH + gutter
        var canvas = [UInt8](repeating: 128, count: width * height)
        for (r, row) in rows.enumerated() {
            for (c, image) in row.enumerated() {
                let left = gutter + c * cellW, top = gutter + r * cellH
                for y in 0..<(imageHeight * scale) {
                    for x in 0..<(imageWidth * scale) {
                        canvas[(top + y) * width + left + x] = image[(y / scale) * imageWidth + x / scale]
                    }
                }
            }
        }
        return PNGWriter.grayscale(canvas, width: width, height: height)
    }
}
