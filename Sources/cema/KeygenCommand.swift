// `cema keygen --out KEY`: a new Ed25519 key pair for signing patches (KEY private, KEY.pub for boards).
import ArgumentParser
import CloudTrainer
import EdgeRuntime
import Foundation

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make an Ed25519 key pair: KEY (private seed, mode 0600) and KEY.pub (for the boards), both hex.")

    @Option(help: "Private key file to write; the public key goes to the same path + .pub.") var out: String
    @Flag(help: "Replace existing key files.") var force = false

    func run() throws {
        let pubPath = out + ".pub"
        let files = FileManager.default
        if !force && (files.fileExists(atPath: out) || files.fileExists(atPath: pubPath)) {
            fail("\(out) or \(pubPath) exists; pass --force to replace it")
        }
        let key = PatchSigningKey.generate()
        // Created with 0600 from the start, so the seed is never readable by others, even briefly.
        if files.fileExists(atPath: out) { try? files.removeItem(atPath: out) }
        guard files.createFile(atPath: out, contents: Data(SignatureKeyFile.encode(key.seed)),
                               attributes: [.posixPermissions: 0o600]) else { fail("cannot write \(out)") }
        do { try Data(SignatureKeyFile.encode(key.publicKey)).write(to: URL(fileURLWithPath: pubPath)) } catch {
            fail("cannot write \(pubPath): \(error.localizedDescription)")
        }
        print("wrote \(out) (private, 0600) and \(pubPath) (public key \(SHA256.hex(key.publicKey)))")
    }
}
