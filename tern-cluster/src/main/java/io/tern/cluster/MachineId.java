package io.tern.cluster;

import java.io.IOException;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * Which machine a node runs on, so that failover nodes can be placed on other machines: the
 * override if given, else {@code /etc/machine-id}, else a hash of the machine's MAC addresses.
 */
public final class MachineId {
    private MachineId() {
    }

    public static String resolve(String override) {
        return resolve(override, Path.of("/etc/machine-id"));
    }

    static String resolve(String override, Path machineIdFile) {
        if (override != null && !override.isBlank()) {
            return override.trim();
        }
        try {
            String id = Files.readString(machineIdFile, StandardCharsets.UTF_8).trim();
            if (!id.isEmpty()) {
                return id;
            }
        } catch (IOException e) {
            // no machine-id on this system: fall back to the MAC addresses
        }
        return macHash();
    }

    /** SHA-256 over the sorted hardware addresses, first 16 bytes in hex; "unknown" if there are none. */
    static String macHash() {
        List<String> macs = new ArrayList<>();
        try {
            for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                byte[] mac = nic.getHardwareAddress();
                if (mac != null && mac.length > 0 && !nic.isLoopback()) {
                    macs.add(HexFormat.of().formatHex(mac));
                }
            }
        } catch (SocketException e) {
            return "unknown";
        }
        if (macs.isEmpty()) {
            return "unknown";
        }
        Collections.sort(macs);
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(String.join(",", macs).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by every JVM", e);
        }
    }
}
