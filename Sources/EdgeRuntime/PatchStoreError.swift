// Why the patch store refused a patch or could not persist one; in every case the files are as before
// (or, for a crash, in a state the next start-up recovers from).
public enum PatchStoreError: Error, Equatable, CustomStringConvertible {
    /// An OS call failed; `errno` as the C library reported it.
    case io(operation: String, path: String, errno: Int32, message: String)
    /// The signature check failed: nothing was decoded, written or applied.
    case signature(SignatureError)
    /// The patch is malformed or does not fit the model (PatchError says which rule).
    case patch(PatchError)
    /// The patch's new version is not above the highest version this board has accepted: a replay of an
    /// old patch, or an older one.
    case staleVersion(got: UInt64, highestAccepted: UInt64)
    /// Rollback needs an intact `previous` file.
    case noPrevious(reason: String)
    /// The store was built for another model than the one given.
    case otherModel(expected: String, got: String)
    /// A test's fault hook stopped the write before this step (a simulated crash or power cut).
    case stoppedBefore(PatchStoreStep)

    public var description: String {
        switch self {
        case .io(let operation, let path, let errno, let message):
            return "\(operation) \(path) failed: \(message) (errno \(errno))"
        case .signature(let e): return "patch refused: \(e.description)"
        case .patch(let e): return "patch refused: \(e.description)"
        case .staleVersion(let got, let highest):
            return "patch refused: it moves to version \(got), but version \(highest) was already accepted (replayed or older patch)"
        case .noPrevious(let reason): return "cannot roll back: \(reason)"
        case .otherModel(let expected, let got): return "the store holds parameters of model \(got), this model is \(expected)"
        case .stoppedBefore(let step): return "write stopped before step '\(step.name)' (fault hook)"
        }
    }
}
