/// Which visits a prediction sees: the target (current) visit and at most `earlierVisits` visits before it, the
/// MOST RECENT ones (the official code keeps the first ones: a bug fixed here). The one rule behind every setting
/// that limits history: `PrepareConfig.maxHistory` (a sample's `historyStart`), `StudentConfig.maxVisits`
/// (= earlierVisits + 1: the examples of training and evaluation), the serving session's `historyVisits`, and the
/// prompt template's `historyVisits` (the earlier visits the teacher's prompt shows). Each setting is validated
/// where it is read; a sample's own visit range is checked in one place, `PreparedDataset.visits(of:)`.
public struct HistoryWindow: Equatable, Sendable {
    public let earlierVisits: Int

    /// `earlierVisits` below 0 counts as 0.
    public init(earlierVisits: Int) { self.earlierVisits = max(0, earlierVisits) }

    /// The first visit index kept for the visit at `target`, never before `start`.
    public func firstVisit(target: Int, from start: Int = 0) -> Int { max(start, target - earlierVisits) }

    /// How many of `available` earlier visits are kept.
    public func kept(of available: Int) -> Int { min(earlierVisits, max(0, available)) }
}
