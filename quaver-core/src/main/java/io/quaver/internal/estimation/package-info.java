/// Path estimators: pure functions and small stateful filters that turn [MS-QLPB] samples
/// into the estimates of `QOS_FLOW_FUNDAMENTALS` (qwave.md §6.5), and a planner that decides
/// the next experiment. Nothing here reads a clock, opens a socket or starts a thread: time
/// (`…Ns`, integer nanoseconds on the caller's clock) and samples are arguments, and the tests
/// run in virtual time against a synthetic path with known answers.
///
/// | Piece | Input | Output | Method (source) |
/// | --- | --- | --- | --- |
/// | [TrainDispersion] | one train ([TrainSample]) | [TrainAnalysis] | packet-pair/train dispersion (Keshav; Dovrolis, Ramanathan, Moore ToN 2004) with batch reading for interrupt coalescing (Prasad, Jain, Dovrolis PAM 2004), token-bucket knee and burst from the tail line, fastest dense cluster against cross traffic |
/// | [BottleneckEstimator] | trains | [BottleneckEstimate] | quality-weighted median over a window; head-only trains after a knee feed the peak only; change detection |
/// | [AvailableBandwidthEstimator] | probegap one-way delays | [AvailableEstimate] | ProbeGap (Lakshminarayanan, Padmanabhan, Padhye IMC 2004), skew removal by the Moon–Skelly–Towsley lower hull (INFOCOM 1999), probe-load and short-residual corrections |
/// | [SpruceEstimator] | paced streams (packet-pair trains sent at the capacity) | [SpruceEstimate] | Spruce (Strauss, Katabi, Kaashoek IMC 2003) on the stream's tail after the token-bucket knee; [PathEstimator] prefers it to ProbeGap when the two disagree beyond Spruce's noise and by a factor in load with smooth cross traffic (a bucket hides CBR from ProbeGap; timestamp noise reads as load), mixes them by inverse variance otherwise |
/// | [RttEstimator] | probegap round trips | [RttEstimate] | sink holding time removed; cold-start runs discarded; windowed mean; Nichols' windowed min (Linux `win_minmax`, BBR's 10 s RTprop) |
/// | [PathEstimator] | all of the above, per client | [PathSnapshot] | the façade the prober calls |
/// | [ProbePlanner] | time, [PlannerState] | [ProbeAction] | fast growing trains (WebRTC ProbeController-like) within 64 KB + R̂·50 ms, bucket confirmation, upkeep ≤ 1 %, continuous dithered probegap while a flow is active, paced streams (2 % active, 0.25 % upkeep) |
///
/// Units: rates in bits per second at the IP level (`…Bps`), sizes in bytes (`…Bytes`),
/// times in nanoseconds (`…Ns`) except RTTs reported in microseconds (`…Us`) as qWAVE does.
/// [MS-QLPB] timestamps (100 ns ticks) are converted at the façade.
package io.quaver.internal.estimation;
