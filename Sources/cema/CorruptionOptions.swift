// Parsing of --corruption / --severity lists, shared by `corrupt`, `evaluate` and the simulation.
import Simulation

func parseCorruptions(_ text: String) -> [Corruption] {
    if text == "all" { return Corruption.benchmark }
    if text == "validation" { return Corruption.validation }
    return text.split(separator: ",").map { name in
        guard let c = Corruption(rawValue: String(name)) else {
            fail("unknown corruption '\(name)'; one of: \(Corruption.allCases.map(\.rawValue).joined(separator: ", ")), "
                + "all (the 15 benchmark corruptions), validation (\(Corruption.validation.map(\.rawValue).joined(separator: ", ")))")
        }
        return c
    }
}

func parseSeverities(_ text: String) -> [Int] {
    if text == "all" { return Array(Corruption.severities) }
    return text.split(separator: ",").map { part in
        guard let s = Int(part), Corruption.severities.contains(s) else { fail("severity '\(part)' is not 1-5 or 'all'") }
        return s
    }
}

