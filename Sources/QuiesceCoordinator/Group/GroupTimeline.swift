import Foundation

/// What a group snapshot's timeline is drawn from, and nothing more: the group page decodes only
/// this from a kept report (a 1,000-member report is 1 MB, most of it members' details).
struct GroupTimeline: Decodable, Sendable {
    struct Member: Decodable, Sendable {
        var name: String
        var frozenAt: Date?
        var thawedAt: Date?
        var calls: [GroupSnapshotReport.Call]
    }

    var startedAt: Date
    var finishedAt: Date
    var cut: GroupCut
    var members: [Member]

    init(_ report: GroupSnapshotReport) {
        startedAt = report.startedAt
        finishedAt = report.finishedAt
        cut = report.cut
        members = report.members.map {
            Member(name: $0.name, frozenAt: $0.frozenAt, thawedAt: $0.thawedAt, calls: $0.calls)
        }
    }
}
