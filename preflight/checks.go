package preflight

// table is every check, in run and report order: what it needs, and how it runs (runner.go says
// how a table runs). The check functions live by concern: lint.go, kerberos.go, member.go,
// session.go.
var table = []check{
	{name: CheckConfigLint, run: lint},

	{name: CheckKrb5Conf, when: withSASL, run: one(krb5Conf)},
	{name: CheckKDCReach, when: withSASL, needs: []string{CheckKrb5Conf}, run: one(kdcReach)},
	{name: CheckClockSkew, when: withSASL, needs: []string{CheckKDCReach}, run: one(clockSkew)},
	{name: CheckLogin, when: withSASL, needs: []string{CheckKDCReach}, run: one(login)},

	{name: CheckDNS, perMember: true, run: one(dns)},
	{name: CheckTCP, perMember: true, needs: []string{CheckDNS}, run: one(tcp)},
	{name: CheckVersion, perMember: true, needs: []string{CheckTCP}, run: one(detectVersion)},
	// A refused client certificate fails version (nothing was detected) and is tls-chain's finding.
	{name: CheckTLSChain, perMember: true, when: withTLS, needs: []string{CheckVersion}, despite: certRefused, run: one(tlsChain)},
	// Expiry and names are judged on any chain the member presented, trusted or not.
	{name: CheckTLSExpiry, perMember: true, when: withTLS, needs: []string{CheckTLSChain}, despite: chainPresented, run: one(tlsExpiry)},
	{name: CheckTLSHostname, perMember: true, when: withTLS, needs: []string{CheckTLSChain}, despite: chainPresented, run: one(tlsHostname)},
	{name: CheckServicePrincipal, perMember: true, when: withSASL, run: one(servicePrincipal),
		needs: []string{CheckTLSChain, CheckTLSExpiry, CheckTLSHostname, CheckVersion, CheckKrb5Conf, CheckKDCReach, CheckLogin}},
	{name: CheckServiceTicket, perMember: true, when: withSASL, needs: []string{CheckServicePrincipal}, run: one(serviceTicket)},
	{name: CheckSASL, perMember: true, run: one(saslSession),
		needs: []string{CheckServiceTicket, CheckTLSChain, CheckTLSExpiry, CheckTLSHostname, CheckVersion}},

	// The session checks use one session on the members whose checks all passed, opened by identity.
	{name: CheckIdentity, needs: []string{CheckConfigLint, CheckKrb5Conf, CheckKDCReach, CheckLogin, CheckSASL}, run: one(identity)},
	{name: CheckIdentityConsistency, needs: []string{CheckIdentity}, despite: hasSession, run: one(identityConsistency)},
	{name: CheckACLAudit, needs: []string{CheckIdentity}, despite: hasSession, run: one(audit)},
	{name: CheckElection, needs: []string{CheckIdentity}, despite: hasSession, run: one(dryRunElection)},
	{name: CheckSessionTimeout, needs: []string{CheckIdentity}, despite: hasSession, run: one(sessionTimeout)},
}

func withSASL(r *run) bool { return r.sasl }
func withTLS(r *run) bool  { return r.useTLS }

func certRefused(_ *run, m *member) bool    { return m.refused != nil }
func chainPresented(_ *run, m *member) bool { return len(m.det.Chain) > 0 }
func hasSession(r *run, _ *member) bool     { return r.session != nil }

func checkNames(t []check) []string {
	names := make([]string, len(t))
	for i, c := range t {
		names[i] = c.name
	}
	return names
}
