package probed

import (
	"testing"

	"go.uber.org/goleak"

	zktls "github.com/zksecure/zksecure/auth/tls"
	"github.com/zksecure/zksecure/version"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func tlsClient(t *testing.T) *zktls.Client {
	t.Helper()
	cl, err := zktls.Config{}.Load() // system roots, no client certificate: no files needed
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// A probe is recalled for its own member and TLS client only; a plaintext finding is not kept; a
// forgotten member is probed again.
func TestRememberRecallForget(t *testing.T) {
	a, b := tlsClient(t), tlsClient(t)
	v38, err := version.Parse("3.8.4")
	if err != nil {
		t.Fatal(err)
	}
	Remember(a, version.Member{Addr: "zk1:2281", Mode: version.TLS, Version: v38})
	Remember(a, version.Member{Addr: "zk2:2181", Mode: version.Plaintext})
	if d, ok := Recall(a, "zk1:2281"); !ok || d.Mode != version.TLS || d.Version != v38 {
		t.Fatalf("Recall(a, zk1) = %+v, %v", d, ok)
	}
	if _, ok := Recall(b, "zk1:2281"); ok {
		t.Fatal("another TLS client's probe was recalled")
	}
	if _, ok := Recall(a, "zk3:2281"); ok {
		t.Fatal("a member that was not probed has a probe")
	}
	if _, ok := Recall(a, "zk2:2181"); ok {
		t.Fatal("a plaintext finding was kept")
	}
	Forget(a, "zk1:2281")
	if _, ok := Recall(a, "zk1:2281"); ok {
		t.Fatal("a forgotten member is still recalled")
	}
}
