package io.quaver;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;

/// A shared secret that authenticates [MS-QLPB] handshakes between an initiator and a sink
/// (beyond [MS-QLPB]; for deployments beyond the local link). Configure the same secret on
/// both sides: [SinkOptions#withSecret(SharedSecret)] and
/// [QosOptions#withProbeSecret(SharedSecret)] (`--secret-file` on the command line).
///
/// The initiator then sends an *authenticated handshake*: the usual 4-byte handshake with a
/// flag bit set, followed by a timestamp, a random nonce and an HMAC-SHA256 over them; a sink
/// with a secret drops any other handshake, one with a wrong MAC, a stale timestamp or a
/// nonce it has already seen. Plain [MS-QLPB] peers (Windows qWAVE) know nothing of this:
/// leave the secret unset (the default) to work with them.
///
/// The key is at least 16 bytes. [#toString()] never shows it.
public final class SharedSecret {
    /// Fewest key bytes accepted.
    public static final int MIN_BYTES = 16;
    /// Most key bytes accepted.
    public static final int MAX_BYTES = 4096;

    private final byte[] key;

    private SharedSecret(byte[] key) {
        this.key = key;
    }

    /// A secret from raw key bytes (copied).
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] for `null`, fewer than 16 or more than
    ///                      4,096 bytes
    public static SharedSecret of(byte[] key) {
        if (key == null || key.length < MIN_BYTES || key.length > MAX_BYTES) {
            throw new QosException(QosError.INVALID_PARAMETER, "a shared secret has " + MIN_BYTES + ".." + MAX_BYTES
                    + " bytes, was " + (key == null ? "null" : key.length));
        }
        return new SharedSecret(key.clone());
    }

    /// A secret read from a file: its bytes, without trailing line breaks (so that
    /// `openssl rand -hex 32 > F` works as is).
    ///
    /// @throws QosException [QosError#INVALID_PARAMETER] if the file cannot be read or holds
    ///                      too few or too many bytes
    public static SharedSecret fromFile(Path file) {
        if (file == null) {
            throw new QosException(QosError.INVALID_PARAMETER, "a secret file is required");
        }
        byte[] bytes;
        try {
            if (Files.size(file) > MAX_BYTES + 2) {
                throw new QosException(QosError.INVALID_PARAMETER, "secret file " + file + " is larger than "
                        + MAX_BYTES + " bytes");
            }
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new QosException(QosError.INVALID_PARAMETER, "cannot read the secret file " + file + ": " + e, e);
        }
        int n = bytes.length;
        while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) {
            n--;
        }
        try {
            return of(Arrays.copyOf(bytes, n));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /// A copy of the key bytes.
    public byte[] keyBytes() {
        return key.clone();
    }

    /// Constant-time comparison of the keys.
    @Override
    public boolean equals(Object o) {
        return o instanceof SharedSecret s && MessageDigest.isEqual(key, s.key);
    }

    @Override
    public int hashCode() {
        return key.length;
    }

    @Override
    public String toString() {
        return "SharedSecret[" + key.length + " bytes]";
    }
}
