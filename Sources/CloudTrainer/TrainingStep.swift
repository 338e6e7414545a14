// The unit a compiled training graph runs: one node's forward over fixed buffers and, when the loss reaches
// its output through a trainable parameter, its backward into its inputs' gradients.
import EdgeRuntime

class TrainingStep {
    let label: String
    let opType: String
    let inputs: [ValueSlot?]
    let outputs: [ValueSlot]
    /// Per input, set by the linker: whether this step's backward adds into the input's gradient (another
    /// step already wrote it in this pass) or overwrites it (first writer; saves zeroing every buffer).
    var accumulate: [Bool]

    init(node: Node, inputs: [ValueSlot?], outputs: [ValueSlot]) {
        label = node.label
        opType = node.opType
        self.inputs = inputs
        self.outputs = outputs
        accumulate = [Bool](repeating: false, count: inputs.count)
    }

    /// Inputs a gradient flows into. Any other input (weights, shapes, running statistics) must not depend
    /// on a trainable parameter: no weight gradient is ever computed.
    var differentiableInputs: [Int] { [0] }

    func forward() { fatalError("\(opType) step has no forward") }
    /// Reads outputs[0].grad, writes the gradients of the inputs that have one (in input-index order).
    func backward() { fatalError("\(opType) step has no backward") }
    /// Called once after linking, when `accumulate` and the gradient buffers are known.
    func prepareBackward() {}
}
