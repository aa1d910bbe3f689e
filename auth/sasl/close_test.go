package sasl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zksecure/zksecure/auth/sasl"
)

// A login whose caller gives up (its context ends while the KDC does not answer) keeps running in
// gokrb5 until the KDC times out; Close must wait for it rather than destroy the client under it.
// Under -race this failed before Close waited ("data race" between AffirmLogin and Destroy).
func TestCloseWaitsForAnAbandonedLogin(t *testing.T) {
	requireEnv(t)
	// A KDC that accepts TCP connections and never answers.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held sync.WaitGroup
	stop := make(chan struct{})
	held.Add(1)
	go func() {
		defer held.Done()
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	t.Cleanup(func() { close(stop); ln.Close(); held.Wait() })

	realm := mitEnv.kdc.Realm
	krb5 := filepath.Join(t.TempDir(), "krb5.conf")
	conf := fmt.Sprintf("[libdefaults]\n default_realm = %s\n udp_preference_limit = 1\n"+
		" default_tkt_enctypes = aes256-cts-hmac-sha1-96\n default_tgs_enctypes = aes256-cts-hmac-sha1-96\n"+
		"[realms]\n %s = {\n  kdc = %s\n }\n", realm, realm, ln.Addr())
	if err := os.WriteFile(krb5, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := keytabLogin(t, "client")
	cfg.Login.Krb5Conf = krb5
	cfg.KDCTimeout = 2 * time.Second
	a, err := sasl.New(cfg)
	if err != nil {
		t.Fatalf("sasl.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = a.Login(ctx)
	if !errors.Is(err, sasl.ErrKDCUnreachable) {
		t.Fatalf("Login against a silent KDC: %v, want ErrKDCUnreachable", err)
	}
	a.Close() // with the login still running in the background
}
