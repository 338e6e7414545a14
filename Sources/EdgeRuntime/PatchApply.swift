// Model.check / Model.apply: a patch is validated whole before any byte of the model changes, then written
// in place (prepared sessions read the same initializer memory, so they see it at their next run).

/// Which initializers a patch may address, worked out from the graph.
struct PatchTargets {
    /// Parameters of normalization layers that nothing else reads.
    var patchable: Set<String> = []
    /// BatchNormalization running variances among them, which must stay above zero.
    var variances: Set<String> = []

    init(graph: Graph) {
        var normParameters: Set<String> = []
        for layer in NormParameters.layers(of: graph) {
            for name in layer.parameterNames { normParameters.insert(name) }
            if let v = layer.variance { variances.insert(v) }
        }
        // An initializer that also feeds a convolution, a Gemm or anything else (or a normalization's data
        // input) is a weight too: changing it would change more than the layer's affine transform.
        var sharedWithOtherUses: Set<String> = []
        for node in graph.nodes {
            let isNorm = node.domain.isEmpty && NormParameters.normalizationOps.contains(node.opType)
            for (position, input) in node.inputs.enumerated() where normParameters.contains(input) {
                if !(isNorm && position >= 1 && position <= 4) { sharedWithOtherUses.insert(input) }
            }
        }
        patchable = normParameters.subtracting(sharedWithOtherUses)
    }
}

extension Model {
    /// Checks that `patch` fits this model exactly as it is now, without changing anything.
    public func check(_ patch: ParameterPatch) throws(PatchError) {
        _ = try resolve(patch)
    }

    /// Replaces the parameters `patch` names and moves the model to `patch.newVersion`. On any error the
    /// model is exactly as before. Returns the patch that undoes this one (the previous values, from the
    /// new version back to the old), which `apply` accepts like any other.
    @discardableResult
    public func apply(_ patch: ParameterPatch) throws(PatchError) -> ParameterPatch {
        let targets = try resolve(patch)
        var previous: [PatchParameter] = []
        previous.reserveCapacity(targets.count)
        for (parameter, tensor) in zip(patch.parameters, targets) {
            let old = Array(UnsafeBufferPointer(start: tensor.pointer(as: Float.self), count: tensor.count))
            previous.append(PatchParameter(name: parameter.name, kind: .fp32, dims: tensor.shape, values: old))
        }
        for (parameter, tensor) in zip(patch.parameters, targets) {
            let p = tensor.pointer(as: Float.self)
            for (i, v) in parameter.values.enumerated() { p[i] = v }
        }
        let undo = ParameterPatch(modelSHA256: modelSHA256, baseVersion: patch.newVersion, newVersion: version,
                                  parameters: previous, createdUnixMs: patch.createdUnixMs)
        version = patch.newVersion
        return undo
    }

    /// Every check, in order; returns the initializer each parameter replaces.
    private func resolve(_ patch: ParameterPatch) throws(PatchError) -> [Tensor] {
        if patch.modelSHA256 != modelSHA256 {
            throw .modelMismatch(expected: SHA256.hex(modelSHA256), got: SHA256.hex(patch.modelSHA256))
        }
        if patch.baseVersion != version { throw .baseVersionMismatch(expected: version, got: patch.baseVersion) }
        if patch.parameters.isEmpty { throw .malformed(reason: "the patch carries no parameters") }

        let rules = PatchTargets(graph: graph)
        var seen: Set<String> = []
        var targets: [Tensor] = []
        targets.reserveCapacity(patch.parameters.count)
        for parameter in patch.parameters {
            let name = parameter.name
            if !seen.insert(name).inserted { throw .duplicateParameter(name: name) }
            guard let tensor = graph.initializers[name] else { throw .unknownParameter(name: name) }
            if !rules.patchable.contains(name) { throw .notANormalizationParameter(name: name) }
            if tensor.type != .float32 { throw .notFloat32(name: name, type: tensor.type.name) }
            if parameter.values.count != tensor.count {
                throw .elementCountMismatch(name: name, expected: tensor.count, got: parameter.values.count)
            }
            let isVariance = rules.variances.contains(name)
            for (i, v) in parameter.values.enumerated() {
                if !v.isFinite { throw .nonFiniteValue(name: name, index: i) }
                if isVariance && !(v > 0) { throw .nonPositiveVariance(name: name, index: i) }
            }
            targets.append(tensor)
        }
        return targets
    }
}
