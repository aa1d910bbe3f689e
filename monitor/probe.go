package monitor

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/zksecure/zksecure/auth/sasl"
	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/internal/tlsprobe"
	"github.com/zksecure/zksecure/version"
)

// MemberProbe is what one member measured: connect and SASL latency, the certificate's end.
type MemberProbe struct {
	Member string
	// Connect is the TCP connect time (zero when it failed).
	Connect time.Duration
	// CertSubject and CertNotAfter are the chain's certificate that expires first (zero without
	// TLS, or when no chain could be read).
	CertSubject  string
	CertNotAfter time.Time
	// SASL is the time to an authenticated session with this member alone (zero without Kerberos,
	// or when it failed).
	SASL time.Duration
}

// Probe is one run's measurements.
type Probe struct {
	Members []MemberProbe
	// Tickets are the Kerberos login's times and key versions (nil without Kerberos, or when the
	// configuration did not load); TicketsErr says why a login failed (the key versions may still be
	// set).
	Tickets    *sasl.Tickets
	TicketsErr error
}

// probe measures every member in parallel, and the Kerberos login. Failures leave the values zero:
// the checks say why.
func probe(ctx context.Context, cfg client.Config) Probe {
	var p Probe
	var tc *zktls.Client
	useTLS := cfg.Transport == client.TransportTLS || (cfg.Transport != client.TransportPlaintext && cfg.TLS != nil)
	if useTLS {
		c := zktls.Config{}
		if cfg.TLS != nil {
			c = *cfg.TLS
		}
		tc, _ = c.Load()
	}
	var a *sasl.Authenticator
	if cfg.SASL == client.SASLKerberos {
		kc := cfg.Kerberos
		if kc.Logger == nil {
			kc.Logger = cfg.Logger
		}
		if na, err := sasl.New(kc); err == nil {
			defer na.Close()
			if na.Login(ctx) == nil { // else no SASL latencies: the login check says why
				a = na
			}
		}
	}
	var members []string
	for _, m := range cfg.Members {
		if n, err := client.NormalizeMember(m); err == nil {
			members = append(members, n)
		}
	}
	p.Members = make([]MemberProbe, len(members))
	var wg sync.WaitGroup
	if cfg.SASL == client.SASLKerberos {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kc := cfg.Kerberos
			if kc.Logger == nil {
				kc.Logger = cfg.Logger
			}
			ta, err := sasl.New(kc) // its own: Tickets logs in anew
			if err != nil {
				p.TicketsErr = err
				return
			}
			defer ta.Close()
			t, err := ta.Tickets(ctx, members...)
			p.Tickets, p.TicketsErr = &t, err
		}()
	}
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Members[i] = probeMember(ctx, m, tc, useTLS, a)
		}()
	}
	wg.Wait()
	return p
}

func probeMember(ctx context.Context, m string, tc *zktls.Client, useTLS bool, a *sasl.Authenticator) MemberProbe {
	mp := MemberProbe{Member: m}
	d := net.Dialer{Timeout: 5 * time.Second}
	t0 := time.Now()
	c, err := d.DialContext(ctx, "tcp", m)
	if err != nil {
		return mp
	}
	mp.Connect = time.Since(t0)
	c.Close()
	var base zk.Dialer
	if useTLS {
		if tc == nil {
			return mp
		}
		det, _ := version.Detect(ctx, m, version.FromConfig(tlsprobe.For(tc).Config()))
		for _, cert := range det.Chain {
			if mp.CertNotAfter.IsZero() || cert.NotAfter.Before(mp.CertNotAfter) {
				mp.CertNotAfter, mp.CertSubject = cert.NotAfter, cert.Subject.String()
			}
		}
		base = tc.Dialer(nil)
	}
	if a != nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		if _, err := a.ServiceTicket(cctx, m); err != nil {
			return mp // the KDC's time is not the SASL exchange's
		}
		t0 := time.Now()
		conn, _, err := sasl.Connect(cctx, a, []string{m}, 10*time.Second, base)
		if err == nil {
			mp.SASL = time.Since(t0)
			conn.Close()
		}
	}
	return mp
}
