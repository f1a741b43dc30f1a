package io.quaver.qos2;

import io.quaver.FlowRateReason;
import io.quaver.QosError;
import io.quaver.Shaping;
import io.quaver.TrafficType;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

import static io.quaver.qos2.Qos2.*;
import static org.assertj.core.api.Assertions.assertThat;

/// The C constants: values of qwave.md §3, and agreement with the Java API's enums.
class ConstantsTest {

    @Test
    void everyQosErrorHasItsWin32ConstantWithTheSameNumber() throws Exception {
        for (QosError e : QosError.values()) {
            Field f = Qos2.class.getField(e.win32Name());
            assertThat(Modifier.isStatic(f.getModifiers()) && Modifier.isFinal(f.getModifiers())).isTrue();
            assertThat(f.getInt(null)).as(e.win32Name()).isEqualTo(e.code());
        }
        assertThat(ERROR_SUCCESS).isZero();
        assertThat(ERROR_IO_PENDING).isEqualTo(997);
        assertThat(ERROR_IO_INCOMPLETE).isEqualTo(996);
        assertThat(ERROR_OPERATION_ABORTED).isEqualTo(995);
        assertThat(ERROR_NOT_FOUND).isEqualTo(1168);
        assertThat(ERROR_INSUFFICIENT_BUFFER).isEqualTo(122);
    }

    @Test
    void enumValuesMatchQos2hAndTheJavaApi() {
        int[] trafficTypes = {QOSTrafficTypeBestEffort, QOSTrafficTypeBackground, QOSTrafficTypeExcellentEffort,
                QOSTrafficTypeAudioVideo, QOSTrafficTypeVoice, QOSTrafficTypeControl};
        for (int i = 0; i < trafficTypes.length; i++) {
            assertThat(trafficTypes[i]).isEqualTo(i).isEqualTo(TrafficType.values()[i].value());
        }
        int[] shaping = {QOSShapeOnly, QOSShapeAndMark, QOSUseNonConformantMarkings};
        for (int i = 0; i < shaping.length; i++) {
            assertThat(shaping[i]).isEqualTo(i).isEqualTo(Shaping.values()[i].value());
        }
        int[] reasons = {QOSFlowRateNotApplicable, QOSFlowRateContentChange, QOSFlowRateCongestion,
                QOSFlowRateHigherContentEncoding, QOSFlowRateUserCaused};
        for (int i = 0; i < reasons.length; i++) {
            assertThat(reasons[i]).isEqualTo(i).isEqualTo(FlowRateReason.values()[i].value());
        }
        assertThat(new int[] {QOSSetTrafficType, QOSSetOutgoingRate, QOSSetOutgoingDSCPValue}).containsExactly(0, 1, 2);
        assertThat(new int[] {QOSQueryFlowFundamentals, QOSQueryPacketPriority, QOSQueryOutgoingRate})
                .containsExactly(0, 1, 2);
        assertThat(new int[] {QOSNotifyCongested, QOSNotifyUncongested, QOSNotifyAvailable}).containsExactly(0, 1, 2);
    }

    @Test
    void flagsSpecialValuesAndSocketConstants() {
        assertThat(QOS_QUERYFLOW_FRESH).isEqualTo(1);
        assertThat(QOS_NON_ADAPTIVE_FLOW).isEqualTo(2);
        assertThat(QOS_OUTGOING_DEFAULT_MINIMUM_BANDWIDTH).isEqualTo(4_294_967_295L)
                .isEqualTo(io.quaver.OutgoingRate.DEFAULT_MINIMUM_BANDWIDTH_BPS);
        assertThat(new int[] {AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP}).containsExactly(2, 23, 6, 17);
    }
}
