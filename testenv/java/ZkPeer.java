// ZkPeer: the Java ZooKeeper client driven line by line over stdin/stdout, for zksecure's interop tests.
// Each input line is a command; each gets exactly one output line: "ok <result>" or
// "err <KeeperException.Code name | EXCEPTION> <message>". Data and ids are percent-encoded (UTF-8).
//
//   connect <connectString> <sessionTimeoutMs> <sasl|nosasl> [exists] -> ok <sessionId hex> <elapsed ns>
//                                                                  (exists: the time includes one exists /)
//   create <path> <data> <acl> <mode>                          -> ok <created path>
//   get <path>                                                 -> ok <data>
//   set <path> <data>                                          -> ok <version>
//   getacl <path>                                              -> ok <scheme:id:perms>|...
//   delete <path> | exists <path> | children <path> | whoami | close
//   getraw <path>                                              -> ok <hex of the node's bytes>
//   record-encode <address> <uuid>                             -> ok <hex>  (Flink's connection_info bytes)
//   record-decode <hex>                                        -> ok <address> <uuid>
//   record-put <path> <address> <uuid>                         -> ok <path> (ephemeral, open ACL)
//   latch-start <connect> <namespace> <latchPath> <n> <sessionMs> [creator] -> ok  (n Curator LeaderLatch
//                                                                  contenders, each its own CuratorFramework
//                                                                  session; creator: Flink's SecureAclProvider)
//   latch-leaders                                              -> ok <indexes holding leadership, comma-separated>
//   latch-close <i>                                            -> ok (resign: LeaderLatch.close())
//   latch-restart <i>                                          -> ok (a new LeaderLatch for contender i)
//   latch-bench <rounds>                                       -> ok <ns,...> (close the leader, time until
//                                                                  another contender's isLeader(); then restart it)
//   latch-stop                                                 -> ok (close every latch and client)
//   latch-history                                              -> ok <i>:<lead|notlead>:<unix µs>,... (every
//                                                                  leadership change since the last call, in order)
//   latch-curator-close <i>                                    -> ok (close contender i's CuratorFramework: its
//                                                                  session ends, as a graceful process exit would)
//   counter-set <connect> <namespace> <path> <n> [creator]     -> ok (a Curator SharedCount set to n, as Flink's
//                                                                  checkpoint_id_counter; own session, closed after)
//   storm-open, storm-arm, storm-wait, storm-stats, storm-close: many sessions in this JVM (Storm.java)
//
// <acl>: open | creator | read | entries "scheme:id:perms|..." (perms from "cdrwa", id percent-encoded).
// <mode>: persistent | ephemeral | persistent_sequential | ephemeral_sequential.
import java.io.*;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.*;
import java.util.concurrent.*;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.zookeeper.*;
import org.apache.zookeeper.data.*;

public class ZkPeer {
    private static ZooKeeper zk;
    private static final List<CuratorFramework> curators = new ArrayList<>();
    private static final List<LeaderLatch> latches = new ArrayList<>();
    private static String latchPath;
    private static volatile CountDownLatch leaderChanged = new CountDownLatch(1);
    private static final List<String> history = new ArrayList<>();

    static long nowMicros() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    static void record(int i, String what) {
        synchronized (history) { history.add(i + ":" + what + ":" + nowMicros()); }
    }

    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isEmpty()) continue;
            String[] f = line.split(" ");
            try {
                out.println("ok " + handle(f));
            } catch (KeeperException e) {
                out.println("err " + e.code().name() + " " + oneLine(e.getMessage()));
            } catch (Throwable e) {
                out.println("err EXCEPTION " + e.getClass().getName() + ": " + oneLine(e.getMessage()));
            }
            if (f[0].equals("quit")) break;
        }
        if (zk != null) zk.close();
        System.exit(0);
    }

    static String oneLine(String s) { return s == null ? "" : s.replace('\n', ' ').replace('\r', ' '); }
    static String dec(String s) { return s.equals("-") ? "" : URLDecoder.decode(s, StandardCharsets.UTF_8); }
    static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

    static String handle(String[] f) throws Exception {
        switch (f[0]) {
            case "connect": return connect(f[1], Integer.parseInt(f[2]), f[3].equals("sasl"), f.length > 4 && f[4].equals("exists"));
            case "create": {
                byte[] data = dec(f[2]).getBytes(StandardCharsets.UTF_8);
                return zk.create(f[1], data, acl(f[3]), CreateMode.valueOf(f[4].toUpperCase()));
            }
            case "get": return enc(new String(zk.getData(f[1], false, null), StandardCharsets.UTF_8));
            case "set": return Integer.toString(zk.setData(f[1], dec(f[2]).getBytes(StandardCharsets.UTF_8), -1).getVersion());
            case "delete": zk.delete(f[1], -1); return "deleted";
            case "exists": return Boolean.toString(zk.exists(f[1], false) != null);
            case "children": return String.join(",", zk.getChildren(f[1], false));
            case "getacl": {
                List<String> parts = new ArrayList<>();
                for (ACL a : zk.getACL(f[1], new Stat()))
                    parts.add(a.getId().getScheme() + ":" + enc(a.getId().getId()) + ":" + perms(a.getPerms()));
                return String.join("|", parts);
            }
            case "whoami": {
                List<String> ids = new ArrayList<>();
                for (org.apache.zookeeper.data.ClientInfo c : zk.whoAmI()) ids.add(c.getAuthScheme() + ":" + enc(c.getUser()));
                return String.join("|", ids);
            }
            case "close": if (zk != null) zk.close(); zk = null; return "closed";
            case "getraw": return hex(zk.getData(f[1], false, null));
            case "record-encode": return hex(encodeRecord(dec(f[1]), UUID.fromString(f[2])));
            case "record-decode": {
                ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(unhex(f[1])));
                String addr = in.readUTF();
                UUID id = (UUID) in.readObject();
                return enc(addr) + " " + id;
            }
            case "record-put":
                return zk.create(f[1], encodeRecord(dec(f[2]), UUID.fromString(f[3])), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
            case "latch-start": {
                latchPath = f[3];
                int n = Integer.parseInt(f[4]);
                int sessionMs = Integer.parseInt(f[5]);
                for (int i = 0; i < n; i++) {
                    CuratorFramework c = curatorBuilder(f[1], f[2], sessionMs, f.length > 6 && f[6].equals("creator")).build();
                    c.start();
                    if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) throw new TimeoutException("Curator client " + i + " did not connect");
                    curators.add(c);
                    latches.add(null);
                    startLatch(i);
                }
                return "started";
            }
            case "latch-leaders": {
                List<String> idx = new ArrayList<>();
                for (int i = 0; i < latches.size(); i++) if (latches.get(i) != null && latches.get(i).hasLeadership()) idx.add(Integer.toString(i));
                return String.join(",", idx);
            }
            case "latch-close": {
                int i = Integer.parseInt(f[1]);
                LeaderLatch l = latches.get(i);
                // close() clears the listeners before it gives up leadership: record the end here.
                if (l.hasLeadership()) record(i, "notlead");
                l.close();
                latches.set(i, null);
                return "closed";
            }
            case "latch-history": {
                synchronized (history) { String r = String.join(",", history); history.clear(); return r; }
            }
            case "latch-curator-close": {
                int i = Integer.parseInt(f[1]);
                LeaderLatch l = latches.get(i);
                if (l != null && l.hasLeadership()) record(i, "notlead");
                if (l != null) l.close();
                latches.set(i, null);
                curators.get(i).close();
                return "closed";
            }
            case "latch-restart": startLatch(Integer.parseInt(f[1])); return "started";
            case "latch-bench": {
                int rounds = Integer.parseInt(f[1]);
                List<String> out = new ArrayList<>();
                for (int r = 0; r < rounds; r++) {
                    int leader = -1;
                    long waitUntil = System.nanoTime() + 10_000_000_000L;
                    while (leader < 0 && System.nanoTime() < waitUntil) {
                        for (int i = 0; i < latches.size(); i++) if (latches.get(i) != null && latches.get(i).hasLeadership()) leader = i;
                        if (leader < 0) Thread.sleep(1);
                    }
                    if (leader < 0) throw new TimeoutException("no Curator leader");
                    leaderChanged = new CountDownLatch(1);
                    long t0 = System.nanoTime();
                    latches.get(leader).close();
                    latches.set(leader, null);
                    if (!leaderChanged.await(10, TimeUnit.SECONDS)) throw new TimeoutException("no new Curator leader");
                    out.add(Long.toString(System.nanoTime() - t0));
                    startLatch(leader);
                    Thread.sleep(5);
                }
                return String.join(",", out);
            }
            case "latch-stop": {
                for (LeaderLatch l : latches) if (l != null) l.close();
                for (CuratorFramework c : curators) c.close();
                latches.clear(); curators.clear();
                return "stopped";
            }
            case "counter-set": {
                CuratorFramework c = curatorBuilder(f[1], f[2], 10000, f.length > 5 && f[5].equals("creator")).build();
                c.start();
                try {
                    if (!c.blockUntilConnected(20, TimeUnit.SECONDS)) throw new TimeoutException("Curator client did not connect");
                    org.apache.curator.framework.recipes.shared.SharedCount sc =
                        new org.apache.curator.framework.recipes.shared.SharedCount(c, f[3], 0);
                    sc.start();
                    sc.setCount(Integer.parseInt(f[4]));
                    sc.close();
                } finally {
                    c.close();
                }
                return "set";
            }
            case "quit": return "bye";
            default:
                if (f[0].startsWith("storm-")) return Storm.handle(f); // Storm.java: many sessions at once
                throw new IllegalArgumentException("unknown command " + f[0]);
        }
    }

    // connect waits for SyncConnected and, with SASL, for SaslAuthenticated; AuthFailed is an error.
    // With exists, the session then answers one exists("/") before the clock stops: a usable session.
    static String connect(String conn, int timeoutMs, boolean sasl, boolean exists) throws Exception {
        if (zk != null) { zk.close(); zk = null; }
        final CompletableFuture<String> ready = new CompletableFuture<>();
        final boolean[] connected = {false};
        long start = System.nanoTime();
        zk = new ZooKeeper(conn, timeoutMs, ev -> {
            switch (ev.getState()) {
                case SyncConnected: connected[0] = true; if (!sasl) ready.complete("connected"); break;
                case SaslAuthenticated: ready.complete("authenticated"); break;
                case AuthFailed: ready.completeExceptionally(new KeeperException.AuthFailedException()); break;
                default: break;
            }
        });
        try {
            ready.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
            throw e;
        } catch (TimeoutException e) {
            throw new TimeoutException("no " + (sasl ? "SaslAuthenticated" : "SyncConnected") + " within " + timeoutMs + " ms (connected: " + connected[0] + ")");
        }
        if (exists) zk.exists("/", false);
        long elapsed = System.nanoTime() - start;
        return "0x" + Long.toHexString(zk.getSessionId()) + " " + elapsed;
    }

    // curatorBuilder is a CuratorFramework as Flink's ZooKeeperUtils builds one; creator gives every node
    // ZooDefs.Ids.CREATOR_ALL_ACL, as Flink's SecureAclProvider does for high-availability.zookeeper.client.acl: creator.
    static CuratorFrameworkFactory.Builder curatorBuilder(String connect, String namespace, int sessionMs, boolean creator) {
        CuratorFrameworkFactory.Builder b = CuratorFrameworkFactory.builder().connectString(connect).namespace(namespace)
            .sessionTimeoutMs(sessionMs).connectionTimeoutMs(10000).retryPolicy(new ExponentialBackoffRetry(100, 5));
        if (creator) {
            b.aclProvider(new org.apache.curator.framework.api.ACLProvider() {
                public List<ACL> getDefaultAcl() { return ZooDefs.Ids.CREATOR_ALL_ACL; }
                public List<ACL> getAclForPath(String path) { return ZooDefs.Ids.CREATOR_ALL_ACL; }
            });
        }
        return b;
    }

    static void startLatch(int i) throws Exception {
        LeaderLatch l = new LeaderLatch(curators.get(i), latchPath, "curator-" + i);
        l.addListener(new LeaderLatchListener() {
            public void isLeader() { record(i, "lead"); leaderChanged.countDown(); }
            public void notLeader() { record(i, "notlead"); }
        });
        l.start();
        latches.set(i, l);
    }

    // Flink's ZooKeeperUtils: writeUTF(address) then writeObject(leaderSessionID).
    static byte[] encodeRecord(String address, UUID id) throws IOException {
        ByteArrayOutputStream baos = new ByteArrayOutputStream();
        ObjectOutputStream oos = new ObjectOutputStream(baos);
        oos.writeUTF(address);
        oos.writeObject(id);
        oos.close();
        return baos.toByteArray();
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(String.format("%02x", x));
        return s.length() == 0 ? "-" : s.toString();
    }

    static byte[] unhex(String h) {
        if (h.equals("-")) return new byte[0];
        byte[] b = new byte[h.length() / 2];
        for (int i = 0; i < b.length; i++) b[i] = (byte) Integer.parseInt(h.substring(2 * i, 2 * i + 2), 16);
        return b;
    }

    static List<ACL> acl(String spec) {
        switch (spec) {
            case "open": return ZooDefs.Ids.OPEN_ACL_UNSAFE;
            case "creator": return ZooDefs.Ids.CREATOR_ALL_ACL;
            case "read": return ZooDefs.Ids.READ_ACL_UNSAFE;
        }
        List<ACL> l = new ArrayList<>();
        for (String e : spec.split("\\|")) {
            int a = e.indexOf(':'), b = e.lastIndexOf(':');
            l.add(new ACL(parsePerms(e.substring(b + 1)), new Id(e.substring(0, a), dec(e.substring(a + 1, b)))));
        }
        return l;
    }

    static int parsePerms(String p) {
        int v = 0;
        for (char c : p.toCharArray()) {
            switch (c) {
                case 'c': v |= ZooDefs.Perms.CREATE; break;
                case 'd': v |= ZooDefs.Perms.DELETE; break;
                case 'r': v |= ZooDefs.Perms.READ; break;
                case 'w': v |= ZooDefs.Perms.WRITE; break;
                case 'a': v |= ZooDefs.Perms.ADMIN; break;
                default: throw new IllegalArgumentException("perm " + c);
            }
        }
        return v;
    }

    static String perms(int v) {
        StringBuilder s = new StringBuilder();
        if ((v & ZooDefs.Perms.CREATE) != 0) s.append('c');
        if ((v & ZooDefs.Perms.DELETE) != 0) s.append('d');
        if ((v & ZooDefs.Perms.READ) != 0) s.append('r');
        if ((v & ZooDefs.Perms.WRITE) != 0) s.append('w');
        if ((v & ZooDefs.Perms.ADMIN) != 0) s.append('a');
        return s.toString();
    }
}
