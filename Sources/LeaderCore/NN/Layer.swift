/// A module that maps one tensor to one tensor (row-wise over the last dimension or elementwise).
///
/// `forward` caches what `backward` needs and returns a view of a module-owned buffer, valid until the next
/// `forward`; its input must stay unchanged until `backward`. `backward` ACCUMULATES: parameter gradients
/// into the store's gradient buffer, the input gradient into `dIn` (nil when no one needs it).
public protocol Layer: AnyObject {
    func forward(_ x: Tensor, _ ctx: Context) throws(LeaderError) -> Tensor
    func backward(_ dOut: Tensor, into dIn: Tensor?, _ ctx: Context) throws(LeaderError)
}

extension Linear: Layer {}
