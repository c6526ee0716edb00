/// A buffered body that did not arrive whole within its deadline.
package struct BodyDeadlineExceeded: Error, CustomStringConvertible {
    package let deadline: Duration
    package init(deadline: Duration) { self.deadline = deadline }
    package var description: String { "the body did not arrive within \(deadline.components.seconds) s" }
}
