import ArgumentParser
import QuiesceAPI
import QuiesceCA
import QuiesceCoordinator

/// `quiesce sign`: detached Ed25519 signatures for a plugin config and its scripts, which
/// `quiesce push` sends along and agents with `trust.signingKeys` demand.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign a plugin config and its scripts (FILE.sig beside each), or make a signing key.",
        discussion: """
            The files are checked as `quiesce push` checks them, then each gets FILE.sig, which push sends along. \
            Agents whose settings list the key's public half in trust.signingKeys write and run only files signed \
            by it, and check again before every run. Keep the key off the coordinator's host if you can: a \
            coordinator without it can push nothing that runs. --new-key FILE makes a key (mode 0600) and prints its \
            public half.
            """
    )

    @Option(help: "The signing key (as --new-key writes it).")
    var key: String?

    @Option(help: "Make a new signing key in this file (never replaces one) and print its public half.")
    var newKey: String?

    @Option(name: .customLong("plugin-config"), help: "The VMSnapshotScriptPluginConfig.json to sign.")
    var pluginConfig: String?

    @Option(help: "The pre-script to sign.")
    var pre: String?

    @Option(help: "The post-script to sign.")
    var post: String?

    func validate() throws {
        guard (key == nil) != (newKey == nil) else { throw ValidationError("give either --key or --new-key") }
        if key != nil && pluginConfig == nil {
            throw ValidationError("--key signs --plugin-config (and --pre, --post): name the plugin config")
        }
        if newKey != nil && (pluginConfig != nil || pre != nil || post != nil) {
            throw ValidationError("--new-key only makes a key; sign with --key afterwards")
        }
    }

    func run() throws {
        do {
            if let newKey {
                let made = try SigningKey.create(at: newKey)
                print("signing key made in \(newKey) (mode 0600); put its public half in each agent's settings:")
                print("  \"trust\": {\"signingKeys\": [\"\(made.publicKey)\"]}")
                return
            }
            guard let key, let pluginConfig else { return }
            let signing = try SigningKey.load(from: key)
            let bundle = try PushBundle.load(
                pluginConfig: pluginConfig, preScript: pre, postScript: post, withSignatures: false)
            // Every signature is made before any is written: a failure leaves the old ones.
            var signatures: [(path: String, signature: ContentSignature)] = []
            for file in bundle.files {
                signatures.append(
                    (file.source + ContentSignature.fileSuffix, signing.sign(file.bytes, role: file.signatureRole)))
            }
            for (path, signature) in signatures {
                try SigningKey.write(signature, to: path)
                print("signed \(path.dropLast(ContentSignature.fileSuffix.count)) -> \(path)")
            }
            print("by \(signing.publicKey)")
        } catch let error as CAError {
            throw UnusableInput(description: "quiesce sign: \(error)")
        } catch let error as PushError {
            throw UnusableInput(description: "quiesce sign: \(error)")
        }
    }
}
