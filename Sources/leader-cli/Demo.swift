import ArgumentParser
import Foundation
import LeaderCore

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the main job on the built-in default data (for now: kernel self-check).")

    @Option(help: "Threads (0 = online CPUs).") var threads = 0

    func run() throws {
        let threads = try Threads.resolve(threads)
        print("leader \(LeaderVersion.string) (ABI \(LeaderVersion.abi)) — kernels: \(Threads.isaName), threads: \(threads)")
        print("\nGEMM self-check against the naive reference, every ISA this CPU has:")
        let results = KernelSelfCheck().run(threads: threads)
        print(pad("isa", 8) + pad("M x N x K", 18) + pad("threads", 9) + pad("max rel err", 13) + pad("GFLOP/s", 9) + "ok")
        for r in results {
            print(pad(r.isa, 8) + pad(r.shape.map(String.init).joined(separator: " x "), 18) + pad("\(r.threads)", 9)
                  + pad(String(format: "%.1e", r.maxRelativeError), 13) + pad(String(format: "%.1f", r.gflops), 9)
                  + (r.passed ? "yes" : "NO"))
        }
        guard results.allSatisfy(\.passed) else { throw ExitCode.failure }
        print("\nall kernel checks passed")
    }

    private func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}
