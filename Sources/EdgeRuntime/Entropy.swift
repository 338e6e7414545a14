// Prediction entropy in nats, straight from logits (stable: no probabilities below float precision).
import CEdgeShim

public enum Entropy {
    /// H(softmax(z)) = logsumexp(z) - sum_c p_c z_c, for one row of `classes` logits.
    public static func ofLogits(_ z: UnsafePointer<Float>, classes: Int) -> Float {
        var m = z[0]
        for c in 1..<classes where z[c] > m { m = z[c] }
        var sum: Float = 0, weighted: Float = 0
        for c in 0..<classes {
            let e = cedge_expf(z[c] - m)
            sum += e
            weighted += e * (z[c] - m)
        }
        return cedge_logf(sum) - weighted / sum
    }

    /// Softmax of one row into `p`.
    public static func probabilities(_ z: UnsafePointer<Float>, classes: Int, into p: UnsafeMutablePointer<Float>) {
        var m = z[0]
        for c in 1..<classes where z[c] > m { m = z[c] }
        var sum: Float = 0
        for c in 0..<classes {
            p[c] = cedge_expf(z[c] - m)
            sum += p[c]
        }
        for c in 0..<classes { p[c] /= sum }
    }

    /// ln C: the entropy of the uniform prediction over C classes, CEMA's unit for its thresholds.
    public static func maximum(classes: Int) -> Float { cedge_logf(Float(classes)) }
}
