package monitor

import (
	"io"
	"time"

	"github.com/zksecure/zksecure/preflight"
)

// The metrics, all prefixed zksecure_. Timestamps are Unix seconds; a gauge "..._expires_in_seconds"
// is computed at scrape time, so it falls between runs as the deadline nears.
var (
	descCheck = newDesc("zksecure_check_status",
		"1 for the status a check had in the last run (one series per check, member and status: pass, warn, fail, skip); member is empty for checks of the whole configuration.",
		[]string{"check", "member", "status"})
	descChecks = newDesc("zksecure_checks",
		"Number of checks per status in the last run.", []string{"status"})
	descLastRun = newDesc("zksecure_last_run_timestamp_seconds",
		"When the last run started.", nil)
	descDuration = newDesc("zksecure_last_run_duration_seconds",
		"How long the last run's checks took.", nil)
	descSuccess = newDesc("zksecure_last_run_success",
		"1 when no check failed in the last run (warnings allowed), else 0.", nil)
	descRuns    = &desc{name: "zksecure_runs_total", help: "Runs completed since the start.", typ: counterType}
	descConnect = newDesc("zksecure_connect_duration_seconds",
		"TCP connect time to the member in the last run (absent when it failed).", []string{"member"})
	descSASL = newDesc("zksecure_sasl_duration_seconds",
		"Time to an authenticated session (connect, TLS, SASL exchange) with the member alone in the last run (absent when it failed).", []string{"member"})
	descCertNotAfter = newDesc("zksecure_tls_certificate_not_after_timestamp_seconds",
		"End of validity of the member's certificate chain (its first-expiring certificate).", []string{"member", "subject"})
	descCertExpiresIn = newDesc("zksecure_tls_certificate_expires_in_seconds",
		"Seconds until the member's first-expiring certificate ends (negative once expired).", []string{"member", "subject"})
	descTGTEnd = newDesc("zksecure_kerberos_tgt_end_timestamp_seconds",
		"End time of the ticket-granting ticket: a fresh one from the keytab, or the ticket cache's.", []string{"principal"})
	descTGTExpiresIn = newDesc("zksecure_kerberos_tgt_expires_in_seconds",
		"Seconds until that TGT ends.", []string{"principal"})
	descTicketEnd = newDesc("zksecure_kerberos_service_ticket_end_timestamp_seconds",
		"End time of a fresh service ticket for the member.", []string{"member", "service_principal"})
	descKeytabKVNO = newDesc("zksecure_kerberos_keytab_kvno",
		"Highest key version the keytab holds for the principal.", []string{"principal"})
	descKDCKVNO = newDesc("zksecure_kerberos_kdc_kvno",
		"Key version the KDC used for the principal's login (absent when the KDC did not tell); a keytab_kvno below it means a stale keytab.", []string{"principal"})
)

var statuses = []preflight.Status{preflight.Pass, preflight.Warn, preflight.Fail, preflight.Skip}

// gatherer writes a Monitor's metrics: the zksecure_* ones of its latest snapshot, and with self
// the exporter's own go_* and process_*.
type gatherer struct {
	m    *Monitor
	self bool
}

func (g gatherer) WriteMetrics(w io.Writer) error {
	var f families
	g.m.collect(&f)
	if g.self {
		addSelf(&f)
	}
	return f.write(w)
}

// collect adds the latest snapshot's metrics to f (none before the first run ends).
func (m *Monitor) collect(f *families) {
	s, runs := m.latest()
	if s == nil {
		return
	}
	now := time.Now()
	gauge := f.add
	seen := map[[2]string]bool{}
	for _, r := range s.Report.Checks {
		k := [2]string{r.Name, r.Member}
		if seen[k] { // a check reports once per member; keep the first should one ever repeat
			continue
		}
		seen[k] = true
		for _, st := range statuses {
			v := 0.0
			if r.Status == st {
				v = 1
			}
			gauge(descCheck, v, r.Name, r.Member, string(st))
		}
	}
	sum := s.Report.Summary
	for st, n := range map[preflight.Status]int{preflight.Pass: sum.Pass, preflight.Warn: sum.Warn, preflight.Fail: sum.Fail, preflight.Skip: sum.Skip} {
		gauge(descChecks, float64(n), string(st))
	}
	gauge(descLastRun, float64(s.Start.UnixMilli())/1e3)
	gauge(descDuration, s.Duration.Seconds())
	success := 1.0
	if s.Report.Failed() {
		success = 0
	}
	gauge(descSuccess, success)
	f.add(descRuns, float64(runs))
	for _, mp := range s.Probe.Members {
		if mp.Connect > 0 {
			gauge(descConnect, mp.Connect.Seconds(), mp.Member)
		}
		if mp.SASL > 0 {
			gauge(descSASL, mp.SASL.Seconds(), mp.Member)
		}
		if !mp.CertNotAfter.IsZero() {
			gauge(descCertNotAfter, float64(mp.CertNotAfter.Unix()), mp.Member, mp.CertSubject)
			gauge(descCertExpiresIn, mp.CertNotAfter.Sub(now).Seconds(), mp.Member, mp.CertSubject)
		}
	}
	if t := s.Probe.Tickets; t != nil {
		if !t.TGTEnd.IsZero() {
			gauge(descTGTEnd, float64(t.TGTEnd.Unix()), t.Principal)
			gauge(descTGTExpiresIn, t.TGTEnd.Sub(now).Seconds(), t.Principal)
		}
		if t.KeytabKVNO > 0 {
			gauge(descKeytabKVNO, float64(t.KeytabKVNO), t.Principal)
		}
		if t.KDCKVNO > 0 {
			gauge(descKDCKVNO, float64(t.KDCKVNO), t.Principal)
		}
		for _, st := range t.Services {
			if st.Err == nil && !st.End.IsZero() {
				gauge(descTicketEnd, float64(st.End.Unix()), st.Member, st.ServicePrincipal)
			}
		}
	}
}
