// The whole patchable state of a model as one ParameterPatch from version 0 (every normalization
// parameter, fp32), and its cema.ParameterPatch encoding: what a patch store file carries, so applying it
// to the model as shipped reproduces the state whatever chain of patches led there.

enum PatchStoreSnapshot {
    /// Every patchable parameter's current values, in graph order.
    static func capture(_ model: Model) -> ParameterPatch {
        let targets = PatchTargets(graph: model.graph)
        var parameters: [PatchParameter] = []
        var seen: Set<String> = []
        for layer in NormParameters.layers(of: model.graph) {
            for name in layer.parameterNames where targets.patchable.contains(name) && seen.insert(name).inserted {
                guard let t = model.graph.initializers[name], t.type == .float32 else { continue }
                let values = Array(UnsafeBufferPointer(start: t.pointer(as: Float.self), count: t.count))
                parameters.append(PatchParameter(name: name, kind: .fp32, dims: t.shape, values: values))
            }
        }
        return ParameterPatch(modelSHA256: model.modelSHA256, baseVersion: 0, newVersion: model.version,
                              parameters: parameters)
    }

    /// cema.ParameterPatch wire bytes (fields in number order, no signature), decodable by PatchDecoder.
    static func encode(_ patch: ParameterPatch) -> [UInt8] {
        var out: [UInt8] = []
        lengthDelimited(&out, field: 1, patch.modelSHA256)
        if patch.baseVersion != 0 { varintField(&out, field: 2, patch.baseVersion) }
        if patch.newVersion != 0 { varintField(&out, field: 3, patch.newVersion) }
        for p in patch.parameters {
            var t: [UInt8] = []
            lengthDelimited(&t, field: 1, Array(p.name.utf8))
            varintField(&t, field: 2, 1)  // ELEMENT_KIND_FP32
            if !p.dims.isEmpty {
                var packed: [UInt8] = []
                for d in p.dims { varint(&packed, UInt64(d)) }
                lengthDelimited(&t, field: 3, packed)
            }
            var raw: [UInt8] = []
            raw.reserveCapacity(4 * p.values.count)
            for v in p.values { appendLE32(&raw, v.bitPattern) }
            lengthDelimited(&t, field: 4, raw)
            lengthDelimited(&out, field: 4, t)
        }
        if patch.createdUnixMs != 0 { varintField(&out, field: 5, patch.createdUnixMs) }
        return out
    }

    private static func varint(_ out: inout [UInt8], _ value: UInt64) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func varintField(_ out: inout [UInt8], field: UInt64, _ value: UInt64) {
        varint(&out, field << 3)
        varint(&out, value)
    }

    private static func lengthDelimited(_ out: inout [UInt8], field: UInt64, _ bytes: [UInt8]) {
        varint(&out, field << 3 | 2)
        varint(&out, UInt64(bytes.count))
        out.append(contentsOf: bytes)
    }
}
