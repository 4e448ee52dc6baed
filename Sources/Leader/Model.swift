import CLeader
import LeaderCore

@c @implementation
public func leader_model_load(_ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    outModel?.pointee = nil
    return boundary { () throws(LeaderError) in
        let f = "leader_model_load"
        let path = try required(path, "path", f), out = try required(outModel, "out_model", f)
        let handle = try ModelHandle(try ServingModel(path: String(cString: path)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func leader_model_free(_ model: OpaquePointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(UnsafeRawPointer(model)).release()
}

@c @implementation
public func leader_model_info_json(_ model: OpaquePointer?, _ outJSON: UnsafeMutablePointer<UnsafePointer<CChar>?>?)
    -> Int32
{
    boundary { () throws(LeaderError) in
        let f = "leader_model_info_json"
        let h = try ModelHandle.from(model, f), out = try required(outJSON, "out_json", f)
        out.pointee = h.info[0]
    }
}

/// The lent codes of `kind`, or an invalid-argument error naming it.
private func kindIndex(_ kind: Int32, _ function: String) throws(LeaderError) -> Int {
    guard (0...2).contains(kind) else {
        throw .invalidArgument("\(function): kind \(kind) (expected LEADER_KIND_DIAGNOSIS, _PROCEDURE or _MEDICATION)")
    }
    return Int(kind)
}

@c @implementation
public func leader_model_vocabulary_size(_ model: OpaquePointer?, _ kind: Int32, _ outN: UnsafeMutablePointer<Int64>?)
    -> Int32
{
    boundary { () throws(LeaderError) in
        let f = "leader_model_vocabulary_size"
        let h = try ModelHandle.from(model, f), k = try kindIndex(kind, f), out = try required(outN, "out_n", f)
        out.pointee = Int64(h.codes[k].count)
    }
}

@c @implementation
public func leader_model_code(_ model: OpaquePointer?, _ kind: Int32, _ id: Int32,
                              _ outCode: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                              _ outTitle: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_model_code"
        let h = try ModelHandle.from(model, f), k = try kindIndex(kind, f)
        guard id >= 0, Int(id) < h.codes[k].count else {
            throw .invalidArgument("\(f): id \(id) outside the vocabulary of \(h.codes[k].count)")
        }
        outCode?.pointee = h.codes[k][Int(id)]
        outTitle?.pointee = h.titles[k][Int(id)]
    }
}

@c @implementation
public func leader_model_code_id(_ model: OpaquePointer?, _ kind: Int32, _ code: UnsafePointer<CChar>?,
                                 _ outID: UnsafeMutablePointer<Int32>?) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_model_code_id"
        let h = try ModelHandle.from(model, f), k = try kindIndex(kind, f)
        let code = try required(code, "code", f), out = try required(outID, "out_id", f)
        out.pointee = h.model.id(of: String(cString: code), kind: k) ?? -1
    }
}
