// What an operator's training step sees while the graph is compiled: the node, its resolved input values
// and typed errors that name the node.
import EdgeRuntime

struct StepContext {
    let node: Node
    let inputs: [ValueSlot?]
    let options: TrainingOptions

    var label: String { node.label }

    /// Input i, which must be present and float32.
    func input(_ i: Int) throws(TrainerError) -> ValueSlot {
        guard i < inputs.count, let slot = inputs[i] else {
            throw .missingValue(name: node.input(i) ?? "#\(i)", node: label)
        }
        if !slot.isFloat { throw .notFloat32(value: slot.name, node: label) }
        return slot
    }

    func has(_ i: Int) -> Bool { i < inputs.count && inputs[i] != nil }

    /// Input i's value when it is known at compile time (initializer or Constant).
    func constant(_ i: Int) throws(TrainerError) -> Tensor {
        guard i < inputs.count, let slot = inputs[i] else {
            throw .missingValue(name: node.input(i) ?? "#\(i)", node: label)
        }
        guard let t = slot.constant else { throw .valueNeededAtCompile(node: label, input: slot.name) }
        return t
    }

    /// A new activation for output i.
    func output(_ i: Int = 0, shape: [Int]) throws(TrainerError) -> ValueSlot {
        guard i < node.outputs.count, !node.outputs[i].isEmpty else {
            throw .shapeError(node: label, reason: "output #\(i) has no name")
        }
        return ValueSlot(activation: node.outputs[i], shape: shape)
    }

    /// Refuses optional outputs the trainer does not produce (indices, saved statistics).
    func requireSingleOutput() throws(TrainerError) {
        if node.outputs.dropFirst().contains(where: { !$0.isEmpty }) {
            throw unsupported("only the first output is supported in training")
        }
    }

    func unsupported(_ reason: String) -> TrainerError {
        .unsupportedOperator(op: node.opType, node: label, reason: reason)
    }
    func shapeError(_ reason: String) -> TrainerError { .shapeError(node: label, reason: reason) }

    /// Normalises a possibly negative axis for a tensor of this rank.
    func axis(_ a: Int, rank: Int) throws(TrainerError) -> Int {
        let r = a < 0 ? a + rank : a
        if r < 0 || r >= max(rank, 1) {
            throw .invalidAttribute(node: label, attribute: "axis", reason: "\(a) is out of range for rank \(rank)")
        }
        return r
    }
}
