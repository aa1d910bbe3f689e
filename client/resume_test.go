package client_test

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/zksecure/zksecure/acl"
	"github.com/zksecure/zksecure/client"
	"github.com/zksecure/zksecure/testenv"
)

// A reconnection after the member was cut off resumes the TLS session (no full handshake), and
// the session keeps its x509 identity: the server takes it from the resumed session's client
// certificate.
func TestTLSResumptionKeepsTheX509Identity(t *testing.T) {
	requireEnv(t)
	ctx := context.Background()
	tc, err := tlsWith(pki.Client).Load()
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, zkMain.Members[0].SecureAddr())
	logs := newLogRecords()
	c := connect(t, client.Config{Members: []string{proxy.Addr}, TLSClient: tc, Root: "/resume", SessionTimeout: 10 * time.Second,
		Logger: slog.New(logs)})
	before, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(before, func(id acl.Identity) bool { return id.String() == "x509:"+pki.Client.Subject }) {
		t.Fatalf("Identities before the reconnection = %v, want the client certificate's x509 id", before)
	}
	ch, stop := c.States()
	defer stop()
	expect(t, ch, client.Connected, false)
	proxy.Block()
	expect(t, ch, client.Suspended, false)
	proxy.Unblock()
	expect(t, ch, client.Reconnected, false)
	if logs.find("TLS handshake", "resumed=true") == "" {
		t.Errorf("the reconnection did not resume the TLS session; handshakes: %q", logs.find("TLS handshake"))
	}
	after, err := c.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idStrings(after), idStrings(before)) {
		t.Errorf("Identities after the resumed handshake = %v, before = %v", after, before)
	}
}

func idStrings(ids []acl.Identity) []string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = id.String()
	}
	slices.Sort(s)
	return s
}
