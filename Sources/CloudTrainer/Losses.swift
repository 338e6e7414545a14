// CEMA's losses on logits [B, C] (row-major), each returning its value and dL/dlogits. Entropy weights
// exp(E_max0 - H) are constants (detached), as in EATA and the reference code. Computed in Double: B*C is
// small, and the weights exponentiate entropies.
import Foundation

public struct LossResult {
    public var value: Float
    /// dL/dlogits, [B, C].
    public var gradient: [Float]
}

/// The edge copy's distillation loss and its three terms (each a weighted mean, before its coefficient).
public struct DistillationLoss {
    public var total: Float
    public var entropy: Float
    public var kl: Float
    public var pseudoLabel: Float
    /// d total / d student logits.
    public var gradient: [Float]
}

public enum Losses {
    /// H(softmax(z_i)) in nats for each row.
    public static func entropies(logits: [Float], classes: Int) throws(TrainerError) -> [Float] {
        let rows = try rowCount(logits, classes)
        var out = [Float](repeating: 0, count: rows)
        for i in 0..<rows { out[i] = Float(Row(logits, i, classes).entropy) }
        return out
    }

    /// EATA weights exp(margin - H) for the given entropies.
    public static func entropyWeights(entropies: [Float], margin: Float) -> [Float] {
        entropies.map { Float(exp(Double(margin) - Double($0))) }
    }

    /// mean_i H(z_i) (Tent).
    public static func entropy(logits: [Float], classes: Int) throws(TrainerError) -> LossResult {
        let rows = try rowCount(logits, classes)
        return weightedEntropy(logits, classes, weights: [Double](repeating: 1, count: rows))
    }

    /// mean_i exp(margin - H(z_i)) * H(z_i), the weight not differentiated (EATA; CEMA's foundation step
    /// with margin = E_max0).
    public static func weightedEntropy(logits: [Float], classes: Int, margin: Float) throws(TrainerError) -> LossResult {
        let rows = try rowCount(logits, classes)
        let weights = (0..<rows).map { exp(Double(margin) - Row(logits, $0, classes).entropy) }
        return weightedEntropy(logits, classes, weights: weights)
    }

    /// mean_i w_i T^2 KL(softmax(t_i/T) || softmax(s_i/T)), gradient with respect to the student logits.
    public static func kl(student: [Float], teacher: [Float], classes: Int, weights: [Float],
                          temperature: Float) throws(TrainerError) -> LossResult {
        let rows = try pairRowCount(student, teacher, classes, weights)
        let t = Double(temperature)
        var grad = [Float](repeating: 0, count: student.count)
        var total = 0.0
        for i in 0..<rows {
            let p = Row(student, i, classes, temperature: t), q = Row(teacher, i, classes, temperature: t)
            let w = Double(weights[i])
            var kl = 0.0
            for c in 0..<classes {
                let qc = q.probability(c)
                if qc > 0 { kl += qc * (q.logProbability(c) - p.logProbability(c)) }
                // d/ds_c of T^2 KL = T (p_c - q_c).
                grad[i * classes + c] = Float(w * t * (p.probability(c) - qc) / Double(rows))
            }
            total += w * t * t * kl
        }
        return LossResult(value: Float(total / Double(rows)), gradient: grad)
    }

    /// mean_i w_i CE(s_i, argmax t_i): cross-entropy on the teacher's hard pseudo-label (first maximum on
    /// ties, like torch.argmax).
    public static func pseudoLabelCrossEntropy(student: [Float], teacher: [Float], classes: Int,
                                               weights: [Float]) throws(TrainerError) -> LossResult {
        let rows = try pairRowCount(student, teacher, classes, weights)
        var grad = [Float](repeating: 0, count: student.count)
        var total = 0.0
        for i in 0..<rows {
            var label = 0
            for c in 1..<classes where teacher[i * classes + c] > teacher[i * classes + label] { label = c }
            let p = Row(student, i, classes)
            let w = Double(weights[i])
            total += -w * p.logProbability(label)
            for c in 0..<classes {
                grad[i * classes + c] = Float(w * (p.probability(c) - (c == label ? 1 : 0)) / Double(rows))
            }
        }
        return LossResult(value: Float(total / Double(rows)), gradient: grad)
    }

    /// CEMA's edge-copy loss: alpha * mean w_e H(s) + beta * mean w_t T^2 KL(t || s) + gamma * mean w_t CE(s,
    /// argmax t), with w_e = exp(E_max0 - H(s)), w_t = exp(E_max0 - H(t)), all coefficients from `config`.
    public static func distillation(student: [Float], teacher: [Float],
                                    config: CEMAConfig = CEMAConfig()) throws(TrainerError) -> DistillationLoss {
        let c = config.classCount
        let margin = config.entropyMargin
        let ent = try weightedEntropy(logits: student, classes: c, margin: margin)
        let teacherWeights = entropyWeights(entropies: try entropies(logits: teacher, classes: c), margin: margin)
        let kd = try kl(student: student, teacher: teacher, classes: c, weights: teacherWeights,
                        temperature: config.temperature)
        let ce = try pseudoLabelCrossEntropy(student: student, teacher: teacher, classes: c, weights: teacherWeights)
        let a = config.entropyCoefficient, b = config.klCoefficient, g = config.pseudoLabelCoefficient
        var grad = [Float](repeating: 0, count: student.count)
        for i in 0..<grad.count { grad[i] = a * ent.gradient[i] + b * kd.gradient[i] + g * ce.gradient[i] }
        let total = Double(a) * Double(ent.value) + Double(b) * Double(kd.value) + Double(g) * Double(ce.value)
        return DistillationLoss(total: Float(total), entropy: ent.value, kl: kd.value, pseudoLabel: ce.value, gradient: grad)
    }

    /// CEMA's foundation-model loss: mean exp(E_max0 - H) H on its own logits.
    public static func foundationEntropy(logits: [Float], config: CEMAConfig = CEMAConfig()) throws(TrainerError) -> LossResult {
        try weightedEntropy(logits: logits, classes: config.classCount, margin: config.entropyMargin)
    }

    // MARK: - helpers

    private static func weightedEntropy(_ logits: [Float], _ classes: Int, weights: [Double]) -> LossResult {
        let rows = weights.count
        var grad = [Float](repeating: 0, count: logits.count)
        var total = 0.0
        for i in 0..<rows {
            let p = Row(logits, i, classes)
            let h = p.entropy
            total += weights[i] * h
            // dH/dz_c = -p_c (log p_c + H).
            for c in 0..<classes {
                grad[i * classes + c] = Float(-weights[i] * p.probability(c) * (p.logProbability(c) + h) / Double(rows))
            }
        }
        return LossResult(value: Float(total / Double(rows)), gradient: grad)
    }

    private static func rowCount(_ logits: [Float], _ classes: Int) throws(TrainerError) -> Int {
        if classes < 1 || logits.isEmpty || logits.count % classes != 0 {
            throw .lengthMismatch(what: "logits (a whole number of rows of \(classes) classes)",
                                  expected: max(classes, 1) * max(1, logits.count / max(classes, 1)), got: logits.count)
        }
        return logits.count / classes
    }

    private static func pairRowCount(_ s: [Float], _ t: [Float], _ classes: Int, _ w: [Float]) throws(TrainerError) -> Int {
        let rows = try rowCount(s, classes)
        if t.count != s.count { throw .lengthMismatch(what: "teacher logits", expected: s.count, got: t.count) }
        if w.count != rows { throw .lengthMismatch(what: "sample weights", expected: rows, got: w.count) }
        return rows
    }
}

/// log-softmax of one row of logits divided by a temperature, in Double.
private struct Row {
    let logits: [Float]
    let base: Int, classes: Int
    let temperature: Double
    let logSum: Double   // max + log sum exp(z/T - max)

    init(_ logits: [Float], _ row: Int, _ classes: Int, temperature: Double = 1) {
        self.logits = logits
        base = row * classes
        self.classes = classes
        self.temperature = temperature
        var m = -Double.infinity
        for c in 0..<classes { m = max(m, Double(logits[base + c]) / temperature) }
        var s = 0.0
        for c in 0..<classes { s += exp(Double(logits[base + c]) / temperature - m) }
        logSum = m + log(s)
    }

    func logProbability(_ c: Int) -> Double { Double(logits[base + c]) / temperature - logSum }
    func probability(_ c: Int) -> Double { exp(logProbability(c)) }
    var entropy: Double {
        var h = 0.0
        for c in 0..<classes { h -= probability(c) * logProbability(c) }
        return h
    }
}
