/// The [MS-QLPB] initiator: one [io.quaver.internal.probe.ClientProber] per client (control
/// connections, packet-pair trains, probegap, route check) and the seams around it.
///
/// * [io.quaver.internal.probe.PathModel] — samples in, estimates out (pure):
///   [io.quaver.internal.probe.EstimatorModel] over the estimation package's `PathEstimator`
///   (the engine's), or the older stand-in [io.quaver.internal.probe.InterimPathModel].
/// * [io.quaver.internal.probe.ProbeScheduler] — what to send when (pure): send a train, send
///   a probegap probe, or idle until a time: [io.quaver.internal.probe.PlannerScheduler] over
///   the estimation package's `ProbePlanner` (the engine's), or the stand-in
///   [io.quaver.internal.probe.InterimScheduler] with the [io.quaver.internal.probe.ProbeBudget].
/// * [io.quaver.internal.probe.PathStack] — the pair the engine uses.
/// * [io.quaver.internal.probe.ProbeSockets] — where sockets come from (a test bed's
///   namespace, or a failing factory in tests).
/// * [io.quaver.internal.probe.ProbeObserver] — a tap on samples and estimates (for the
///   congestion detector).
/// * [io.quaver.internal.probe.OnLink] — decisions.md item 23.
///
/// The tracking registry that owns the probers is `io.quaver.internal.Tracking`.
package io.quaver.internal.probe;
