package acl

import "strings"

// PredictSASLID predicts the sasl id the servers give principal, from how they named this
// session: self is the session's own principal ("flink/jm1@EXAMPLE.COM") and selfID its sasl id
// ("flink@EXAMPLE.COM" when the servers strip the host). A principal without a realm takes self's.
// It is what a creator-only ACL holds for a JobManager that has not connected yet, e.g. to grant
// every JobManager of an HA setup access, or to tell whether they all get one identity.
func PredictSASLID(self, selfID, principal string) string {
	user, realm := splitPrincipal(self)
	stripHost := strings.Contains(user, "/") && !strings.Contains(strings.TrimSuffix(selfID, "@"+realm), "/")
	stripRealm := !strings.Contains(selfID, "@")
	u, rl := splitPrincipal(principal)
	if rl == "" {
		rl = realm
	}
	if stripHost {
		u, _, _ = strings.Cut(u, "/")
	}
	if stripRealm {
		return u
	}
	return u + "@" + rl
}

func splitPrincipal(p string) (user, realm string) {
	if i := strings.LastIndex(p, "@"); i >= 0 {
		return p[:i], p[i+1:]
	}
	return p, ""
}
