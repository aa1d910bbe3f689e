// Storm: many ZooKeeper sessions in one JVM, for the reconnect-storm benchmark. ZkPeer hands it the
// storm-* commands; the replies follow ZkPeer's line protocol ("ok <result>" / "err ...").
//
//   storm-open <connect> <n> <sessionMs> <sasl|nosasl>  -> ok <elapsed ns>  (n sessions, 10 opening at a time; each
//                                                         waits for SyncConnected and, with SASL, for
//                                                         SaslAuthenticated, then exists(/) succeeds)
//   storm-where                                        -> ok <host:port>=<sessions>,...  (the member each session
//                                                         is connected to)
//   storm-arm                                          -> ok  (forget what happened so far: the storm starts)
//   storm-wait <timeoutMs> <n>                         -> ok <cpu ns> <expired> <µs,...>  (once at least n sessions
//                                                         lost their connection and each of them is usable again:
//                                                         re-authenticated and exists(/) answered — the unix µs of
//                                                         each; cpu ns is the process CPU time since storm-arm;
//                                                         expired counts sessions that had to start anew)
//   storm-stats                                        -> ok <rss KiB> <heap bytes in use after a GC> <cpu ns>
//   storm-close                                        -> ok (close every session)
import java.io.*;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;
import java.util.concurrent.*;

import org.apache.zookeeper.*;

final class Storm {
    private static final List<Session> sessions = new ArrayList<>();
    static final int OPENING = 10;
    private static long armCpu;

    static String handle(String[] f) throws Exception {
        switch (f[0]) {
            case "storm-open": return open(f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[4].equals("sasl"));
            case "storm-arm":
                for (Session s : sessions) s.arm();
                armCpu = cpuNanos();
                return "armed";
            case "storm-wait": return await(Long.parseLong(f[1]), Integer.parseInt(f[2]));
            case "storm-where": {
                Map<String, Integer> on = new TreeMap<>();
                for (Session s : sessions) on.merge(s.member(), 1, Integer::sum);
                StringBuilder b = new StringBuilder();
                for (Map.Entry<String, Integer> e : on.entrySet()) {
                    if (b.length() > 0) b.append(',');
                    b.append(e.getKey()).append('=').append(e.getValue());
                }
                return b.toString();
            }
            case "storm-stats": {
                System.gc();
                Runtime rt = Runtime.getRuntime();
                return rssKiB() + " " + (rt.totalMemory() - rt.freeMemory()) + " " + cpuNanos();
            }
            case "storm-close":
                for (Session s : sessions) s.zk.close();
                sessions.clear();
                return "closed";
            default: throw new IllegalArgumentException("unknown command " + f[0]);
        }
    }

    static String open(String connect, int n, int sessionMs, boolean sasl) throws Exception {
        long t0 = System.nanoTime();
        List<Session> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            opened.add(new Session(connect, sessionMs, sasl));
            // At most OPENING sessions connect (and log in) at once: a burst of hundreds of logins
            // overruns a KDC; the storm is what is measured.
            if (i >= OPENING) opened.get(i - OPENING).ready.handle((v, e) -> null).get(120, TimeUnit.SECONDS);
        }
        for (Session s : opened) {
            try {
                s.ready.get(120, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                for (Session o : opened) o.zk.close();
                if (e.getCause() instanceof Exception) throw (Exception) e.getCause();
                throw e;
            } catch (TimeoutException e) {
                for (Session o : opened) o.zk.close();
                throw new TimeoutException("session " + opened.indexOf(s) + " not ready within 120 s");
            }
        }
        sessions.addAll(opened);
        return Long.toString(System.nanoTime() - t0);
    }

    static String await(long timeoutMs, int want) throws Exception {
        long until = System.nanoTime() + timeoutMs * 1_000_000L;
        while (true) {
            int pending = 0, down = 0;
            for (Session s : sessions) {
                if (s.wentDown()) down++;
                if (s.wentDown() && s.usableAt() == 0) pending++;
            }
            if (down >= want && pending == 0) break;
            if (System.nanoTime() > until) {
                throw new TimeoutException(down + " of " + sessions.size() + " sessions lost their connection (" + want + " expected), " + pending + " of them not usable again within " + timeoutMs + " ms");
            }
            Thread.sleep(5);
        }
        long cpu = cpuNanos() - armCpu;
        StringBuilder at = new StringBuilder();
        int expired = 0;
        for (Session s : sessions) {
            if (!s.wentDown()) continue;
            if (at.length() > 0) at.append(',');
            at.append(s.usableAt());
            if (s.expired()) expired++;
        }
        return cpu + " " + expired + " " + at;
    }

    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"), StandardCharsets.UTF_8)) {
            if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return -1;
    }

    static long nowMicros() {
        java.time.Instant t = java.time.Instant.now();
        return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
    }

    // One session. Its watcher sees the connection states; after a lost connection, the session is usable
    // again once it is re-authenticated (SaslAuthenticated; SyncConnected without SASL) and exists(/) answers.
    static final class Session implements Watcher {
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        final boolean sasl;
        final ZooKeeper zk;
        private boolean down, expired;
        private long usable;

        Session(String connect, int sessionMs, boolean sasl) throws IOException {
            this.sasl = sasl;
            zk = new ZooKeeper(connect, sessionMs, this);
        }

        synchronized void arm() { down = false; expired = false; usable = 0; }
        synchronized long usableAt() { return usable; }
        synchronized boolean wentDown() { return down; }
        synchronized boolean expired() { return expired; }

        // member is the server the session is connected to, as host:port (from ZooKeeper.toString's
        // "remoteserver:host/ip:port"); "-" when not connected.
        String member() {
            String t = zk.toString();
            int i = t.indexOf("remoteserver:");
            if (i < 0) return "-";
            String r = t.substring(i + "remoteserver:".length()).split(" ")[0];
            int slash = r.indexOf('/'), colon = r.lastIndexOf(':');
            if (slash < 0 || colon < slash) return r;
            return r.substring(0, slash) + r.substring(colon);
        }

        public void process(WatchedEvent ev) {
            if (ev.getType() != Event.EventType.None) return;
            switch (ev.getState()) {
                case SyncConnected: if (!sasl) probe(); break;
                case SaslAuthenticated: probe(); break;
                case Disconnected: synchronized (this) { down = true; usable = 0; } break;
                case Expired: synchronized (this) { down = true; expired = true; } break;
                case AuthFailed: ready.completeExceptionally(new KeeperException.AuthFailedException()); break;
                default: break;
            }
        }

        private void probe() {
            zk.exists("/", false, (rc, path, ctx, stat) -> {
                if (rc != KeeperException.Code.OK.intValue()) return; // the next connection probes again
                synchronized (this) { if (down && usable == 0) usable = nowMicros(); }
                ready.complete(null);
            }, null);
        }
    }
}
