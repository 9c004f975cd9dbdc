package io.tern.protocol;

import io.netty.buffer.ByteBuf;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Encodes a {@link ClusterTopology}.
 *
 * <pre>
 * topology := flags:u8 count:i32 node* count:i32 (nodeId:string count:i32 failoverInfo*)* [missing:uris]
 * flags    := bit 0 machine-redundant, bit 1 quorum, bit 2 the names of missing members follow, bit 3 authenticated
 * node     := nodeId:string name:string machineId:string uris consoleUri:string
 * failoverInfo := nodeId:string address:string uris
 * uris     := count:i32 string*
 * </pre>
 */
public final class TopologyCodec {
    private TopologyCodec() {
    }

    public static void write(ClusterTopology t, ByteBuf buf) {
        buf.writeByte((t.machineRedundant() ? 1 : 0) | (t.quorum() ? 2 : 0) | (t.missing().isEmpty() ? 0 : 4)
                | (t.authenticated() ? 8 : 0));
        buf.writeInt(t.members().size());
        for (NodeInfo n : t.members()) {
            Wire.writeString(buf, n.nodeId());
            Wire.writeString(buf, n.name());
            Wire.writeString(buf, n.machineId());
            writeStrings(buf, n.clientUris());
            Wire.writeString(buf, n.consoleUri());
        }
        buf.writeInt(t.failover().size());
        for (Map.Entry<String, List<FailoverInfo>> e : t.failover().entrySet()) {
            Wire.writeString(buf, e.getKey());
            buf.writeInt(e.getValue().size());
            for (FailoverInfo f : e.getValue()) {
                Wire.writeString(buf, f.nodeId());
                Wire.writeString(buf, f.address());
                writeStrings(buf, f.clientUris());
            }
        }
        if (!t.missing().isEmpty()) {
            writeStrings(buf, t.missing());
        }
    }

    public static ClusterTopology read(ByteBuf buf) {
        Wire.need(buf, 1);
        int flags = buf.readByte();
        if ((flags & ~15) != 0) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "unknown topology flags " + flags);
        }
        boolean redundant = (flags & 1) != 0;
        int count = Wire.readCount(buf, 20);
        List<NodeInfo> members = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            members.add(new NodeInfo(required(buf), required(buf), Wire.readString(buf), readStrings(buf),
                    Wire.readString(buf)));
        }
        int entries = Wire.readCount(buf, 8);
        Map<String, List<FailoverInfo>> failover = new LinkedHashMap<>();
        for (int i = 0; i < entries; i++) {
            String node = required(buf);
            int n = Wire.readCount(buf, 12);
            List<FailoverInfo> infos = new ArrayList<>(n);
            for (int j = 0; j < n; j++) {
                infos.add(new FailoverInfo(required(buf), Wire.readString(buf), readStrings(buf)));
            }
            failover.put(node, infos);
        }
        List<String> missing = (flags & 4) != 0 ? readStrings(buf) : List.of();
        return new ClusterTopology(members, failover, redundant, (flags & 2) != 0, missing, (flags & 8) != 0);
    }

    private static String required(ByteBuf buf) {
        String s = Wire.readString(buf);
        if (s == null) {
            throw new ProtocolException(ErrorCode.MALFORMED_FRAME, "missing string in topology");
        }
        return s;
    }

    private static void writeStrings(ByteBuf buf, List<String> list) {
        buf.writeInt(list.size());
        list.forEach(s -> Wire.writeString(buf, s));
    }

    private static List<String> readStrings(ByteBuf buf) {
        int n = Wire.readCount(buf, 4);
        List<String> list = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            list.add(required(buf));
        }
        return list;
    }
}
