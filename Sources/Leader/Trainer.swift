import CLeader
import FoundationEssentials
import LeaderCore

/// What a `leader_trainer *` points at: the parsed job and the result of its last successful run.
final class TrainerHandle {
    let job: Job
    var result: CStrings?
    init(_ job: Job) { self.job = job }

    static func from(_ p: OpaquePointer?, _ function: String) throws(LeaderError) -> TrainerHandle {
        guard let p else { throw .invalidArgument("\(function): trainer is NULL") }
        return Unmanaged<TrainerHandle>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
    }
}

@c @implementation
public func leader_trainer_create(_ configJSON: UnsafePointer<CChar>?, _ outTrainer: UnsafeMutablePointer<OpaquePointer?>?)
    -> Int32
{
    outTrainer?.pointee = nil
    return boundary { () throws(LeaderError) in
        let f = "leader_trainer_create"
        let json = try required(configJSON, "config_json", f), out = try required(outTrainer, "out_trainer", f)
        let handle = TrainerHandle(try Job.parse(json: String(cString: json)))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@c @implementation
public func leader_trainer_run(_ trainer: OpaquePointer?, _ progress: leader_progress_fn?,
                               _ userData: UnsafeMutableRawPointer?) -> Int32 {
    boundary { () throws(LeaderError) in
        let h = try TrainerHandle.from(trainer, "leader_trainer_run")
        h.result = nil
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let callback: JobProgress? = progress.map { fn in
            { event in
                guard let data = try? encoder.encode(event) else { return true }
                let text = String(decoding: data, as: UTF8.self)
                return text.withCString { fn($0, userData) } == 0
            }
        }
        h.result = try CStrings([try h.job.run(progress: callback)])
    }
}

@c @implementation
public func leader_trainer_result_json(_ trainer: OpaquePointer?,
                                       _ outJSON: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    boundary { () throws(LeaderError) in
        let f = "leader_trainer_result_json"
        let h = try TrainerHandle.from(trainer, f), out = try required(outJSON, "out_json", f)
        guard let result = h.result else { throw .invalidArgument("\(f): the trainer has no successful run yet") }
        out.pointee = result[0]
    }
}

@c @implementation
public func leader_trainer_free(_ trainer: OpaquePointer?) {
    guard let trainer else { return }
    Unmanaged<TrainerHandle>.fromOpaque(UnsafeRawPointer(trainer)).release()
}
