import QuiesceAPI

/// The decisions of one group snapshot, without I/O: which members to call in which phase, when
/// to call the whole group off, and which members still owe a post-script. The driver
/// (`GroupSnapshot`) does the calls and feeds each phase's outcomes back.
///
///     preflight → prepare → [decide] → freeze → snapshot → thaw → finish → done
///
/// Whatever happens after a member opened its session, it gets a `finish` (which thaws it and
/// runs its post-script), with the reason when the snapshot was called off.
public struct GroupSequencer: Sendable {
    public typealias Policy = FleetInventory.Group.Policy

    /// What the driver should do next.
    public enum Step: Sendable, Equatable {
        /// Health, compliance and predicted consistency.
        case preflight([String])
        /// Open a session and run the pre-scripts.
        case prepare([String])
        case freeze([String])
        /// Run the coordinator-side snapshot command once for the whole group.
        case groupCommand([String])
        /// Each member's provider, or (with `external`) record the group command's result.
        case snapshot([String], external: ExternalSnapshot?)
        case thaw([String])
        /// Thaw if still frozen, post-scripts, final report; `abortReason` calls the snapshot off.
        case finish([FinishOrder])
        case done
    }

    public struct FinishOrder: Sendable, Equatable {
        public var member: String
        public var abortReason: String?
    }

    /// One member's result of one step.
    public enum Outcome: Sendable, Equatable {
        /// Done; the best consistency the member can still reach.
        case succeeded(Consistency)
        /// The agent answered, but the step did not do its job (not frozen, snapshot failed).
        case failed(String)
        /// No usable answer before the phase's deadline: the member's state is unknown.
        case unreachable(String)
    }

    public enum Stage: String, Codable, Sendable {
        case preflight, prepare, freeze, groupCommand, snapshot, thaw, finish, done
    }

    public struct Member: Sendable, Equatable {
        public var name: String
        /// Still part of the group snapshot.
        public var active = true
        /// A session was (maybe) opened: it owes a `finish`.
        public var hasSession = false
        public var finished = false
        public var consistency: Consistency = .applicationConsistent
        /// Why the member failed or was left out, in words.
        public var problems: [String] = []
    }

    public let policy: Policy
    public let usesGroupCommand: Bool
    public private(set) var members: [Member]
    public private(set) var stage: Stage = .preflight
    /// Set when the group snapshot was called off or failed; the first reason wins.
    public private(set) var failure: String?
    /// True once every active member's snapshot was taken.
    public private(set) var snapshotTaken = false
    private var pending: [Step] = []

    public init(members: [String], policy: Policy, usesGroupCommand: Bool) {
        self.members = members.map { Member(name: $0) }
        self.policy = policy
        self.usesGroupCommand = usesGroupCommand
    }

    /// The step in progress.
    public private(set) var current: Step = .done

    /// The first step.
    public mutating func start() -> Step {
        current = members.isEmpty ? .done : .preflight(members.map(\.name))
        return current
    }

    private var active: [String] { members.filter(\.active).map(\.name) }

    /// Feeds the outcomes of the current step (by member name; a missing member counts as
    /// unreachable) and returns the next step.
    public mutating func advance(with outcomes: [String: Outcome]) -> Step {
        if case .finish(let orders) = current {
            record(finished: orders, outcomes)
            if !pending.isEmpty {
                current = pending.removeFirst()
                return current
            }
            stage = .done
            current = .done
            return .done
        }
        current =
            switch stage {
            case .preflight: afterPreflight(outcomes)
            case .prepare: afterPrepare(outcomes)
            case .freeze: afterFreeze(outcomes)
            case .groupCommand: afterGroupCommand(outcomes)
            case .snapshot: afterSnapshot(outcomes)
            case .thaw: afterThaw(outcomes)
            case .finish, .done: .done
            }
        return current
    }

    private mutating func afterPreflight(_ outcomes: [String: Outcome]) -> Step {
        var failed: [String] = []
        for name in active {
            switch outcome(outcomes, name) {
            case .succeeded(let predicted) where predicted == .applicationConsistent || policy == .bestEffort:
                update(name) { $0.consistency = predicted }
            case .succeeded(let predicted):
                fail(name, "its next snapshot would only be \(predicted.rawValue)", into: &failed)
            case .failed(let why), .unreachable(let why):
                fail(name, why, into: &failed)
            }
        }
        if !failed.isEmpty {
            if policy == .requireAll || active.isEmpty {
                return callOff("preflight failed on \(failed.joined(separator: "; ")): nothing was touched")
            }
        }
        stage = .prepare
        for name in active { update(name) { $0.hasSession = true } }
        return .prepare(active)
    }

    private mutating func afterPrepare(_ outcomes: [String: Outcome]) -> Step {
        var failed: [String] = []
        for name in active {
            switch outcome(outcomes, name) {
            case .succeeded(let level)
            where level == .applicationConsistent || (policy == .bestEffort && level != .none):
                update(name) { $0.consistency = min($0.consistency, level) }
            case .succeeded(let level):
                fail(name, "after its pre-script it can only reach \(level.rawValue)", into: &failed)
            case .failed(let why), .unreachable(let why):
                fail(name, why, into: &failed)
            }
        }
        if !failed.isEmpty, policy == .requireAll || active.isEmpty {
            return callOff("prepare failed on \(failed.joined(separator: "; ")): nothing was frozen")
        }
        stage = .freeze
        let release = releaseLeftOut()
        if release.isEmpty { return .freeze(active) }
        pending = [.freeze(active)]
        return .finish(release)
    }

    private mutating func afterFreeze(_ outcomes: [String: Outcome]) -> Step {
        var missed: [String] = []
        var failed: [String] = []
        for name in active {
            switch outcome(outcomes, name) {
            case .succeeded(let level): update(name) { $0.consistency = min($0.consistency, level) }
            case .unreachable(let why): fail(name, why, into: &missed)
            case .failed(let why) where policy == .bestEffort:
                update(name) {
                    $0.consistency = min($0.consistency, .crashConsistent)
                    $0.problems.append(why)
                }
            case .failed(let why): fail(name, why, into: &failed)
            }
        }
        if !missed.isEmpty {
            return callOff(
                "freeze missed its deadline on \(missed.joined(separator: "; ")): no snapshot was taken and every "
                    + "member thaws now"
            )
        }
        if !failed.isEmpty {
            return callOff("freeze failed on \(failed.joined(separator: "; ")): no snapshot was taken")
        }
        if usesGroupCommand {
            stage = .groupCommand
            return .groupCommand(active)
        }
        stage = .snapshot
        return .snapshot(active, external: nil)
    }

    /// The group command's outcome comes under the key of each member (all the same).
    private mutating func afterGroupCommand(_ outcomes: [String: Outcome]) -> Step {
        stage = .snapshot
        let result =
            outcomes.isEmpty
            ? .unreachable("the group snapshot command did not report") : outcome(outcomes, outcomes.keys.sorted()[0])
        switch result {
        case .succeeded: return .snapshot(active, external: ExternalSnapshot(taken: true))
        case .failed(let why), .unreachable(let why):
            fail(group: "the group snapshot command failed: \(why)")
            return .snapshot(active, external: ExternalSnapshot(taken: false, failure: why))
        }
    }

    private mutating func afterSnapshot(_ outcomes: [String: Outcome]) -> Step {
        var failed: [String] = []
        for name in active {
            switch outcome(outcomes, name) {
            case .succeeded(let level): update(name) { $0.consistency = min($0.consistency, level) }
            case .failed(let why), .unreachable(let why):
                update(name) {
                    $0.consistency = .none
                    $0.problems.append(why)
                }
                failed.append("\(name) (\(why))")
            }
        }
        if !failed.isEmpty { fail(group: "the snapshot failed on \(failed.joined(separator: "; "))") }
        snapshotTaken = failure == nil
        stage = .thaw
        return .thaw(active)
    }

    private mutating func afterThaw(_ outcomes: [String: Outcome]) -> Step {
        for name in active {
            switch outcome(outcomes, name) {
            case .succeeded(let level): update(name) { $0.consistency = min($0.consistency, level) }
            case .failed(let why), .unreachable(let why):
                update(name) { $0.problems.append("thaw: \(why); its guard thaws it at its deadline regardless") }
            }
        }
        stage = .finish
        return .finish(
            members.filter { $0.hasSession && !$0.finished }.map { FinishOrder(member: $0.name, abortReason: nil) })
    }

    private mutating func record(finished orders: [FinishOrder], _ outcomes: [String: Outcome]) {
        for order in orders {
            update(order.member) {
                $0.finished = true
                switch outcomes[order.member] ?? .unreachable("no answer") {
                case .succeeded(let level): if $0.active { $0.consistency = min($0.consistency, level) }
                case .failed(let why), .unreachable(let why):
                    $0.problems.append("finish: \(why); its lease expiry runs the post-script regardless")
                    if $0.active { $0.consistency = .none }
                }
            }
        }
    }

    /// The group snapshot is off: every member that opened a session finishes with the reason.
    private mutating func callOff(_ reason: String) -> Step {
        fail(group: reason)
        for index in members.indices { members[index].active = false }
        let orders = members.filter { $0.hasSession && !$0.finished }.map {
            FinishOrder(member: $0.name, abortReason: reason)
        }
        stage = orders.isEmpty ? .done : .finish
        return orders.isEmpty ? .done : .finish(orders)
    }

    /// Members left out whose sessions are open: released now, not after the others' snapshot.
    private func releaseLeftOut() -> [FinishOrder] {
        members.filter { !$0.active && $0.hasSession && !$0.finished }.map {
            FinishOrder(member: $0.name, abortReason: "left out of the group snapshot: \($0.problems.last ?? "failed")")
        }
    }

    /// A member's outcome; success at `none` (nothing usable can come of it) is a failure.
    private func outcome(_ outcomes: [String: Outcome], _ name: String) -> Outcome {
        switch outcomes[name] {
        case nil: .unreachable("no answer")
        case .succeeded(.none)?: .failed("its session can no longer produce a usable snapshot")
        case let outcome?: outcome
        }
    }

    private mutating func fail(_ name: String, _ why: String, into list: inout [String]) {
        update(name) {
            $0.active = false
            $0.consistency = .none
            $0.problems.append(why)
        }
        list.append("\(name) (\(why))")
    }

    private mutating func fail(group reason: String) {
        if failure == nil { failure = reason }
    }

    private mutating func update(_ name: String, _ change: (inout Member) -> Void) {
        if let index = members.firstIndex(where: { $0.name == name }) { change(&members[index]) }
    }
}
