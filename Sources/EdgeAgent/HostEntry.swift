// The host build's entry point. The board build compiles this file too, with Embedded on, where it is
// empty: there the C `main` in EdgeAgent.swift is the entry (Embedded Swift has no CommandLine).
#if !hasFeature(Embedded)
import Glibc

@main
struct HostEntry {
    static func main() { exit(edgeAgentMain(CommandLine.argc, CommandLine.unsafeArgv)) }
}
#endif
