/// Counts the requests a fake server is answering at this moment and the most it answered at once; several fakes
/// can share one to see a client's requests across hosts together.
public actor RequestGauge {
    public private(set) var current = 0
    public private(set) var maximum = 0
    public init() {}

    func enter() {
        current += 1
        maximum = max(maximum, current)
    }

    func leave() { current -= 1 }
}
