package io.quaver.qos2;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/// `QOSCreateHandle` / `QOSCloseHandle` as Wine's conformance test (`dlls/qwave/tests/qos.c`,
/// which passes on Windows) pins them, the last-error convention, and decisions.md item 1.
class HandleTest extends Qos2TestBase {
    private static final int DEADBEEF = 0xdeadbeef;

    @Test
    void createHandleRejectsNullArgumentsAndBadVersions() {
        QosHandle[] h = new QosHandle[1];

        SetLastError(DEADBEEF);
        assertThat(QOSCreateHandle(null, null)).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_PARAMETER);

        SetLastError(DEADBEEF);
        assertThat(QOSCreateHandle(new QOS_VERSION(1, 0), null)).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_PARAMETER);

        SetLastError(DEADBEEF);
        assertThat(QOSCreateHandle(new QOS_VERSION(1, 0), new QosHandle[0])).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_PARAMETER);

        SetLastError(DEADBEEF);
        assertThat(QOSCreateHandle(null, h)).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_PARAMETER);

        for (QOS_VERSION bad : List.of(new QOS_VERSION(0, 0), new QOS_VERSION(1, 5), new QOS_VERSION(2, 0),
                new QOS_VERSION(0xFFFF, 0xFFFF))) {
            SetLastError(DEADBEEF);
            assertThat(QOSCreateHandle(bad, h)).as("version %s", bad).isFalse();
            assertThat(GetLastError()).as("version %s", bad).isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(h[0]).as("nothing written on failure").isNull();
        }
    }

    @Test
    void createHandleWithVersion1_0SucceedsAndLeavesTheLastErrorAlone() {
        QosHandle[] h = new QosHandle[1];
        SetLastError(DEADBEEF);
        assertThat(QOSCreateHandle(new QOS_VERSION(1, 0), h)).isTrue();
        assertThat(GetLastError()).isEqualTo(DEADBEEF);
        assertThat(h[0]).isNotNull();
        assertThat(h[0].toString()).isEqualTo("QosHandle[open]");
        assertThat(QOSCloseHandle(h[0])).isTrue();
        assertThat(GetLastError()).isEqualTo(DEADBEEF);
    }

    @Test
    void eachCreateReturnsAnIndependentHandle() {
        QosHandle a = handle();
        QosHandle b = handle();
        assertThat(a).isNotSameAs(b);
        assertThat(QOSCloseHandle(a)).isTrue();
        // b is still usable: a query of an unknown flow reaches the flow lookup, not the handle check
        assertThat(errorOf(QOSQueryFlow(b, 12345, QOSQueryPacketPriority, new int[] {16}, buffer(16), 0, null)))
                .isEqualTo(ERROR_NOT_FOUND);
    }

    @Test
    void closeHandleNullAndDoubleCloseAreInvalidHandle() {
        SetLastError(DEADBEEF);
        assertThat(QOSCloseHandle(null)).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_HANDLE);

        QosHandle h = handle();
        SetLastError(DEADBEEF);
        assertThat(QOSCloseHandle(h)).isTrue();
        assertThat(GetLastError()).isEqualTo(DEADBEEF);
        assertThat(h.toString()).isEqualTo("QosHandle[closed]");

        SetLastError(DEADBEEF);
        assertThat(QOSCloseHandle(h)).isFalse();
        assertThat(GetLastError()).isEqualTo(ERROR_INVALID_HANDLE);
    }

    @Test
    void closeHandleRemovesItsFlowsAndRestoresTheirMarks() throws IOException {
        QosHandle h = handle();
        DatagramChannel socket = connectedUdp(V4_PEER);
        int before = dscpOf(socket);
        addFlow(h, socket, null, QOSTrafficTypeVoice, QOS_NON_ADAPTIVE_FLOW);
        assertThat(dscpOf(socket)).isEqualTo(0x38);
        assertThat(QOSCloseHandle(h)).isTrue();
        assertThat(dscpOf(socket)).isEqualTo(before);
        assertThat(io.quaver.internal.Engine.embedded().liveFlowCount()).isZero();
    }

    /// decisions.md item 1: a NULL or closed handle → 6 for every function, checked before any
    /// other argument.
    @Test
    void item1_invalidHandleIsReportedByEveryFunction() throws IOException {
        QosHandle closed = handle();
        assertThat(QOSCloseHandle(closed)).isTrue();
        DatagramChannel socket = connectedUdp(V4_PEER);

        for (QosHandle bad : new QosHandle[] {null, closed}) {
            List<Boolean> results = new ArrayList<>();
            List<Integer> errors = new ArrayList<>();
            Runnable[] calls = {
                    () -> record(results, errors, QOSCloseHandle(bad)),
                    () -> record(results, errors, QOSStartTrackingClient(bad, V4_PEER, 0)),
                    () -> record(results, errors, QOSStopTrackingClient(bad, V4_PEER, 0)),
                    () -> record(results, errors, QOSAddSocketToFlow(bad, socket, null, QOSTrafficTypeVoice,
                            QOS_NON_ADAPTIVE_FLOW, new int[1])),
                    () -> record(results, errors, QOSRemoveSocketFromFlow(bad, null, 1, 0)),
                    () -> record(results, errors, QOSSetFlow(bad, 1, QOSSetTrafficType, 4, dword(0), 0, null)),
                    () -> record(results, errors, QOSQueryFlow(bad, 1, QOSQueryPacketPriority, new int[] {16},
                            buffer(16), 0, null)),
                    () -> record(results, errors, QOSNotifyFlow(bad, 1, QOSNotifyCongested, null, null, 0, null)),
                    () -> record(results, errors, QOSEnumerateFlows(bad, new int[] {0}, buffer(0))),
                    () -> record(results, errors, QOSCancel(bad, new Overlapped())),
                    // even with every other argument invalid, the handle is reported first
                    () -> record(results, errors, QOSCancel(bad, null)),
                    () -> record(results, errors, QOSSetFlow(bad, 0, 99, 1, null, 7, null)),
                    () -> record(results, errors, QOSQueryFlow(bad, 0, 99, null, null, 7, null)),
                    () -> record(results, errors, QOSAddSocketToFlow(bad, null, null, 99, 99, null)),
            };
            for (Runnable call : calls) {
                SetLastError(DEADBEEF);
                call.run();
            }
            assertThat(results).as("handle %s", bad).hasSize(calls.length).containsOnly(false);
            assertThat(errors).as("handle %s", bad).containsOnly(ERROR_INVALID_HANDLE);
        }
        assertThat(errorOf(GetOverlappedResult(null, new Overlapped(), new int[1], false)))
                .isEqualTo(ERROR_INVALID_HANDLE);
        assertThat(errorOf(GetOverlappedResult(closed, new Overlapped(), new int[1], false)))
                .isEqualTo(ERROR_INVALID_HANDLE);
    }

    private static void record(List<Boolean> results, List<Integer> errors, boolean result) {
        results.add(result);
        errors.add(GetLastError());
    }

    @Test
    void lastErrorIsPerThreadAndSharedWithWsaGetLastError() throws Exception {
        SetLastError(1234);
        assertThat(WSAGetLastError()).isEqualTo(1234);
        int[] seen = new int[2];
        Thread t = Thread.ofVirtual().start(() -> {
            seen[0] = GetLastError();
            QOSCloseHandle(null);
            seen[1] = GetLastError();
        });
        t.join();
        assertThat(seen).containsExactly(ERROR_SUCCESS, ERROR_INVALID_HANDLE);
        assertThat(GetLastError()).isEqualTo(1234);
    }

    @Test
    void successfulCallsOfEveryKindLeaveTheLastErrorUnchanged() throws IOException {
        QosHandle h = handle(true);
        DatagramChannel socket = connectedUdp(V4_PEER);
        SetLastError(DEADBEEF);
        int id = addFlow(h, socket, null, QOSTrafficTypeAudioVideo, QOS_NON_ADAPTIVE_FLOW);
        assertThat(QOSSetFlow(h, id, QOSSetTrafficType, 4, dword(QOSTrafficTypeVoice), 0, null)).isTrue();
        assertThat(QOSSetFlow(h, id, QOSSetOutgoingDSCPValue, 4, dword(46), 0, null)).isTrue();
        priority(h, id);
        int[] size = {64};
        assertThat(QOSEnumerateFlows(h, size, buffer(64))).isTrue();
        assertThat(QOSRemoveSocketFromFlow(h, socket, id, 0)).isTrue();
        assertThat(GetLastError()).isEqualTo(DEADBEEF);
    }

    @Test
    void versionRecordRejectsValuesThatAreNotUshort() {
        assertThatThrownBy(() -> new QOS_VERSION(-1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new QOS_VERSION(1, 0x1_0000)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void createHandleReportsABadPrivilegePropertyAsInvalidParameter() {
        String before = System.getProperty(PRIVILEGED);
        System.setProperty(PRIVILEGED, "maybe");
        try {
            QosHandle[] h = new QosHandle[1];
            assertThat(errorOf(QOSCreateHandle(new QOS_VERSION(1, 0), h))).isEqualTo(ERROR_INVALID_PARAMETER);
            assertThat(h[0]).isNull();
        } finally {
            if (before == null) {
                System.clearProperty(PRIVILEGED);
            } else {
                System.setProperty(PRIVILEGED, before);
            }
        }
    }
}
