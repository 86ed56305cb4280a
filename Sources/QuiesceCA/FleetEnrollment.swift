import Crypto
import Foundation
import QuiesceAPI
import QuiesceCoordinator
import QuiesceHTTPClient

/// `quiesce enroll`: the coordinator's side of `Enrollment` for each selected VM that has a
/// join token waiting: check the agent's proof, sign its own key with the CA, hand over the
/// certificate with a proof of our own, use the token up, then reach the agent over mutual TLS.
public struct FleetEnrollment: Sendable {
    public let ca: CertificateAuthority
    public let tokens: JoinTokens
    public let agents: AgentClient
    public let days: Int
    /// How long an enrolled agent may take to listen with mutual TLS.
    public var settleTime: Duration = .seconds(10)

    public init(ca: CertificateAuthority, tokens: JoinTokens, agents: AgentClient, days: Int) {
        self.ca = ca
        self.tokens = tokens
        self.agents = agents
        self.days = days
    }

    public struct Outcome: Codable, Sendable {
        public enum Status: String, Codable, Sendable { case enrolled, failed }
        public var name: String
        public var address: String
        public var status: Status
        /// What went wrong and how to go on.
        public var problem: String?
        public var certificateNotAfter: Date?
    }

    public func run(_ vms: [FleetInventory.VM]) async -> [Outcome] {
        await vms.concurrentMap(atMost: agents.maxConcurrentVMs) { vm in await enroll(vm) }
    }

    func enroll(_ vm: FleetInventory.VM) async -> Outcome {
        var outcome = Outcome(name: vm.name, address: vm.address, status: .failed)
        do {
            let notAfter = try await exchange(with: vm)
            outcome.certificateNotAfter = notAfter
            if let problem = await reachOverMutualTLS(vm) {
                outcome.problem = "enrolled, but not reachable over mutual TLS yet: \(problem)"
            } else {
                outcome.status = .enrolled
            }
        } catch {
            outcome.problem = error.description
        }
        return outcome
    }

    private func exchange(with vm: FleetInventory.VM) async throws(EnrollmentFailure) -> Date {
        let token: Enrollment.JoinToken
        do {
            guard let pending = try tokens.pending(for: vm.name) else {
                throw EnrollmentFailure(
                    "no join token waits for \(vm.name) in \(tokens.directory): make one with `quiesce enroll token "
                        + "--vm \(vm.name)` and put it on the VM (a token works once; an enrolled agent needs none)")
            }
            token = pending
        } catch let error as CAError {
            throw EnrollmentFailure(error.description)
        } catch let error as EnrollmentFailure {
            throw error
        } catch {
            throw EnrollmentFailure("\(error)")
        }
        guard token.caFingerprint == ca.fingerprint else {
            throw EnrollmentFailure(
                "\(vm.name)'s join token names another CA than \(ca.certificateFile): make a new token with this CA")
        }
        let coordinatorNonce = Enrollment.nonce()
        let hello: Enrollment.HelloAnswer = try await post(
            Enrollment.helloRoute, Enrollment.Hello(coordinatorNonce: coordinatorNonce), to: vm)
        let expected = Enrollment.agentProof(
            token, coordinatorNonce: coordinatorNonce, agentNonce: hello.agentNonce, publicKey: hello.publicKey)
        guard Enrollment.isValid(hello.proof, expected: expected) else {
            throw EnrollmentFailure(
                "the agent at \(vm.address) did not prove it holds \(vm.name)'s join token: it is another agent, or "
                    + "something in between answered; nothing was issued")
        }
        guard let der = Data(base64Encoded: hello.publicKey),
            let publicKey = try? P256.Signing.PublicKey(derRepresentation: der)
        else { throw EnrollmentFailure("the agent's public key is not a P-256 key; nothing was issued") }
        let certificate: String
        let caPEM: String
        do {
            certificate = try ca.issue(forAgentKey: publicKey, name: vm.name, host: vm.host, days: days).pem
            caPEM = try ca.pem
        } catch {
            throw EnrollmentFailure(error.description)
        }
        let answer: Enrollment.Answer = try await post(
            Enrollment.route,
            Enrollment.Request(
                certificate: certificate, caCertificate: caPEM,
                proof: Enrollment.coordinatorProof(
                    token, agentNonce: hello.agentNonce, certificate: certificate, caCertificate: caPEM)),
            to: vm)
        tokens.consume(for: vm.name)
        return answer.notAfter
    }

    /// Enrollment speaks plain HTTP to the agent's address: what crosses is public or proven.
    private func post<Answer: Decodable>(
        _ path: String, _ body: some Encodable, to vm: FleetInventory.VM
    ) async throws(EnrollmentFailure) -> Answer {
        let response: HTTPClientResponse
        do {
            response = try await agents.client.send(
                HTTPClientRequest(
                    method: "POST", url: "http://\(vm.address)\(path)",
                    headers: [("Content-Type", "application/json")],
                    body: try QuiesceJSON.encode(body), timeout: agents.requestTimeout))
        } catch let error as TransportError {
            throw EnrollmentFailure(
                "cannot reach the agent at \(vm.address) (\(error.kind.rawValue): \(error.message)); an agent "
                    + "waiting for enrollment listens in plaintext: is it started with its join token?")
        } catch {
            throw EnrollmentFailure("cannot ask the agent at \(vm.address): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            if response.status == 404 {
                throw EnrollmentFailure(
                    "the agent at \(vm.address) is not waiting for enrollment (enrolled already, or started without "
                        + "a join token in its enrollment.joinTokenFile)")
            }
            let body = try? QuiesceJSON.decode(APIErrorBody.self, from: response.body)
            throw EnrollmentFailure(
                "the agent refused (HTTP \(response.status))" + (body.map { ": \($0.code): \($0.message)" } ?? ""))
        }
        do {
            return try QuiesceJSON.decode(Answer.self, from: response.body)
        } catch {
            throw EnrollmentFailure("the agent's answer to \(path) is not what this coordinator understands")
        }
    }

    /// nil once `/v1/version` answers over the inventory's TLS, or the last problem.
    private func reachOverMutualTLS(_ vm: FleetInventory.VM) async -> String? {
        guard vm.tls?.certificateFile != nil else {
            return "the inventory gives \(vm.name) no `tls` with the coordinator's certificate (`quiesce ca issue "
                + "--coordinator`, then `defaults.tls`)"
        }
        let deadline = ContinuousClock.now + settleTime
        var problem = "no answer"
        repeat {
            switch await agents.get(AgentVersion.self, AgentRoutes.version, from: vm) {
            case .success: return nil
            case .failure(let error): problem = error.description
            }
            try? await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < deadline
        return problem
    }
}

struct EnrollmentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
