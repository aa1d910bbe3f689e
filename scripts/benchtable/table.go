package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// metric names one reported value: the package (path suffix), the benchmark with its
// sub-benchmark path (no -GOMAXPROCS suffix) and the unit given to b.ReportMetric.
type metric struct{ pkg, bench, unit string }

// row is one figure of the table. The ratio is ratioOf when the benchmark reports one per run;
// otherwise other ÷ ours (or ours ÷ other when inverse), run by run.
type row struct {
	figure    string
	ours      metric
	other     metric
	otherName string // who other is: "Java client", "Curator", "raw go-zookeeper", ...
	ratioOf   metric
	ratioName string // what the ratio is: "Java ÷ zksecure", ...
	inverse   bool
	goal      string
}

// javaWarm and javaCold say how the Java client is timed in the connect rows.
const (
	javaWarm = "Java 3.8 client, fresh ZooKeeper + own keytab login, timed in a warm JVM"
	javaCold = "a cold java process, Java 3.8 client"
)

// table is the summary, figure by figure (issue 14's goals and the README's performance table).
var table = []row{
	{figure: "connect to a usable session, plaintext (p50 ms)", ours: metric{"client", "BenchmarkConnect/plaintext", "p50-ms"},
		other: metric{"client", "BenchmarkConnect/plaintext", "java-p50-ms"}, otherName: javaWarm,
		ratioOf: metric{"client", "BenchmarkConnect/plaintext", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "connect to a usable session, Kerberos SASL (p50 ms)", ours: metric{"client", "BenchmarkConnect/sasl", "p50-ms"},
		other: metric{"client", "BenchmarkConnect/sasl", "java-p50-ms"}, otherName: javaWarm,
		ratioOf: metric{"client", "BenchmarkConnect/sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure", goal: "≥ 3×"},
	{figure: "connect to a usable session, TLS (p50 ms)", ours: metric{"client", "BenchmarkConnect/tls", "p50-ms"},
		other: metric{"client", "BenchmarkConnect/tls", "java-p50-ms"}, otherName: javaWarm,
		ratioOf: metric{"client", "BenchmarkConnect/tls", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "connect to a usable session, TLS + SASL, vs the Java client (p50 ms)", ours: metric{"client", "BenchmarkConnect/tls-sasl", "p50-ms"},
		other: metric{"client", "BenchmarkConnect/tls-sasl", "java-p50-ms"}, otherName: javaWarm,
		ratioOf: metric{"client", "BenchmarkConnect/tls-sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure", goal: "≥ 4×"},
	{figure: "connect to a usable session, TLS + SASL (p50 ms)", ours: metric{"client", "BenchmarkConnect/tls-sasl", "p50-ms"},
		other: metric{"client", "BenchmarkConnect/sasl", "p50-ms"}, otherName: "SASL without TLS", goal: "≤ SASL + 6 ms"},
	{figure: "connect, TLS + SASL with ready credentials (p50 ms)", ours: metric{"client", "BenchmarkConnect/tls-sasl-ready", "p50-ms"}},
	{figure: "SASL session, inner path with a cached ticket (p50 ms)", ours: metric{"auth/sasl", "BenchmarkConnect/sasl", "p50-ms"},
		other: metric{"auth/sasl", "BenchmarkConnect/plain", "p50-ms"}, otherName: "plain session", goal: "≤ plain + 2 ms"},
	{figure: "ConnectRequest → ConnectResponse right after a resumed TLS handshake (p50 ms)", ours: metric{"client", "BenchmarkConnectResponseAfterHandshake", "resumed-response-ms"},
		other: metric{"client", "BenchmarkConnectResponseAfterHandshake", "resumed-late-response-ms"}, otherName: "sent 30 ms after the handshake", ratioName: "at once ÷ later", inverse: true},
	{figure: "ConnectRequest → ConnectResponse after plain TCP (p50 ms)", ours: metric{"client", "BenchmarkConnectResponseAfterHandshake", "plain-response-ms"}},

	{figure: "cold process: connect, Exists, Close, exec → exit, plaintext (p50 ms)", ours: metric{"client", "BenchmarkColdConnect/plaintext", "p50-ms"},
		other: metric{"client", "BenchmarkColdConnect/plaintext", "java-p50-ms"}, otherName: javaCold,
		ratioOf: metric{"client", "BenchmarkColdConnect/plaintext", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "cold process: connect, Exists, Close, exec → exit, Kerberos SASL (p50 ms)", ours: metric{"client", "BenchmarkColdConnect/sasl", "p50-ms"},
		other: metric{"client", "BenchmarkColdConnect/sasl", "java-p50-ms"}, otherName: javaCold,
		ratioOf: metric{"client", "BenchmarkColdConnect/sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "cold process: connect, Exists, Close, exec → exit, TLS + SASL (p50 ms)", ours: metric{"client", "BenchmarkColdConnect/tls-sasl", "p50-ms"},
		other: metric{"client", "BenchmarkColdConnect/tls-sasl", "java-p50-ms"}, otherName: javaCold,
		ratioOf: metric{"client", "BenchmarkColdConnect/tls-sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "cold process, TLS + SASL: peak resident set (MiB)", ours: metric{"client", "BenchmarkColdConnect/tls-sasl", "maxrss-MiB"},
		other: metric{"client", "BenchmarkColdConnect/tls-sasl", "java-maxrss-MiB"}, otherName: javaCold, ratioName: "Java ÷ zksecure"},
	{figure: "member lost → TLS + SASL session re-authenticated and usable, TLS session resumed (p50 ms)", ours: metric{"client", "BenchmarkReconnectResumption", "resumed-p50-ms"},
		other: metric{"client", "BenchmarkReconnectResumption", "full-p50-ms"}, otherName: "full handshake, no session cache",
		ratioOf: metric{"client", "BenchmarkReconnectResumption", "resumed/full-p50"}, ratioName: "resumed ÷ full"},
	{figure: "member lost → reconnected: the TLS dial (TCP + handshake), resumed (p50 ms)", ours: metric{"client", "BenchmarkReconnectResumption", "resumed-dial-p50-ms"},
		other: metric{"client", "BenchmarkReconnectResumption", "full-dial-p50-ms"}, otherName: "full handshake", ratioName: "resumed ÷ full", inverse: true},
	{figure: "member lost → reconnected: share of handshakes resumed", ours: metric{"client", "BenchmarkReconnectResumption", "resumed-share"},
		other: metric{"client", "BenchmarkReconnectResumption", "full-resumed-share"}, otherName: "without the session cache", goal: "1 (0 without)"},

	{figure: "reconnect storm, SASL: every affected session usable again (p100 ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/sasl", "zksecure-p100-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java-p100-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java/zksecure-p100"}, ratioName: "Java ÷ zksecure"},
	{figure: "reconnect storm, SASL: affected sessions usable again (p50 ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/sasl", "zksecure-p50-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java-p50-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "reconnect storm, SASL: KDC requests during the storm", ours: metric{"hatest", "BenchmarkReconnectStorm/sasl", "zksecure-kdc-requests"},
		other: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java-kdc-requests"}, otherName: "Java client", goal: "0"},
	{figure: "reconnect storm, SASL: client CPU time (ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/sasl", "zksecure-cpu-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java-cpu-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/sasl", "java/zksecure-cpu"}, ratioName: "Java ÷ zksecure"},
	{figure: "reconnect storm, TLS + SASL: every affected session usable again (p100 ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-p100-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java-p100-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java/zksecure-p100"}, ratioName: "Java ÷ zksecure"},
	{figure: "reconnect storm, TLS + SASL: affected sessions usable again (p50 ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-p50-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java-p50-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java/zksecure-p50"}, ratioName: "Java ÷ zksecure"},
	{figure: "reconnect storm, TLS + SASL: KDC requests during the storm", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-kdc-requests"},
		other: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java-kdc-requests"}, otherName: "Java client", goal: "0"},
	{figure: "reconnect storm, TLS + SASL: client CPU time (ms)", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-cpu-ms"},
		other: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java-cpu-ms"}, otherName: "Java client",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java/zksecure-cpu"}, ratioName: "Java ÷ zksecure"},
	{figure: "200 idle TLS + SASL sessions in one process: resident set (MiB)", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-rss-MiB"},
		other: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java-rss-MiB"}, otherName: "Java client (one JVM)",
		ratioOf: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "java/zksecure-rss"}, ratioName: "Java ÷ zksecure"},
	{figure: "200 idle TLS + SASL sessions in one process: Go heap in use (MiB)", ours: metric{"hatest", "BenchmarkReconnectStorm/tls+sasl", "zksecure-heap-MiB"}},

	{figure: "full zk-secure-check, 3 members, Kerberos + TLS, as a process (p50 ms)", ours: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "check-p50-ms"},
		other: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "zkcli-p50-ms"}, otherName: "one zkCli ls /",
		ratioOf: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "zkcli/check"}, ratioName: "zkCli ÷ check", goal: "≤ 100 ms; ≥ 10×"},
	{figure: "full zk-secure-check: peak resident set (MiB)", ours: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "check-maxrss-MiB"}, goal: "≤ 20 MiB"},
	{figure: "full zk-secure-check: CPU time of the three servers during a run (p50 ms)", ours: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "check-servers-cpu-ms"},
		other: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "check-cpu-ms"}, otherName: "the checker's own CPU time"},
	{figure: "full zk-secure-check: sessions / TLS connections the servers see per run", ours: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "srv-sessions"},
		other: metric{"cmd/zk-secure-check", "BenchmarkFullCheck", "srv-tls-conns"}, otherName: "TLS connections"},

	{figure: "get: client ÷ raw go-zookeeper throughput", ours: metric{"client", "BenchmarkWrapperOverhead/get", "client-p50-µs"},
		other: metric{"client", "BenchmarkWrapperOverhead/get", "raw-p50-µs"}, otherName: "raw go-zookeeper (p50 µs)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/get", "client/raw-throughput"}, ratioName: "client ÷ raw", goal: "≥ 0.97"},
	{figure: "set: client ÷ raw go-zookeeper throughput", ours: metric{"client", "BenchmarkWrapperOverhead/set", "client-p50-µs"},
		other: metric{"client", "BenchmarkWrapperOverhead/set", "raw-p50-µs"}, otherName: "raw go-zookeeper (p50 µs)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/set", "client/raw-throughput"}, ratioName: "client ÷ raw", goal: "≥ 0.97"},
	{figure: "create: client ÷ raw go-zookeeper throughput", ours: metric{"client", "BenchmarkWrapperOverhead/create", "client-p50-µs"},
		other: metric{"client", "BenchmarkWrapperOverhead/create", "raw-p50-µs"}, otherName: "raw go-zookeeper (p50 µs)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/create", "client/raw-throughput"}, ratioName: "client ÷ raw", goal: "≥ 0.97"},
	{figure: "get: client ÷ raw go-zookeeper throughput, context that cannot end (no hand-off to a worker)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/get", "client-no-deadline/raw-throughput"}, ratioName: "client ÷ raw"},
	{figure: "set: client ÷ raw go-zookeeper throughput, context that cannot end (no hand-off to a worker)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/set", "client-no-deadline/raw-throughput"}, ratioName: "client ÷ raw"},
	{figure: "create: client ÷ raw go-zookeeper throughput, context that cannot end (no hand-off to a worker)",
		ratioOf: metric{"client", "BenchmarkWrapperOverhead/create", "client-no-deadline/raw-throughput"}, ratioName: "client ÷ raw"},

	{figure: "resign → new leader, 5 contenders, SASL (p50 ms)", ours: metric{"election", "BenchmarkResignToNewLeader", "p50-ms"},
		other: metric{"election", "BenchmarkResignToNewLeader", "curator-p50-ms"}, otherName: "Curator",
		ratioOf: metric{"election", "BenchmarkResignToNewLeader", "go/curator-p50"}, ratioName: "zksecure ÷ Curator", inverse: true, goal: "≤ 0.5×"},
	{figure: "resign → new leader (p99 ms)", ours: metric{"election", "BenchmarkResignToNewLeader", "p99-ms"},
		other: metric{"election", "BenchmarkResignToNewLeader", "curator-p99-ms"}, otherName: "Curator", goal: "≤ 3 ms"},
	{figure: "leader closes its client → next contender leads (p50 ms)", ours: metric{"election", "BenchmarkCloseToNewLeader", "p50-ms"}, goal: "≤ 5 ms"},
	{figure: "watch notifications per leadership change, 50 contenders", ours: metric{"election", "BenchmarkWatchNotifications", "notifications/change"}, goal: "2 (no herd)"},
	{figure: "crash failover ÷ session timeout", ours: metric{"election", "BenchmarkCrashFailover", "failover/session-timeout"}},

	{figure: "failover: leader process killed (s)", ours: metric{"hatest", "BenchmarkFailover/leader-process-crash", "zksecure-s"},
		other: metric{"hatest", "BenchmarkFailover/leader-process-crash", "curator-s"}, otherName: "Curator",
		ratioOf: metric{"hatest", "BenchmarkFailover/leader-process-crash", "curator/zksecure"}, ratioName: "Curator ÷ zksecure"},
	{figure: "failover: leader process isolated (s)", ours: metric{"hatest", "BenchmarkFailover/leader-isolated", "zksecure-s"},
		other: metric{"hatest", "BenchmarkFailover/leader-isolated", "curator-s"}, otherName: "Curator",
		ratioOf: metric{"hatest", "BenchmarkFailover/leader-isolated", "curator/zksecure"}, ratioName: "Curator ÷ zksecure"},
	{figure: "failover: ZooKeeper leader frozen (s)", ours: metric{"hatest", "BenchmarkFailover/zk-leader-frozen", "zksecure-s"},
		other: metric{"hatest", "BenchmarkFailover/zk-leader-frozen", "curator-s"}, otherName: "Curator",
		ratioOf: metric{"hatest", "BenchmarkFailover/zk-leader-frozen", "curator/zksecure"}, ratioName: "Curator ÷ zksecure"},
	{figure: "failover: quorum lost, from its return (s)", ours: metric{"hatest", "BenchmarkFailover/quorum-loss-and-return", "zksecure-s"},
		other: metric{"hatest", "BenchmarkFailover/quorum-loss-and-return", "curator-s"}, otherName: "Curator",
		ratioOf: metric{"hatest", "BenchmarkFailover/quorum-loss-and-return", "curator/zksecure"}, ratioName: "Curator ÷ zksecure"},
	{figure: "failover: rolling restart, from its start (s)", ours: metric{"hatest", "BenchmarkFailover/rolling-restart", "zksecure-s"},
		other: metric{"hatest", "BenchmarkFailover/rolling-restart", "curator-s"}, otherName: "Curator",
		ratioOf: metric{"hatest", "BenchmarkFailover/rolling-restart", "curator/zksecure"}, ratioName: "Curator ÷ zksecure"},
}

// write prints the table: medians over the runs, and the ratio's median with every run's ratio.
func write(w io.Writer, rows []row, res results) {
	fmt.Fprintln(w, "| figure | zksecure | Java / Curator / baseline | ratio (median; per run) | goal |")
	fmt.Fprintln(w, "| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		ours, other := res.values(r.ours), res.values(r.other)
		otherCell := "—"
		if len(other) > 0 {
			otherCell = fmtNum(median(other))
			if r.otherName != "" {
				otherCell += " (" + r.otherName + ")"
			}
		} else if r.otherName != "" {
			otherCell = "— (" + r.otherName + ": not run)"
		}
		ratios := res.values(r.ratioOf)
		if len(ratios) == 0 && r.ratioName != "" && len(ours) > 0 && len(ours) == len(other) {
			for i := range ours {
				a, b := other[i], ours[i]
				if r.inverse {
					a, b = b, a
				}
				if b != 0 {
					ratios = append(ratios, a/b)
				}
			}
		}
		ratioCell := "—"
		if len(ratios) > 0 {
			per := make([]string, len(ratios))
			for i, v := range ratios {
				per[i] = strconv.FormatFloat(v, 'f', 2, 64)
			}
			ratioCell = fmt.Sprintf("%s %s (%s)", strconv.FormatFloat(median(ratios), 'f', 2, 64), r.ratioName, strings.Join(per, ", "))
		}
		oursCell := "—"
		if len(ours) > 0 {
			oursCell = fmtNum(median(ours))
			if len(ours) > 1 {
				oursCell += fmt.Sprintf(" (%d runs)", len(ours))
			}
		}
		goal := r.goal
		if goal == "" {
			goal = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.figure, oursCell, otherCell, ratioCell, goal)
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// fmtNum prints 3 significant digits at most, without a trailing ".0".
func fmtNum(v float64) string {
	switch {
	case v >= 100 || v == float64(int64(v)):
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func parseFloat(s string) (float64, error) { return strconv.ParseFloat(s, 64) }

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
