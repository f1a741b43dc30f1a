package io.quaver.internal.qlpb;

import io.quaver.SharedSecret;
import io.quaver.internal.qlpb.QlpbMessage.AuthenticatedHandshake;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.random.RandomGenerator;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/// Authentication of [MS-QLPB] handshakes with a shared secret (beyond the protocol; see
/// [io.quaver.SharedSecret]).
///
/// The MAC is HMAC-SHA256 (`javax.crypto`) over a domain label, the 4-byte handshake header
/// (so a packet-pair handshake cannot be turned into a route-check one), the timestamp and
/// the nonce. Replay protection: the timestamp must be within [#WINDOW_MS] of the sink's
/// clock (hosts need clocks within a minute of each other), and a nonce seen within the
/// window is refused ([#MAX_NONCES] remembered; the cache only ever holds nonces of
/// handshakes whose MAC verified, so only holders of the secret can fill it).
///
/// Pure apart from the replay cache: times are arguments. Thread-safe.
public final class HandshakeAuth {
    /// How far a handshake's timestamp may be from the verifier's clock, either way.
    public static final long WINDOW_MS = 60_000;
    /// Nonces remembered for replay detection.
    public static final int MAX_NONCES = 65_536;
    private static final byte[] LABEL = "quaver-qlpb-auth-1".getBytes(StandardCharsets.US_ASCII);
    private static final String ALGORITHM = "HmacSHA256";

    /// The outcome of [#verify].
    public enum Verdict { OK, BAD_MAC, STALE, REPLAYED, CACHE_FULL }

    private final SecretKeySpec key;
    private final Map<ByteBuffer, Long> seenUntilMs = new HashMap<>();

    public HandshakeAuth(SharedSecret secret) {
        this.key = new SecretKeySpec(secret.keyBytes(), ALGORITHM);
    }

    /// The authenticated form of a handshake (initiator side).
    ///
    /// @param handshakeId [QlpbCodec#ID_PACKET_PAIR] or [QlpbCodec#ID_ROUTE_CHECK]
    public AuthenticatedHandshake sign(int handshakeId, long nowMs, RandomGenerator random) {
        byte[] nonce = new byte[QlpbCodec.AUTH_NONCE_BYTES];
        random.nextBytes(nonce);
        return new AuthenticatedHandshake(handshakeId, nowMs, nonce, mac(handshakeId, nowMs, nonce));
    }

    /// The authenticated form of a handshake with a fresh nonce from a [SecureRandom].
    public AuthenticatedHandshake sign(int handshakeId, long nowMs) {
        return sign(handshakeId, nowMs, new SecureRandom());
    }

    /// Checks MAC, timestamp and nonce (sink side); an accepted nonce is remembered.
    public Verdict verify(AuthenticatedHandshake h, long nowMs) {
        byte[] nonce = h.nonce();
        if (!MessageDigest.isEqual(mac(h.handshakeId(), h.timestampMs(), nonce), h.mac())) {
            return Verdict.BAD_MAC;
        }
        long skew = h.timestampMs() - nowMs;
        if (skew > WINDOW_MS || skew < -WINDOW_MS) {
            return Verdict.STALE;
        }
        synchronized (seenUntilMs) {
            ByteBuffer k = ByteBuffer.wrap(nonce);
            Long until = seenUntilMs.get(k);
            if (until != null && until >= nowMs) {
                return Verdict.REPLAYED;
            }
            if (seenUntilMs.size() >= MAX_NONCES) {
                seenUntilMs.values().removeIf(t -> t < nowMs);
                if (seenUntilMs.size() >= MAX_NONCES) {
                    return Verdict.CACHE_FULL;
                }
            }
            // remembered as long as its timestamp is acceptable
            seenUntilMs.put(k, h.timestampMs() + WINDOW_MS);
        }
        return Verdict.OK;
    }

    private byte[] mac(int handshakeId, long timestampMs, byte[] nonce) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            mac.update(LABEL);
            mac.update(new byte[] {(byte) handshakeId, (byte) QlpbCodec.FLAG_AUTHENTICATED, 0,
                    (byte) QlpbCodec.VERSION_DEFAULT});
            mac.update(ByteBuffer.allocate(8).putLong(timestampMs).array());
            mac.update(nonce);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }
}
