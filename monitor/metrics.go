package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zksecure/zksecure/preflight"
)

// The metrics, all prefixed zksecure_. Timestamps are Unix seconds; a gauge "..._expires_in_seconds"
// is computed at scrape time, so it falls between runs as the deadline nears.
var (
	descCheck = prometheus.NewDesc("zksecure_check_status",
		"1 for the status a check had in the last run (one series per check, member and status: pass, warn, fail, skip); member is empty for checks of the whole configuration.",
		[]string{"check", "member", "status"}, nil)
	descChecks = prometheus.NewDesc("zksecure_checks",
		"Number of checks per status in the last run.", []string{"status"}, nil)
	descLastRun = prometheus.NewDesc("zksecure_last_run_timestamp_seconds",
		"When the last run started.", nil, nil)
	descDuration = prometheus.NewDesc("zksecure_last_run_duration_seconds",
		"How long the last run's checks took.", nil, nil)
	descSuccess = prometheus.NewDesc("zksecure_last_run_success",
		"1 when no check failed in the last run (warnings allowed), else 0.", nil, nil)
	descRuns = prometheus.NewDesc("zksecure_runs_total",
		"Runs completed since the start.", nil, nil)
	descConnect = prometheus.NewDesc("zksecure_connect_duration_seconds",
		"TCP connect time to the member in the last run (absent when it failed).", []string{"member"}, nil)
	descSASL = prometheus.NewDesc("zksecure_sasl_duration_seconds",
		"Time to an authenticated session (connect, TLS, SASL exchange) with the member alone in the last run (absent when it failed).", []string{"member"}, nil)
	descCertNotAfter = prometheus.NewDesc("zksecure_tls_certificate_not_after_timestamp_seconds",
		"End of validity of the member's certificate chain (its first-expiring certificate).", []string{"member", "subject"}, nil)
	descCertExpiresIn = prometheus.NewDesc("zksecure_tls_certificate_expires_in_seconds",
		"Seconds until the member's first-expiring certificate ends (negative once expired).", []string{"member", "subject"}, nil)
	descTGTEnd = prometheus.NewDesc("zksecure_kerberos_tgt_end_timestamp_seconds",
		"End time of the ticket-granting ticket: a fresh one from the keytab, or the ticket cache's.", []string{"principal"}, nil)
	descTGTExpiresIn = prometheus.NewDesc("zksecure_kerberos_tgt_expires_in_seconds",
		"Seconds until that TGT ends.", []string{"principal"}, nil)
	descTicketEnd = prometheus.NewDesc("zksecure_kerberos_service_ticket_end_timestamp_seconds",
		"End time of a fresh service ticket for the member.", []string{"member", "service_principal"}, nil)
	descKeytabKVNO = prometheus.NewDesc("zksecure_kerberos_keytab_kvno",
		"Highest key version the keytab holds for the principal.", []string{"principal"}, nil)
	descKDCKVNO = prometheus.NewDesc("zksecure_kerberos_kdc_kvno",
		"Key version the KDC used for the principal's login (absent when the KDC did not tell); a keytab_kvno below it means a stale keytab.", []string{"principal"}, nil)
)

var statuses = []preflight.Status{preflight.Pass, preflight.Warn, preflight.Fail, preflight.Skip}

// collector exposes the latest snapshot of a Monitor.
type collector struct{ m *Monitor }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCheck, descChecks, descLastRun, descDuration, descSuccess, descRuns, descConnect, descSASL,
		descCertNotAfter, descCertExpiresIn, descTGTEnd, descTGTExpiresIn, descTicketEnd, descKeytabKVNO, descKDCKVNO} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s, runs := c.m.latest()
	if s == nil {
		return
	}
	now := time.Now()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
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
	ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, float64(runs))
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
