package monitor_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/monitor"
	"github.com/zksecure/zksecure/preflight"
	"github.com/zksecure/zksecure/testenv"
)

var (
	kdc      *testenv.KDC
	pki      *testenv.PKI
	ensemble *testenv.ZooKeeper
	keytab   string
	soon     *testenv.Cert // the servers' certificate: it ends in 3 hours
	// The monitor under test, running every second, and the Prometheus server scraping it.
	mon      *monitor.Monitor
	metrics  string // host:port of its /metrics
	prom     *testenv.Prometheus
	stopMon  func()
	testEnv  *testenv.Shared
	promDone = func() {}
)

// One environment for the package: a KDC, a 3-member ZooKeeper ensemble with Kerberos and TLS whose
// certificate expires in 3 hours, a Monitor checking it every second and serving /metrics, and a
// real Prometheus server scraping that every second.
func TestMain(m *testing.M) {
	testEnv = testenv.NewShared(func(ctx context.Context, s *testenv.Shared) error {
		var err error
		if kdc, err = s.StartKDC(ctx, testenv.KDCOptions{Principals: []string{"zookeeper/localhost", "flink/jm1"}}); err != nil {
			return err
		}
		if keytab, err = kdc.Keytab(ctx, "flink/jm1"); err != nil {
			return err
		}
		if pki, err = s.NewPKI("pki"); err != nil {
			return err
		}
		if soon, err = pki.Issue("server-soon", testenv.CertOptions{CommonName: "zookeeper", OrganizationalUnit: "servers", Server: true,
			DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, NotAfter: time.Now().Add(3 * time.Hour)}); err != nil {
			return err
		}
		zks, err := s.StartZooKeepers(ctx, map[string]testenv.ZooKeeperOptions{"ha": {Members: 3,
			SASL: &testenv.SASLServer{KDC: kdc, Enforce: true, RemoveHostFromPrincipal: true}, TLS: &testenv.TLSServer{PKI: pki, Cert: soon}}})
		if err != nil {
			return err
		}
		ensemble = zks["ha"]
		mon = monitor.New(monitor.Options{Checks: checks(), Interval: time.Second})
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		metrics = ln.Addr().String()
		srv := &http.Server{Handler: mon.Handler(), ReadHeaderTimeout: 5 * time.Second}
		rctx, cancel := context.WithCancel(context.Background())
		served, ran := make(chan struct{}), make(chan struct{})
		go func() { defer close(served); srv.Serve(ln) }()
		go func() { defer close(ran); mon.Run(rctx) }()
		stopMon = func() { cancel(); srv.Close(); <-served; <-ran }
		if prom, err = testenv.StartPrometheus(ctx, testenv.PrometheusOptions{Dir: s.Dir + "/prometheus", Targets: []string{metrics}}); err != nil {
			return err
		}
		promDone = func() { prom.Close() }
		return nil
	})
	code := testEnv.Run(thenStop{m}) // the monitor and Prometheus stop before the servers do
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutine leak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// thenStop runs the tests, then stops the monitor and Prometheus.
type thenStop struct{ m *testing.M }

func (t thenStop) Run() int {
	code := t.m.Run()
	if stopMon != nil {
		stopMon()
	}
	promDone()
	return code
}

// checks are the preflight options of a JobManager flink/jm1 with creator ACLs, on the ensemble.
func checks() preflight.Options {
	return preflight.Options{Timeout: 20 * time.Second, Client: client.Config{
		Members: strings.Split(ensemble.SecureConnectString(), ","), ClusterID: "/monitored",
		TLS:  &zktls.Config{CAFile: pki.CAFile, CertFile: pki.Client.CertFile, KeyFile: pki.Client.EncryptedKeyFile, KeyPasswordFile: pki.Client.PasswordFile},
		SASL: client.SASLKerberos, ACL: acl.Creator(),
		Kerberos: sasl.Config{Login: sasl.Login{Principal: kdc.Principal("flink/jm1"), Keytab: keytab, Krb5Conf: kdc.Krb5Conf}},
	}}
}
