// Package tlsprobe gives preflight (zk-secure-check) what it needs to inspect a server's
// certificate chain with the settings of a *zktls.Client, without making it part of zktls's public
// API: a configuration that does not verify, and the checks that are otherwise run inside the
// handshake, one by one.
package tlsprobe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"
)

// Prober is the inspection side of one *zktls.Client.
type Prober struct {
	// Config returns a *tls.Config with the client certificate but WITHOUT any verification, for
	// reading what a server presents; the chain is then judged with CheckTrust, CheckValidity and
	// CheckHostname. Never exchange data on such a connection.
	Config func() *tls.Config
	// Explain turns a handshake error with member into zktls's errors (ErrClientCertRequired,
	// ErrNotTLS, ...), as Dial does.
	Explain func(member string, err error) error
	// CheckTrust verifies only that chain (leaf first) leads to a trusted CA, whatever the dates.
	CheckTrust func(member string, chain []*x509.Certificate) error
	// CheckValidity reports the earliest expiry in chain, and an error wrapping zktls.ErrExpired
	// when a certificate is expired or not yet valid at now.
	CheckValidity func(member string, chain []*x509.Certificate, now time.Time) (earliest *x509.Certificate, err error)
	// CheckHostname verifies the names in leaf as ZooKeeper's Java client does for member;
	// remoteIP is the address connected to (nil: resolved from the host).
	CheckHostname func(member string, remoteIP net.IP, leaf *x509.Certificate) error
	// MatchHostname is CheckHostname saying which rule passed.
	MatchHostname func(ctx context.Context, member string, remoteIP net.IP, leaf *x509.Certificate) (HostnameMatch, error)
	// CheckRevocation checks the revocation of the chain's path to the trust store when CRL or
	// OCSP checking is configured, with one line per certificate (nil lines: checking is off).
	CheckRevocation func(ctx context.Context, member string, chain []*x509.Certificate, stapled []byte) ([]string, error)
}

// HostnameMatch says how a certificate's names were matched to a member.
type HostnameMatch struct {
	// Rule is the rule that passed: "ip-san", "dns-san", "reverse-dns", "common-name" or "off".
	Rule string
	// Description says it in words, with the rule set in use.
	Description string
	// Strict reports whether Go's strict rules accept the certificate too.
	Strict bool
	// ZooKeeperOnly, when Strict is false, says which ZooKeeper-only (or JDK-only) rule the
	// member passes by.
	ZooKeeperOnly string
}

// For returns the Prober of client, which must be a *zktls.Client (the parameter is untyped
// because zktls imports this package). Package zktls sets it when it is initialized, so it is
// set in every program that has a *zktls.Client.
var For func(client any) Prober
