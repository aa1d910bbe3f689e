package monitor_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zksecure/zksecure/testenv"
)

// query polls an instant query until it returns at least n series (every 200ms, for at most 45s).
func query(t *testing.T, ctx context.Context, q string, n int) []testenv.Sample {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		got, err := prom.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus: %s returned %d series, want %d", q, len(got), n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func show(ss []testenv.Sample) string {
	var lines []string
	for _, s := range ss {
		var ls []string
		for k, v := range s.Labels {
			if k != "job" && k != "instance" {
				ls = append(ls, k+"="+fmt.Sprintf("%q", v))
			}
		}
		sort.Strings(ls)
		var vs []string
		for _, v := range s.Values {
			vs = append(vs, fmt.Sprintf("%g", v.Value))
		}
		lines = append(lines, s.Labels["__name__"]+"{"+strings.Join(ls, ",")+"} "+strings.Join(vs, " "))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// A real Prometheus scrapes the monitor (this test stops a member: it runs last, after
// monitor_test.go's): the checks' statuses, the certificate that ends in 3 hours
// as a warning and a falling gauge, the Kerberos and latency measurements; then a stopped member
// shows up as a failing check.
func TestPrometheusScrapes(t *testing.T) {
	testEnv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	members := strings.Split(ensemble.SecureConnectString(), ",")

	// Every member's tls-expiry warns, sasl passes.
	warn := query(t, ctx, `zksecure_check_status{check="tls-expiry",status="warn"} == 1`, 3)
	query(t, ctx, `zksecure_check_status{check="sasl",status="pass"} == 1`, 3)
	t.Logf("tls-expiry warnings:\n%s", show(warn))

	// The certificate's remaining time falls from scrape to scrape, under 3 hours.
	query(t, ctx, `count_over_time(zksecure_tls_certificate_expires_in_seconds[30s]) >= 3`, 3)
	end := time.Now()
	rng, err := prom.QueryRange(ctx, "zksecure_tls_certificate_expires_in_seconds", end.Add(-4*time.Second), end, time.Second)
	if err != nil || len(rng) != 3 {
		t.Fatalf("range query: %d series, %v", len(rng), err)
	}
	t.Logf("zksecure_tls_certificate_expires_in_seconds over 4s:\n%s", show(rng))
	for _, s := range rng {
		if len(s.Values) < 3 {
			t.Fatalf("%v: %d points", s.Labels, len(s.Values))
		}
		for i := 1; i < len(s.Values); i++ {
			if s.Values[i].Value >= s.Values[i-1].Value {
				t.Errorf("%s: the remaining time did not fall: %v", s.Labels["member"], s.Values)
			}
		}
		if v := s.Values[len(s.Values)-1].Value; v <= 0 || v > 3*3600 || s.Labels["subject"] != "CN=zookeeper,OU=servers,O=zksecure" {
			t.Errorf("%v: %g seconds left", s.Labels, v)
		}
	}
	na := query(t, ctx, "zksecure_tls_certificate_not_after_timestamp_seconds", 3)
	if na[0].Values[0].Value != float64(soon.NotAfter.Unix()) {
		t.Errorf("not-after %g, want %d", na[0].Values[0].Value, soon.NotAfter.Unix())
	}

	// Kerberos: a TGT and a service ticket per member in the future, keytab and KDC at the same
	// key version; latencies per member.
	krb := query(t, ctx, `{__name__=~"zksecure_kerberos_.*"}`, 1+1+1+3)
	t.Logf("Kerberos series:\n%s", show(krb))
	query(t, ctx, `zksecure_kerberos_keytab_kvno == on(principal) zksecure_kerberos_kdc_kvno`, 1)
	query(t, ctx, `zksecure_kerberos_tgt_end_timestamp_seconds > time()`, 1)
	query(t, ctx, `zksecure_kerberos_service_ticket_end_timestamp_seconds > time()`, 3)
	query(t, ctx, `zksecure_sasl_duration_seconds > 0`, 3)
	query(t, ctx, `zksecure_connect_duration_seconds > 0`, 3)
	query(t, ctx, `zksecure_last_run_success == 1`, 1)

	// A member stops: its tcp check fails, the run is no longer a success.
	stopped := ensemble.Members[2]
	if err := stopped.Stop(); err != nil {
		t.Fatal(err)
	}
	failing := query(t, ctx, fmt.Sprintf(`zksecure_check_status{check="tcp",member=%q,status="fail"} == 1`, members[2]), 1)
	t.Logf("after stopping %s:\n%s", members[2], show(failing))
	query(t, ctx, `zksecure_last_run_success == 0`, 1)
	if ok := query(t, ctx, `zksecure_check_status{check="tcp",status="pass"} == 1`, 2); len(ok) != 2 {
		t.Errorf("the other members' tcp checks: %s", show(ok))
	}
}
