import ArgumentParser
import Foundation
import QuiesceCA
import QuiesceCoordinator

/// `quiesce ca`: the fleet's own certificate authority, for mutual TLS without another PKI.
struct CACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "The fleet's own certificate authority: make it, issue certificates, list them.",
        discussion: """
            An ECDSA P-256 CA in a directory of its own (0700; ca.key 0600). `issue` makes each selected agent a \
            server certificate for its address in the inventory, or the coordinator a client certificate, each \
            with a new key beside it (0600). Point the agents' `tls` and the inventory's `defaults.tls` at them.
            """,
        subcommands: [Init.self, Issue.self, Show.self]
    )

    /// Where the CA lives.
    struct Location: ParsableArguments {
        @Option(help: "The CA's directory. Default: ca/ in the state directory.")
        var dir: String?

        @OptionGroup var state: StateOptions

        var directory: String { dir ?? state.directory + "/ca" }

        func open() throws -> CertificateAuthority {
            do {
                return try CertificateAuthority.open(directory)
            } catch {
                throw UnusableInput(description: "quiesce ca: \(error)")
            }
        }
    }

    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new CA; an existing one is never replaced.")

        @OptionGroup var location: Location

        @Option(help: "The CA's common name.")
        var name = "Quiesce fleet CA"

        @Option(help: "How long the CA is valid, in days.")
        var days = 3650

        func run() throws {
            let ca: CertificateAuthority
            do {
                ca = try CertificateAuthority.create(in: location.directory, name: name, days: days)
            } catch {
                throw UnusableInput(description: "quiesce ca init: \(error)")
            }
            let summary = CertificateSummary(file: ca.certificateFile, certificate: ca.certificate)
            print("CA \"\(name)\" made in \(location.directory), valid until \(summary.notAfter.formatted(.iso8601))")
            print("  ca.pem  trusted by agents (tls.clientCAFile) and the coordinator (defaults.tls.caFile)")
            print("  ca.key  signs certificates: readable by you only; keep it on this host or offline")
            print("next: quiesce ca issue --coordinator, then quiesce ca issue --fleet FILE [selectors] for the agents")
        }
    }

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue the coordinator a client certificate, or selected agents server certificates.")

        @OptionGroup var location: Location

        @Flag(help: "Issue the coordinator's client certificate.")
        var coordinator = false

        @OptionGroup var agents: FleetSelectors

        @Option(help: "How long each certificate is valid, in days (never past the CA's own end).")
        var days = 397

        func validate() throws {
            guard coordinator || !agents.pickAll else {
                throw ValidationError("say whom to issue for: --coordinator, or agents with --vm, --group or --label")
            }
        }

        func run() throws {
            let ca = try location.open()
            var subjects: [(String, CertificateAuthority.Subject)] = []
            if coordinator { subjects.append(("coordinator", .coordinator)) }
            if !agents.pickAll {
                // The certificates it names in the inventory may be the ones about to be made.
                let (_, vms) = try agents.selectedVMs(requiringFiles: false)
                subjects += vms.map { ($0.name, .agent(name: $0.name, host: $0.host)) }
            }
            for (name, subject) in subjects {
                let issued: CertificateAuthority.Issued
                do {
                    issued = try ca.issue(for: subject, days: days)
                } catch {
                    throw UnusableInput(description: "quiesce ca issue: \(name): \(error)")
                }
                let until = issued.summary.notAfter.formatted(.iso8601)
                let names = issued.summary.names.isEmpty ? "" : " for \(issued.summary.names.joined(separator: ", "))"
                print("\(name): \(issued.certificateFile)\(names), until \(until)")
                switch subject {
                case .agent:
                    print(
                        #"  on \#(name), in the agent's settings: "tls": {"certificateFile": "…/\#(name).pem", "#
                            + #""keyFile": "…/\#(name).key", "clientCAFile": "…/ca.pem"} (copy the three files there)"#)
                case .coordinator:
                    print(
                        #"  in the inventory: "defaults": {"tls": {"caFile": "\#(ca.certificateFile)", "#
                            + #""certificateFile": "\#(issued.certificateFile)", "keyFile": "\#(issued.keyFile)"}}"#)
                }
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the CA's certificates: subjects, names, expiry (those within 30 days flagged).")

        @OptionGroup var location: Location

        @Flag(help: "Print one JSON object on standard output.")
        var json = false

        func run() throws {
            let summaries: [CertificateSummary]
            do {
                summaries = try location.open().summaries()
            } catch let error as UnusableInput {
                throw error
            } catch {
                throw UnusableInput(description: "quiesce ca show: \(error)")
            }
            if json {
                try printJSON(["certificates": summaries])
                return
            }
            let style = TerminalStyle.detect()
            let rows =
                [["FILE", "ROLE", "SUBJECT", "NAMES", "NOT AFTER", "DAYS LEFT"]]
                + summaries.map { summary in
                    let days = summary.daysLeft()
                    let left = days < 0 ? style.bad("expired") : days <= 30 ? style.warning("\(days)") : "\(days)"
                    return [
                        (summary.file as NSString).lastPathComponent, summary.role, summary.subject,
                        summary.names.joined(separator: ","), summary.notAfter.formatted(.iso8601), left,
                    ]
                }
            print(TextTable.render(rows), terminator: "")
        }
    }
}
