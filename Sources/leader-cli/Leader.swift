import ArgumentParser
import LeaderCore

@main
struct LeaderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "leader",
        abstract: "LEADER medication recommendation: data preparation, teacher, student, evaluation.",
        version: "\(LeaderVersion.string)",
        subcommands: [Demo.self, Pipeline.self, Info.self, Synth.self, Prepare.self, Stats.self, Samples.self, Prompts.self, Student.self, Eval.self,
                      Recommend.self, TeacherCommand.self, Bench.self]
    )
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the library version and kernel ISA.")
    func run() throws {
        print("leader \(LeaderVersion.string) (ABI \(LeaderVersion.abi)), kernels: \(Threads.isaName), cpus: \(Threads.online)")
    }
}
